"""Keyed fingerprints of every candidate span of many records, fast enough for a million of them.

PII replay fingerprints each run of up to `max_ngram` whitespace-separated pieces of every record
(~200 per record). Three things make that affordable at scale, none of which changes a digest:
- `privacy.fingerprint.Fingerprinter` sets the HMAC key up once per chunk, not once per value.
- Records are scanned in chunks, so memory holds one chunk's distinct candidates.
- Above `PARALLEL_ABOVE` records, chunks are scanned by joblib worker processes on this machine;
  the key stays on it. Workers return only candidates whose digest's first 8 bytes are among the
  wanted digests', and the caller confirms each on the full digest.
"""

from __future__ import annotations

import numpy as np

from audit.text import pieces
from privacy.fingerprint import Fingerprinter

CHUNK_RECORDS = 5_000
PARALLEL_ABOVE = 50_000
WORKERS = 2

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
    first, others = scan_texts(items, extra, max_ngram)
    digest = Fingerprinter(key).digest
    digests = [digest(c) for c in first]
    hits = np.isin(prefixes(digests), wanted)
    return [(c, d.hex(), where, {where[0], *others.get(c, ())})
            for (c, where), d, hit in zip(first.items(), digests, hits) if hit]
