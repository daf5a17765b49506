"""Per-record seeds derived from the job seed, so any record of a job can be regenerated alone."""

from __future__ import annotations

import hashlib


def derive_seed(job_seed: int, *parts: object) -> int:
    """A 31-bit seed that depends only on the job seed and the parts (slot, attempt, purpose...)."""
    text = ":".join([str(job_seed), *map(str, parts)])
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") & 0x7FFFFFFF
