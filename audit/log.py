"""The audit log: append-only, each entry hash-chained to the one before it.

Entry n stores the hash of entry n-1 and its own hash, SHA-256 over the canonical JSON of its
sequence number, time, event, job id, details and the previous hash. Editing an entry breaks its
hash; deleting or reordering entries breaks the sequence or the chain.

The chain has no key: whoever can write the database can rewrite every entry and recompute every
hash, or delete the newest entries and leave a valid shorter chain. Signed **checkpoints** close
that gap: the head (sequence number and hash) signed with the site's signing key, kept outside the
database — a checkpoints file, every signed report (`log_head`), a copy the auditor holds. Given
the last checkpoint, `verify` detects a rewritten chain (the entry at the checkpoint's sequence has
another hash), deleted newest entries and truncation (the log ends before the checkpoint). Entries
written after the last checkpoint are protected by the chain alone until the next one.
Works on SQLite and PostgreSQL; the table lives on its own METADATA, which api/'s Alembic migrations
include.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from privacy.errors import BadInput

METADATA = MetaData()
GENESIS = "0" * 64
CHECKPOINT_SCHEMA = "airlock.log-checkpoint"
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
        return self.head_entry()[1]

    def head_entry(self) -> tuple[int, str]:
        """(sequence number, hash) of the newest entry; (0, GENESIS) when the log is empty."""
        with self.engine.connect() as connection:
            last = connection.execute(
                select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)).first()
        return (last.seq, last.hash) if last else (0, GENESIS)

    def checkpoint(self, signing_key: bytes, path) -> Checkpoint:  # noqa: ANN001 - str | Path
        """Sign the current head and append it to the checkpoints file at `path` (outside the database)."""
        seq, head = self.head_entry()
        point = sign_checkpoint(seq, head, signing_key)
        append_checkpoint(path, point)
        return point

    def verify(self, checkpoints: Iterable[Checkpoint] = ()) -> VerifyResult:
        """Walk the chain from the first entry; report the first entry that does not fit. Then hold
        the chain against each (already trusted) checkpoint: its entry must still be there, unchanged."""
        wanted = {point.seq: point for point in checkpoints}
        seen: dict[int, str] = {}
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
                if row.seq in wanted:
                    seen[row.seq] = row.hash
                expected_seq, prev = row.seq + 1, row.hash
        return _against_checkpoints(wanted, seen, count)


def _against_checkpoints(wanted: dict[int, Checkpoint], seen: dict[int, str], count: int) -> VerifyResult:
    for seq in sorted(wanted, reverse=True):  # the newest checkpoint says the most
        if seq > count:
            return VerifyResult(False, count + 1, f"the log ends at entry {count}, but a signed checkpoint "
                                                  f"covers entry {seq}: newest entries were deleted or the "
                                                  "log was truncated", count)
        if seq > 0 and seen.get(seq) != wanted[seq].head:
            return VerifyResult(False, seq, f"entry {seq} is not the one a signed checkpoint recorded: "
                                            "the log was rewritten", count)
    if not wanted:
        return VerifyResult(True, None, f"{count} entries, chain intact (no signed checkpoint: deleting the "
                                        "newest entries would not be detected)", count)
    newest = max(wanted)
    return VerifyResult(True, None, f"{count} entries, chain intact, matches the signed checkpoint at entry "
                                    f"{newest}", count)


@dataclass(frozen=True)
class Checkpoint:
    """The log head at one moment, signed (Ed25519) by the site's signing key."""

    seq: int
    head: str
    at: str
    key_id: str
    signature: str

    def signed_bytes(self) -> bytes:
        return _canonical({"schema": CHECKPOINT_SCHEMA, "seq": self.seq, "head": self.head, "at": self.at}).encode()


def sign_checkpoint(seq: int, head: str, signing_key: bytes) -> Checkpoint:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from audit.report import key_fingerprint, public_key

    at = datetime.now(UTC).isoformat(timespec="microseconds")
    unsigned = Checkpoint(seq, head, at, key_fingerprint(public_key(signing_key)), "")
    signature = Ed25519PrivateKey.from_private_bytes(signing_key).sign(unsigned.signed_bytes())
    return Checkpoint(seq, head, at, unsigned.key_id, base64.b64encode(signature).decode())


def checkpoint_is_genuine(point: Checkpoint, trusted: Mapping[str, bytes]) -> bool:
    """Whether one of the `trusted` public keys (by key id) signed this checkpoint."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public = trusted.get(point.key_id)
    if public is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(point.signature), point.signed_bytes())
    except (InvalidSignature, ValueError):
        return False
    return True


def append_checkpoint(path, point: Checkpoint) -> None:  # noqa: ANN001 - str | Path
    """One JSON line per checkpoint; the file only grows."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps({"checkpoint": asdict(point)}, sort_keys=True) + "\n")


def read_checkpoints(path) -> list[Checkpoint]:  # noqa: ANN001 - str | Path
    """Checkpoints from a checkpoints file (JSON lines) or one checkpoint document; unsigned
    content is not trusted here: check each with `checkpoint_is_genuine`."""
    from pathlib import Path

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path.name}: no such checkpoint file")
    points = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)["checkpoint"]
            points.append(Checkpoint(int(entry["seq"]), str(entry["head"]), str(entry["at"]),
                                     str(entry["key_id"]), str(entry["signature"])))
        except (ValueError, KeyError, TypeError):
            raise BadInput(f"{path.name}: line {number}: not an Airlock log checkpoint") from None
    return points


def _entry(row) -> LogEntry:
    return LogEntry(row.seq, row.at, row.event, row.job_id, json.loads(row.details), row.prev_hash, row.hash)
