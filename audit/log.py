"""The audit log: append-only, each entry hash-chained to the one before it.

Entry n stores the hash of entry n-1 and its own hash, SHA-256 over the canonical JSON of its
sequence number, time, event, job id, details and the previous hash. Editing an entry breaks its
hash; deleting or reordering entries breaks the sequence or the chain. (Truncating the newest
entries leaves a valid shorter chain: compare `head()` with a copy kept elsewhere, e.g. in a signed
report, to detect that too.) Works on SQLite and PostgreSQL; the table lives on its own METADATA,
which api/'s Alembic migrations include.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

METADATA = MetaData()
GENESIS = "0" * 64
_APPEND_ATTEMPTS = 20

audit_log = Table(
    "audit_log",
    METADATA,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", String(40), nullable=False),
    Column("event", String(100), nullable=False),
    Column("job_id", String(64), nullable=True, index=True),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)


@dataclass(frozen=True)
class LogEntry:
    seq: int
    at: str
    event: str
    job_id: str | None
    details: dict
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    first_bad_seq: int | None
    reason: str
    entries: int = 0


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_hash(seq: int, at: str, event: str, job_id: str | None, details_json: str, prev_hash: str) -> str:
    payload = _canonical({"seq": seq, "at": at, "event": event, "job_id": job_id,
                          "details": details_json, "prev_hash": prev_hash})
    return hashlib.sha256(payload.encode()).hexdigest()


class AuditLog:
    """Append and verify. Details must hold ids, counts and verdicts — never record content."""

    def __init__(self, engine: Engine, create: bool = False) -> None:
        self.engine = engine
        if create:
            METADATA.create_all(engine)

    def append(self, event: str, job_id: str | None = None, details: dict | None = None) -> LogEntry:
        """Add an entry after the newest one. Concurrent writers race for the next sequence number;
        the loser of a race retries on top of the winner's entry."""
        details_json = _canonical(details or {})
        for _ in range(_APPEND_ATTEMPTS):
            try:
                with self.engine.begin() as connection:
                    last = connection.execute(
                        select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
                    ).first()
                    seq, prev = (last.seq + 1, last.hash) if last else (1, GENESIS)
                    at = datetime.now(UTC).isoformat(timespec="microseconds")
                    digest = entry_hash(seq, at, event, job_id, details_json, prev)
                    connection.execute(insert(audit_log).values(
                        seq=seq, at=at, event=event, job_id=job_id, details=details_json, prev_hash=prev, hash=digest,
                    ))
                return LogEntry(seq, at, event, job_id, json.loads(details_json), prev, digest)
            except IntegrityError:
                continue
        raise RuntimeError("could not append to the audit log: too many concurrent writers")

    def entries(self, job_id: str | None = None, limit: int | None = None) -> list[LogEntry]:
        query = select(audit_log).order_by(audit_log.c.seq)
        if job_id is not None:
            query = query.where(audit_log.c.job_id == job_id)
        if limit is not None:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            return [_entry(row) for row in connection.execute(query)]

    def head(self) -> str:
        """Hash of the newest entry (GENESIS when empty): keep a copy elsewhere to detect truncation."""
        with self.engine.connect() as connection:
            last = connection.execute(select(audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
        return last.hash if last else GENESIS

    def verify(self) -> VerifyResult:
        """Walk the chain from the first entry; report the first entry that does not fit."""
        expected_seq, prev, count = 1, GENESIS, 0
        with self.engine.connect() as connection:
            for row in connection.execute(select(audit_log).order_by(audit_log.c.seq)):
                count += 1
                if row.seq != expected_seq:
                    return VerifyResult(False, expected_seq, f"entry {expected_seq} is missing", count)
                if row.prev_hash != prev:
                    return VerifyResult(False, row.seq, f"entry {row.seq} does not follow entry {row.seq - 1} "
                                                        "(deleted, inserted or reordered entries)", count)
                if entry_hash(row.seq, row.at, row.event, row.job_id, row.details, row.prev_hash) != row.hash:
                    return VerifyResult(False, row.seq, f"entry {row.seq} was changed after it was written", count)
                expected_seq, prev = row.seq + 1, row.hash
        return VerifyResult(True, None, f"{count} entries, chain intact", count)


def _entry(row) -> LogEntry:
    return LogEntry(row.seq, row.at, row.event, row.job_id, json.loads(row.details), row.prev_hash, row.hash)
