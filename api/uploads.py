"""Uploads at rest: AES-256-GCM under a fresh per-job key, itself wrapped under a key derived (HKDF)
from the site's vault secret for this purpose only.

The plaintext exists only in memory: while the request body is read and while the worker scrubs it.
Once the scrub is done the ciphertext is deleted and the wrapped key dropped (crypto-shredding).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privacy.errors import BadInput
from privacy.fingerprint import derive_key
from privacy.records import MAX_RECORD_BYTES, Record, read_records_from

_NONCE = 12


def _aad(job_id: str, purpose: str) -> bytes:
    return f"airlock:{purpose}:{job_id}".encode()


def _wrap_key(master_key: bytes) -> bytes:
    return derive_key(master_key, "upload-wrap", 32)


def seal_upload(data: bytes, path: Path, job_id: str, master_key: bytes) -> bytes:
    """Encrypt `data` to `path` (0600) under a new job key; return that key wrapped by a key derived
    from `master_key`."""
    job_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(_NONCE)
    ciphertext = AESGCM(job_key).encrypt(nonce, data, _aad(job_id, "upload"))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(nonce + ciphertext)
    wrap_nonce = os.urandom(_NONCE)
    return wrap_nonce + AESGCM(_wrap_key(master_key)).encrypt(wrap_nonce, job_key, _aad(job_id, "upload-key"))


def records_of(data: bytes, fmt: str, max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[Record]:
    """Records parsed from an in-memory JSONL or CSV dataset (errors name record numbers only)."""
    yield from read_records_from(io.BytesIO(data), fmt, max_record_bytes)


@dataclass
class EncryptedUpload:
    """A sealed upload as the pipeline's input: decrypted in memory, discarded after the scrub."""

    path: Path
    job_id: str
    wrapped_key: bytes
    master_key: bytes | Sequence[bytes]  # the vault key, or its ring (newest first) across a rotation
    fmt: str  # "jsonl" or "csv"

    @property
    def name(self) -> str:
        return f"upload.{self.fmt}"

    def _plaintext(self) -> bytes:
        if not self.path.is_file():
            raise BadInput("the upload was already discarded after scrubbing")
        try:
            job_key = self._unwrap()
            blob = self.path.read_bytes()
            return AESGCM(job_key).decrypt(blob[:_NONCE], blob[_NONCE:], _aad(self.job_id, "upload"))
        except InvalidTag:
            raise BadInput("the upload cannot be decrypted (wrong site key or a damaged file)") from None

    def _unwrap(self) -> bytes:
        """The job key. Uploads sealed before the key separation were wrapped with the raw vault key."""
        keys = [self.master_key] if isinstance(self.master_key, bytes) else list(self.master_key)
        nonce, sealed = self.wrapped_key[:_NONCE], self.wrapped_key[_NONCE:]
        for wrap in [_wrap_key(k) for k in keys] + keys:
            try:
                return AESGCM(wrap).decrypt(nonce, sealed, _aad(self.job_id, "upload-key"))
            except InvalidTag:
                continue
        raise InvalidTag

    def records(self, max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[Record]:
        n = 0
        for n, record in enumerate(records_of(self._plaintext(), self.fmt, max_record_bytes), 1):
            yield record
        if n == 0:
            raise BadInput(f"{self.name}: the upload holds no records")

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
