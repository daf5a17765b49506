"""The optional vault: raw values encrypted (AES-256-GCM) under the vault key, for authorized
re-identification. Without the vault key the file reveals nothing, not even the fingerprints.

Line 1 is a header naming the key by its key_id; every further line is one sealed entry
(fingerprint, entity type, operator, replacement, raw value), written once per distinct value
and replacement. A reader is given every vault key the site holds (newest first, rotated ones
after) and opens the file with the one its header names, so rotation never strands a vault.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.errors import BadInput, PolicyError
from privacy.fingerprint import key_id
from privacy.operators import decrypt_token
from privacy.operators.encrypt import TOKEN
from privacy.records import JsonlWriter

VERSION = 1
_AAD = b"airlock vault v1"
# Replacements that name one value: a placeholder, a keyed hash, a surrogate. Masks and redactions
# are not reversible by lookup; encrypted tokens are opened with the key itself.
REVERSIBLE_BY_LOOKUP = frozenset({"placeholder", "hash", "surrogate"})


@dataclass(frozen=True)
class VaultEntry:
    fingerprint: str
    entity_type: str
    operator: str
    replacement: str
    value: str

    def __repr__(self) -> str:  # a stray log line must not print the raw value
        return f"VaultEntry(fingerprint={self.fingerprint[:12]}…, entity_type={self.entity_type})"


class VaultWriter(JsonlWriter):
    """Appends sealed entries; the file appears only when the block ends without error."""

    def __init__(self, path: Path, key: bytes):
        super().__init__(path, {"vault": {"version": VERSION, "key_id": key_id(key), "cipher": "AES-256-GCM"}})
        self._aead = AESGCM(key)
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, entry: VaultEntry) -> None:
        key = (entry.entity_type, entry.fingerprint, entry.replacement)  # a surrogate keeps each format
        if key in self._seen:
            return
        self._seen.add(key)
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(asdict(entry)).encode("utf-8"), _AAD)
        self.write_line({"nonce": _b64(nonce), "sealed": _b64(sealed)})


class Vault:
    """A vault file and its keys: write one while scrubbing (the first key), read it to re-identify
    (the key its header names)."""

    def __init__(self, path: str | Path, keys: bytes | Sequence[bytes]):
        self.path = Path(path)
        self._keys = [keys] if isinstance(keys, bytes) else list(keys)
        if not self._keys:
            raise PolicyError("no vault key")

    def __repr__(self) -> str:
        return f"Vault({self.path.name!r})"

    def writer(self) -> VaultWriter:
        return VaultWriter(self.path, self._keys[0])

    def entries(self) -> Iterator[VaultEntry]:
        """Every entry; PolicyError if the key does not open the vault."""
        if not self.path.is_file():
            raise BadInput(f"{self.path.name}: no such vault")
        aead = None
        with self.path.open("rb") as lines:
            for number, raw in enumerate(lines, 1):
                try:
                    line = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    raise BadInput(f"{self.path.name}: line {number}: not valid JSON") from None
                if number == 1:
                    aead = AESGCM(self._header_key(line))
                    continue
                try:
                    plain = aead.decrypt(_unb64(line["nonce"]), _unb64(line["sealed"]), _AAD)
                except (InvalidTag, KeyError, TypeError, ValueError):
                    raise PolicyError(f"{self.path.name}: line {number}: does not open with this vault key") from None
                yield VaultEntry(**json.loads(plain))

    def lookup(self, fingerprint: str) -> list[VaultEntry]:
        return [entry for entry in self.entries() if entry.fingerprint == fingerprint]

    def reidentifier(self) -> Reidentifier:
        """Re-identifies scrubbed text; `enc:` tokens open with any of the vault keys."""
        return Reidentifier(list(self.entries()), self._keys)

    def _header_key(self, line: Any) -> bytes:
        """The vault key the header names, among the keys this reader holds."""
        header = line.get("vault") if isinstance(line, dict) else None
        if not isinstance(header, dict) or header.get("version") != VERSION:
            raise BadInput(f"{self.path.name}: line 1: not an Airlock vault header (version {VERSION})")
        named = next((key for key in self._keys if key_id(key) == header.get("key_id")), None)
        if named is None:
            raise PolicyError(f"{self.path.name}: the vault was made with another vault key")
        return named


class Reidentifier:
    """Puts raw values back into scrubbed text: placeholders, keyed hashes and surrogates by lookup,
    `enc:` tokens by decryption. `replaced` counts the values put back (for the audit log)."""

    def __init__(self, entries: list[VaultEntry], keys: bytes | Sequence[bytes]):
        self._keys = [keys] if isinstance(keys, bytes) else list(keys)
        self.replaced = 0
        self._values = {e.replacement: e.value for e in entries
                        if e.operator in REVERSIBLE_BY_LOOKUP and e.replacement}
        tokens = sorted(self._values, key=len, reverse=True)
        alternatives = [TOKEN.pattern] + [re.escape(t) for t in tokens]
        self._pattern = re.compile("|".join(alternatives))

    def text(self, text: str) -> str:
        return self._pattern.sub(self._replace, text)

    def value(self, value: Any) -> Any:
        """Re-identify every string inside a record value (objects and lists walked)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value

    def _replace(self, match: re.Match) -> str:
        token = match.group(0)
        if token.startswith("enc:"):
            self.replaced += 1
            return decrypt_token(self._keys, token)
        if token in self._values:
            self.replaced += 1
            return self._values[token]
        return token


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
