"""The manifest: one line per detection, with a keyed fingerprint instead of the value.

Line 1 is a header naming the site key by its public key_id, so a manifest is never compared with
fingerprints made under another key. The audit matches synthetic text against these fingerprints
to count PII replay without holding any raw value.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from privacy.errors import BadInput, PolicyError
from privacy.fingerprint import key_id
from privacy.records import JsonlWriter

VERSION = 1
FINGERPRINT_METHOD = "hex HMAC-SHA256(site key, normalize(value))"


@dataclass(frozen=True)
class Finding:
    """One detection. start/end index the field's original text; the value itself is never kept."""

    record_id: str
    record_number: int
    field: str
    entity_type: str
    start: int
    end: int
    detector: str
    score: float
    operator: str
    fingerprint: str


_FIELD_TYPES = {f.name: f.type for f in fields(Finding)}
_PYTHON_TYPES = {"str": str, "int": int, "float": (int, float)}


def manifest_header(site_key: bytes) -> dict[str, Any]:
    return {"manifest": {"version": VERSION, "key_id": key_id(site_key), "fingerprint": FINGERPRINT_METHOD}}


class ManifestWriter(JsonlWriter):
    """Writes findings as they come; the file appears only when the block ends without error."""

    def __init__(self, path: str | Path, site_key: bytes):
        super().__init__(path, manifest_header(site_key))
        self.path = Path(path)
        self.count = 0

    def add(self, findings: Iterable[Finding]) -> None:
        for finding in findings:
            self.write_line(asdict(finding))
            self.count += 1


def read_manifest(path: str | Path, site_key: bytes) -> list[Finding]:
    """All findings of a manifest made under `site_key`.

    PolicyError if another site key made it; BadInput (naming the line) if it is malformed.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path.name}: no such manifest")
    findings: list[Finding] = []
    number = 0
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise BadInput(f"{path.name}: line {number}: not valid JSON") from None
            if number == 1:
                _check_header(entry, path.name, site_key)
            else:
                findings.append(_finding(entry, path.name, number))
    if number == 0:
        raise BadInput(f"{path.name}: empty manifest")
    return findings


def _check_header(entry: Any, name: str, site_key: bytes) -> None:
    header = entry.get("manifest") if isinstance(entry, dict) else None
    if not isinstance(header, dict) or header.get("version") != VERSION:
        raise BadInput(f"{name}: line 1: not an Airlock manifest header (version {VERSION})")
    if header.get("key_id") != key_id(site_key):
        raise PolicyError(f"{name}: manifest was made with another site key")


def _finding(entry: Any, name: str, number: int) -> Finding:
    if not isinstance(entry, dict) or set(entry) != set(_FIELD_TYPES):
        raise BadInput(f"{name}: line {number}: not a manifest finding")
    for key, type_name in _FIELD_TYPES.items():
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, _PYTHON_TYPES[type_name]):
            raise BadInput(f"{name}: line {number}: field {key!r} has the wrong type")
    return Finding(**entry)
