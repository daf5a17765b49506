"""The manifest: one line per detection, with a keyed fingerprint instead of the value.

Line 1 is a header naming the site key by its public key_id, so a manifest is never compared with
fingerprints made under another key. The audit matches synthetic text against these fingerprints
to count PII replay without holding any raw value.

Version 2 adds to each finding its `prefix`: a short keyed digest of the value's first letters and
digits (privacy/fingerprint.py `prefix`), which lets the audit skip fingerprinting candidates that
cannot match. It tells less than the fingerprint next to it. Version 1 manifests, without prefixes,
are still read; the audit then fingerprints every candidate.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from privacy.errors import BadInput, PolicyError
from privacy.fingerprint import PREFIX_CHARS, PREFIX_FORMAT, PREFIX_HEX_DIGITS, key_id
from privacy.records import JsonlWriter

VERSION = 2
READABLE_VERSIONS = (1, 2)  # version 1: findings without `prefix`
FINGERPRINT_METHOD = (
    f"hex HMAC-SHA256(site key, normalize(value)); prefix: the first {PREFIX_HEX_DIGITS} hex digits of "
    f"HMAC-SHA256(site key, 'airlock prefix v1' NUL + the first {PREFIX_CHARS} letters and digits of "
    "normalize(value))"
)


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
    prefix: str | None = None  # the prefix digest; required in a version 2 manifest, absent in version 1


_FIELD_TYPES = {f.name: f.type for f in fields(Finding) if f.name != "prefix"}
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
            if finding.prefix is None:  # a version 2 reader would refuse the line
                raise ValueError("a manifest finding needs its prefix digest")
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
    number = version = 0
    with path.open("rb") as lines:
        for number, raw in enumerate(lines, 1):
            try:
                entry = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise BadInput(f"{path.name}: line {number}: not valid JSON") from None
            if number == 1:
                version = _check_header(entry, path.name, site_key)
            else:
                findings.append(_finding(entry, path.name, number, version))
    if number == 0:
        raise BadInput(f"{path.name}: empty manifest")
    return findings


def _check_header(entry: Any, name: str, site_key: bytes) -> int:
    """The manifest's version, once the header is known to be one this reader reads, under this key."""
    header = entry.get("manifest") if isinstance(entry, dict) else None
    version = header.get("version") if isinstance(header, dict) else None
    if type(version) is not int or version not in READABLE_VERSIONS:
        readable = " or ".join(str(v) for v in READABLE_VERSIONS)
        raise BadInput(f"{name}: line 1: not an Airlock manifest header (version {readable})")
    if header.get("key_id") != key_id(site_key):
        raise PolicyError(f"{name}: manifest was made with another site key")
    return version


def _finding(entry: Any, name: str, number: int, version: int) -> Finding:
    expected = set(_FIELD_TYPES) | ({"prefix"} if version >= 2 else set())
    if not isinstance(entry, dict) or set(entry) != expected:
        raise BadInput(f"{name}: line {number}: not a version {version} manifest finding")
    for key, type_name in _FIELD_TYPES.items():
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, _PYTHON_TYPES[type_name]):
            raise BadInput(f"{name}: line {number}: field {key!r} has the wrong type")
    if "prefix" in entry and not (isinstance(entry["prefix"], str) and PREFIX_FORMAT.fullmatch(entry["prefix"])):
        raise BadInput(f"{name}: line {number}: field 'prefix' is not {PREFIX_HEX_DIGITS} lower-case hex digits")
    return Finding(**entry)
