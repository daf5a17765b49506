"""The job store and key store on real SQLite and PostgreSQL: migrations, keys, the leased queue."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from api import jobs
from api.db import make_engine, migrate, open_database
from api.keys import Principal, authenticate, create_key, list_keys, revoke_key
from privacy.errors import BadInput

SUBMITTER = Principal("aaaaaaaaaaaa", "alice", "submitter")


@pytest.fixture
def engine(database_url):
    engine = open_database(database_url)
    yield engine
    engine.dispose()


def _submit(engine, job_id: str | None = None) -> str:
    job_id = job_id or jobs.new_job_id()
    jobs.submit(engine, job_id, SUBMITTER, "default", {"n": 2}, "jsonl", 10, b"wrapped", False)
    return job_id


def test_migrations_create_the_tables_and_are_idempotent(engine):
    migrate(engine)  # a second start changes nothing
    tables = set(sa.inspect(engine).get_table_names())
    assert {"api_keys", "jobs", "alembic_version"} <= tables


def test_keys_are_stored_hashed_and_can_be_revoked(engine):
    principal, key = create_key(engine, "reviewer", name="rita")
    assert authenticate(engine, key) == principal
    with engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT digest, name, role FROM api_keys")).all()
    secret = key.split("_", 2)[2]  # the secret itself may hold "_" (URL-safe base64)
    assert key not in str(stored) and secret not in str(stored)
    assert authenticate(engine, key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert authenticate(engine, "not-a-key") is None
    revoke_key(engine, principal.key_id)
    assert authenticate(engine, key) is None
    assert list_keys(engine)[0]["revoked_at"] is not None
    with pytest.raises(BadInput):
        create_key(engine, "superuser")


def test_a_claim_takes_the_oldest_job_with_a_lease(engine):
    first, second = _submit(engine), _submit(engine)
    job = jobs.claim(engine, "w1", lease_seconds=30)
    assert job.id == first and job.state == jobs.RUNNING and job.attempts == 1 and job.lease_owner == "w1"
    assert jobs.claim(engine, "w2", lease_seconds=30).id == second
    assert jobs.claim(engine, "w3", lease_seconds=30) is None


def test_an_expired_lease_is_claimed_again_and_the_old_worker_is_fenced_off(engine):
    job_id = _submit(engine)
    job = jobs.claim(engine, "w1", lease_seconds=0.01)
    jobs.stage_done(engine, job, "w1", "scrub", 1.5, {"records": 3})
    import time

    time.sleep(0.05)
    again = jobs.claim(engine, "w2", lease_seconds=30)
    assert again.id == job_id and again.attempts == 2 and again.completed_stages == ["scrub"]
    with pytest.raises(jobs.LeaseLost):
        jobs.heartbeat(engine, job_id, "w1", 30)
    with pytest.raises(jobs.LeaseLost):
        jobs.report_progress(engine, job_id, "w1", "split", 50)
    jobs.heartbeat(engine, job_id, "w2", 30)
    jobs.finish(engine, again, "w2", jobs.PASSED, verdict="pass")
    done = jobs.get(engine, job_id)
    assert done.state == jobs.PASSED and done.lease_owner is None and done.wrapped_key is None
    assert jobs.claim(engine, "w3", lease_seconds=30) is None


def test_concurrent_claims_never_hand_one_job_to_two_workers(engine):
    submitted = {_submit(engine) for _ in range(6)}
    claimed: list[str] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (job := jobs.claim(engine, name, lease_seconds=30)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(submitted)


def test_four_eyes_review(engine):
    job_id = _submit(engine)
    job = jobs.claim(engine, "w1", 30)
    jobs.finish(engine, job, "w1", jobs.AWAITING_REVIEW, verdict="pass")
    with pytest.raises(jobs.FourEyesViolation):
        jobs.review(engine, job_id, Principal(SUBMITTER.key_id, "alice", "reviewer"), approve=True)
    with pytest.raises(jobs.FourEyesViolation):  # another key of the same person
        jobs.review(engine, job_id, Principal("bbbbbbbbbbbb", "alice", "reviewer"), approve=True)
    approved = jobs.review(engine, job_id, Principal("cccccccccccc", "rita", "reviewer"), approve=True)
    assert approved.state == jobs.PASSED and approved.review_state == "approved"
    with pytest.raises(jobs.NotReviewable):
        jobs.review(engine, job_id, Principal("cccccccccccc", "rita", "reviewer"), approve=False)
    _submit(engine)
    other = jobs.claim(engine, "w1", 30)
    jobs.finish(engine, other, "w1", jobs.AWAITING_REVIEW, verdict="pass")
    rejected = jobs.review(engine, other.id, Principal("cccccccccccc", "rita", "reviewer"), approve=False)
    assert rejected.state == jobs.REJECTED and rejected.review_state == "rejected"
    assert jobs.counts_by_state(engine) == {jobs.PASSED: 1, jobs.REJECTED: 1}


def test_processes_starting_together_migrate_once(database_url):
    fresh = [make_engine(database_url) for _ in range(3)]
    errors: list[BaseException] = []

    def start(engine) -> None:
        try:
            migrate(engine)
        except BaseException as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)

    threads = [threading.Thread(target=start, args=(engine,)) for engine in fresh]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {"api_keys", "jobs", "audit_log"} <= set(sa.inspect(fresh[0]).get_table_names())
    for engine in fresh:
        engine.dispose()


def _awaiting_review(engine, submitter: Principal) -> str:
    job_id = jobs.new_job_id()
    jobs.submit(engine, job_id, submitter, "default", {}, "jsonl", 10, b"wrapped", True)
    job = jobs.claim(engine, "w1", 30)
    jobs.finish(engine, job, "w1", jobs.AWAITING_REVIEW, verdict="pass")
    return job_id


def test_four_eyes_compares_people_not_key_names(engine):
    """Every path to approving one's own job: the same key, a second key under another name, an admin
    key of the same person (spelled differently); only another person may review."""
    submitter, _ = create_key(engine, "submitter", name="sam-laptop", person="Sam Okafor")
    second_key, _ = create_key(engine, "reviewer", name="sam-review-bot", person="Sam Okafor")
    own_admin, _ = create_key(engine, "admin", name="ops", person="  sam   OKAFOR ")
    other, _ = create_key(engine, "reviewer", name="rita", person="Rita Lee")
    job_id = _awaiting_review(engine, submitter)
    for same_person in (submitter, second_key, own_admin):
        with pytest.raises(jobs.FourEyesViolation):
            jobs.review(engine, job_id, same_person, approve=True)
    assert jobs.get(engine, job_id).state == jobs.AWAITING_REVIEW
    assert jobs.review(engine, job_id, other, approve=True).state == jobs.PASSED


def test_an_admin_cannot_review_a_job_the_admin_submitted(engine):
    admin, _ = create_key(engine, "admin", name="root", person="Ada Admin")
    job_id = _awaiting_review(engine, admin)
    with pytest.raises(jobs.FourEyesViolation):
        jobs.review(engine, job_id, admin, approve=False)
    another_admin, _ = create_key(engine, "admin", name="root2", person="Ben Admin")
    assert jobs.review(engine, job_id, another_admin, approve=False).state == jobs.REJECTED


def test_keys_name_their_holder_and_older_keys_fall_back_to_their_name(engine):
    principal, key = create_key(engine, "reviewer", name="rita-laptop", person="Rita Lee")
    assert authenticate(engine, key).person == "Rita Lee"
    assert {k["id"]: k["person"] for k in list_keys(engine)}[principal.key_id] == "Rita Lee"
    unnamed, _ = create_key(engine, "auditor", name="ada")
    assert unnamed.person == "ada"
