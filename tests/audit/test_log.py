"""The audit log's hash chain catches edited, deleted and reordered entries (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text

from audit.log import METADATA, AuditLog

POSTGRES_URL = os.environ.get("AIRLOCK_TEST_POSTGRES_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def log(request, tmp_path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'audit.db'}")
        yield AuditLog(engine, create=True)
        engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip("set AIRLOCK_TEST_POSTGRES_URL to run the PostgreSQL tests")
    schema = f"audit_{uuid.uuid4().hex[:8]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    engine = create_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield AuditLog(engine, create=True)
    engine.dispose()
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _fill(log: AuditLog, n: int = 5) -> None:
    for i in range(n):
        log.append("job.stage", job_id=f"job-{i % 2}", details={"stage": i, "verdict": "pass"})


def _sql(log: AuditLog, statement: str, **values) -> None:
    with log.engine.begin() as connection:
        connection.execute(text(statement), values)


def test_an_untouched_chain_verifies(log):
    _fill(log)
    result = log.verify()
    assert (result.ok, result.entries) == (True, 5)
    assert [e.seq for e in log.entries(job_id="job-1")] == [2, 4]
    assert log.head() == log.entries()[-1].hash


def test_an_edited_entry_is_detected(log):
    _fill(log)
    _sql(log, "UPDATE audit_log SET details = :details WHERE seq = 3", details='{"stage":2,"verdict":"quarantine"}')
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "changed" in result.reason


def test_a_deleted_entry_is_detected(log):
    _fill(log)
    _sql(log, "DELETE FROM audit_log WHERE seq = 2")
    assert (log.verify().ok, log.verify().first_bad_seq) == (False, 2)


def test_reordered_entries_are_detected(log):
    _fill(log)
    # Swap the contents of entries 2 and 3, each keeping its own (valid) hash.
    _sql(log, "UPDATE audit_log SET seq = 100 WHERE seq = 2")
    _sql(log, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    _sql(log, "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_a_rehashed_edit_breaks_the_next_link(log):
    from audit.log import entry_hash

    _fill(log)
    row = log.entries()[1]
    forged = '{"stage":1,"verdict":"quarantine"}'
    digest = entry_hash(row.seq, row.at, row.event, row.job_id, forged, row.prev_hash)
    _sql(log, "UPDATE audit_log SET details = :details, hash = :hash WHERE seq = 2", details=forged, hash=digest)
    result = log.verify()
    assert (result.ok, result.first_bad_seq) == (False, 3)


def test_metadata_holds_only_the_audit_log_table():
    assert list(METADATA.tables) == ["audit_log"]


# -- signed checkpoints: what the keyless chain alone cannot catch ---------------------------------

SIGNING_KEY = bytes(range(32))
FORGER_KEY = bytes(range(1, 33))


def _trusted():
    from audit.report import key_fingerprint, public_key

    return {key_fingerprint(public_key(SIGNING_KEY)): public_key(SIGNING_KEY)}


def _rewrite_whole_chain(log: AuditLog, seq: int, details: str) -> None:
    """What anyone with write access to the database can do: edit an entry and recompute every hash."""
    from audit.log import GENESIS, entry_hash

    prev = GENESIS
    for entry in log.entries():
        body = details if entry.seq == seq else _sql_details(log, entry.seq)
        digest = entry_hash(entry.seq, entry.at, entry.event, entry.job_id, body, prev)
        _sql(log, "UPDATE audit_log SET details = :d, prev_hash = :p, hash = :h WHERE seq = :s",
             d=body, p=prev, h=digest, s=entry.seq)
        prev = digest


def _sql_details(log: AuditLog, seq: int) -> str:
    with log.engine.connect() as connection:
        return connection.execute(text("SELECT details FROM audit_log WHERE seq = :s"), {"s": seq}).scalar()


def _checkpointed(log: AuditLog, tmp_path):
    from audit.log import checkpoint_is_genuine, read_checkpoints

    _fill(log)
    log.checkpoint(SIGNING_KEY, tmp_path / "checkpoints.jsonl")
    [point] = read_checkpoints(tmp_path / "checkpoints.jsonl")
    assert checkpoint_is_genuine(point, _trusted()) and point.seq == 5
    return point


def test_a_rewritten_and_rehashed_chain_passes_alone_but_not_against_a_checkpoint(log, tmp_path):
    point = _checkpointed(log, tmp_path)
    _rewrite_whole_chain(log, 3, '{"stage":2,"verdict":"quarantine"}')
    assert log.verify().ok  # the keyless chain cannot tell
    result = log.verify([point])
    assert not result.ok and "rewritten" in result.reason


def test_deleting_the_newest_entries_is_detected_against_a_checkpoint(log, tmp_path):
    point = _checkpointed(log, tmp_path)
    _sql(log, "DELETE FROM audit_log WHERE seq > 3")
    assert log.verify().ok
    result = log.verify([point])
    assert (result.ok, result.first_bad_seq) == (False, 4) and "deleted" in result.reason


def test_truncating_the_log_is_detected_against_a_checkpoint(log, tmp_path):
    point = _checkpointed(log, tmp_path)
    _sql(log, "DELETE FROM audit_log")
    assert log.verify().ok
    result = log.verify([point])
    assert not result.ok and "truncated" in result.reason


def test_entries_after_the_checkpoint_are_fine_and_a_forged_checkpoint_is_not_genuine(log, tmp_path):
    from audit.log import checkpoint_is_genuine, sign_checkpoint

    point = _checkpointed(log, tmp_path)
    _fill(log, 2)
    result = log.verify([point])
    assert result.ok and "checkpoint at entry 5" in result.reason
    forged = sign_checkpoint(7, log.head(), FORGER_KEY)
    assert not checkpoint_is_genuine(forged, _trusted())
    relabelled = type(forged)(forged.seq, forged.head, forged.at, point.key_id, forged.signature)
    assert not checkpoint_is_genuine(relabelled, _trusted())  # claiming the site's key id does not help
