"""Keyed fingerprints of every candidate span of many records, fast enough for a million of them.

PII replay fingerprints each run of up to `max_ngram` whitespace-separated pieces of every record
(~200 per record). Three things make that affordable at scale, none of which changes a digest:
- `Fingerprinter` is `privacy.fingerprint.fingerprint` with HMAC-SHA256's inner and outer key
  states computed once (RFC 2104, section 4, "implementation note"), where `hmac.digest` sets up
  the key on every call; and with plain values (ASCII letters separated by single spaces) taken
  as their lower-case form, which is what `normalize` returns for them. Both shortcuts are checked
  against `privacy.fingerprint` on probes and on the first values of every audit, and are dropped
  for the audit if any digest differs (slower, never different).
- Records are scanned in chunks, so memory holds one chunk's distinct candidates.
- Above `PARALLEL_ABOVE` records, chunks are scanned by joblib worker processes on this machine;
  the key stays on it. Workers return only candidates whose digest's first 8 bytes are among the
  wanted digests', and the caller confirms each on the full digest.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from audit.text import pieces

CHUNK_RECORDS = 5_000
PARALLEL_ABOVE = 50_000
WORKERS = 2
_PLAIN = re.compile(r"[A-Za-z]+(?: [A-Za-z]+)*")
PROBES = ("a", "Zz", "Hello World", "refund", "JOHN SMITH", "x y z", "Ab Cd Ef Gh Ij Kl")

class Fingerprinter:
    """`privacy.fingerprint.fingerprint(key, value)` for many values (same hex digests)."""

    def __init__(self, key: bytes) -> None:
        block = hashlib.sha256().block_size
        padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
        self._key, self._shortcuts = key, True
        self.verify(PROBES)

    def verify(self, values) -> bool:
        """Compare with privacy.fingerprint on `values`; any difference drops the shortcuts."""
        from privacy.fingerprint import fingerprint

        if self._shortcuts and any(self(v) != fingerprint(self._key, v) for v in values):
            self._shortcuts = False
        return self._shortcuts

    def __call__(self, value: str) -> str:
        return self.digest(value).hex()

    def digest(self, value: str) -> bytes:
        from privacy.fingerprint import fingerprint, normalize

        if not self._shortcuts:
            return bytes.fromhex(fingerprint(self._key, value))
        plain = (value.isascii() and value[:1].isalpha() and value[-1:].isalpha() and "  " not in value
                 and value.replace(" ", "").isalpha())
        inner = self._inner.copy()
        inner.update((value.lower() if plain else normalize(value)).encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


def scan_texts(items: list, extra: list, max_ngram: int) -> tuple[dict, dict]:
    """The distinct candidates of `items` [(record index, field, text)], every run of up to
    `max_ngram` pieces, and of the detected spans in `extra` [(record index, field, start, end, text)]:
    (candidate → its first occurrence (record index, field, start, end), candidate → the other
    records it occurs in). Most candidates occur in one record, so most have no set of records."""
    first: dict[str, tuple[int, str, int, int]] = {}
    others: dict[str, set[int]] = {}
    for i, name, text in items:
        spans = pieces(text)
        for j, (start, _) in enumerate(spans):
            for _, end in spans[j : j + max_ngram]:
                if first.setdefault(text[start:end], (i, name, start, end))[0] != i:
                    others.setdefault(text[start:end], set()).add(i)
    for i, name, start, end, text in extra:
        if first.setdefault(text[start:end], (i, name, start, end))[0] != i:
            others.setdefault(text[start:end], set()).add(i)
    return first, others


def prefixes(digests: list[bytes]) -> np.ndarray:
    """The first 8 bytes of each digest as unsigned integers."""
    return np.frombuffer(b"".join(d[:8] for d in digests), dtype=np.uint64) if digests else np.zeros(0, np.uint64)


def scan_chunk(items: list, extra: list, max_ngram: int, key: bytes, wanted: np.ndarray) -> list:
    """[(candidate, hex digest, first occurrence, records)] of a chunk's candidates whose digest
    starts like a wanted one (`wanted`: sorted prefixes); run in a worker process."""
    fingerprinter = Fingerprinter(key)
    first, others = scan_texts(items, extra, max_ngram)
    fingerprinter.verify([c for c in list(first)[:1000] if _PLAIN.fullmatch(c)])
    digest = fingerprinter.digest
    digests = [digest(c) for c in first]
    hits = np.isin(prefixes(digests), wanted)
    return [(c, d.hex(), where, {where[0], *others.get(c, ())})
            for (c, where), d, hit in zip(first.items(), digests, hits) if hit]
