"""The job table as a durable queue: submit, claim with a lease, heartbeat, record stages, finish, review.

A worker holds a job only while its lease is fresh. If it dies (even kill -9), the lease runs out and
the next worker claims the job again and resumes after the last completed stage; a job that keeps
killing workers fails cleanly after `max_attempts`. On PostgreSQL the claim uses
`SELECT … FOR UPDATE SKIP LOCKED`; on SQLite the single UPDATE statement is atomic by itself.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.db import ApiKey, Job, now
from api.keys import Principal, normalize_person
from api.pipeline import Interrupted
from privacy.errors import BadInput, PolicyError

QUEUED, RUNNING = "queued", "running"
AWAITING_REVIEW, PASSED, QUARANTINED, REJECTED, FAILED = (
    "awaiting_review", "passed", "quarantined", "rejected", "failed",
)
BUNDLE = "bundle"  # the job's report and, once released, its release files
STATES = (QUEUED, RUNNING, AWAITING_REVIEW, PASSED, QUARANTINED, REJECTED, FAILED)
FINAL = (PASSED, QUARANTINED, REJECTED, FAILED)


class JobNotFound(BadInput):
    """No job with that id (or not one the caller may see)."""


class FourEyesViolation(PolicyError):
    """The reviewer is the submitter: the same key, or another key of the same person (admins too)."""


class NotReviewable(PolicyError):
    """The job is not waiting for a review."""


class LeaseLost(Interrupted):
    """Another worker took over this job: stop working on it."""


def new_job_id() -> str:
    return uuid.uuid4().hex


def job_dir(jobs_root: Path, job_id: str) -> Path:
    """A job's files: upload.enc (until scrubbed), work/ (stage checkpoints), bundle/ (report, release)."""
    return jobs_root / job_id


def submit(
    engine: Engine, job_id: str, submitter: Principal, policy_name: str, options: dict[str, Any],
    input_format: str, input_bytes: int, wrapped_key: bytes, review_required: bool,
) -> None:
    with Session(engine) as session, session.begin():
        session.add(Job(
            id=job_id, state=QUEUED, stage=None, progress=0.0, submitter_key_id=submitter.key_id,
            submitter_name=submitter.name, policy_name=policy_name, options=options,
            input_format=input_format, input_bytes=input_bytes, wrapped_key=wrapped_key, attempts=0,
            completed_stages=[], timings={}, counts={}, review_required=review_required,
            review_state="pending" if review_required else None, created_at=now(),
        ))


def get(engine: Engine, job_id: str) -> Job:
    with Session(engine, expire_on_commit=False) as session:
        job = session.get(Job, job_id)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        session.expunge(job)
        return job


def _claimable(at: float):
    return or_(Job.state == QUEUED, and_(Job.state == RUNNING, Job.lease_expires_at < at))


def claim(engine: Engine, worker_id: str, lease_seconds: float) -> Job | None:
    """Take the oldest queued job, or a running one whose lease expired; None when there is none."""
    at = now()
    candidate = (
        select(Job.id).where(_claimable(at)).order_by(Job.created_at).limit(1)
        .with_for_update(skip_locked=True).scalar_subquery()
    )
    statement = (
        update(Job).where(Job.id == candidate, _claimable(at))
        .values(state=RUNNING, lease_owner=worker_id, lease_expires_at=at + lease_seconds,
                attempts=Job.attempts + 1, started_at=func.coalesce(Job.started_at, at))
        .returning(Job.id)
    )
    with engine.begin() as connection:
        claimed = connection.execute(statement).scalar()
    return get(engine, claimed) if claimed else None


def _owned(engine: Engine, job_id: str, worker_id: str, **values: Any) -> None:
    """Update a job only while `worker_id` still holds its lease; otherwise raise LeaseLost."""
    with engine.begin() as connection:
        result = connection.execute(
            update(Job).where(Job.id == job_id, Job.lease_owner == worker_id, Job.state == RUNNING).values(**values)
        )
    if result.rowcount != 1:
        raise LeaseLost(job_id)


def heartbeat(engine: Engine, job_id: str, worker_id: str, lease_seconds: float) -> None:
    _owned(engine, job_id, worker_id, lease_expires_at=now() + lease_seconds)


def report_progress(engine: Engine, job_id: str, worker_id: str, stage: str, percent: float) -> None:
    _owned(engine, job_id, worker_id, stage=stage, progress=round(percent, 1))


def stage_done(engine: Engine, job: Job, worker_id: str, stage: str, seconds: float, counts: dict) -> None:
    """Record a completed stage; `job` is the worker's copy, kept in step with the row."""
    job.completed_stages = [*job.completed_stages, stage] if stage not in job.completed_stages else job.completed_stages
    job.timings = {**job.timings, stage: round(seconds, 3)}
    job.counts = {**job.counts, **counts}
    _owned(engine, job.id, worker_id, completed_stages=job.completed_stages, timings=job.timings, counts=job.counts)


def drop_upload_key(engine: Engine, job_id: str, worker_id: str) -> None:
    _owned(engine, job_id, worker_id, wrapped_key=None)


def finish(
    engine: Engine, job: Job, worker_id: str, state: str, verdict: str | None = None,
    error: dict | None = None,
) -> None:
    _owned(
        engine, job.id, worker_id, state=state, verdict=verdict, error=error, wrapped_key=None, lease_owner=None,
        lease_expires_at=None, finished_at=now(), progress=100.0 if state != FAILED else job.progress,
    )


def fail_exhausted(engine: Engine, job_id: str, worker_id: str, error: dict) -> None:
    """Fail a job that has been claimed too often (it keeps killing workers); drop its upload key."""
    _owned(engine, job_id, worker_id, state=FAILED, error=error, wrapped_key=None, lease_owner=None,
           lease_expires_at=None, finished_at=now())


class NotRetryable(PolicyError):
    """The job did not fail, or failed before its scrub finished (its upload is gone)."""


def retry(engine: Engine, job_id: str) -> Job:
    """Queue a failed job again; it resumes after its last completed stage (the scrub at least)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        if job.state != FAILED:
            raise NotRetryable(f"job {job_id} is {job.state}; only a failed job can be retried")
        if "scrub" not in (job.completed_stages or []):
            raise NotRetryable(f"job {job_id} failed before its scrub finished and its upload was destroyed: submit the data again")
        job.state, job.error, job.attempts, job.finished_at = QUEUED, None, 0, None
        job.lease_owner = job.lease_expires_at = None
    return job


def _submitter_identity(session: Session, job: Job) -> str:
    """The person who submitted: the holder of the submitting key (its name for keys made before
    keys named their holder)."""
    key = session.get(ApiKey, job.submitter_key_id)
    return normalize_person((key.person or key.name) if key is not None else job.submitter_name)


def review(engine: Engine, job_id: str, reviewer: Principal, approve: bool) -> Job:
    """Four-eyes: a person other than the submitter approves or rejects a job that passed its gate.

    People, not keys, are compared: a second key of the submitter's is refused, and so is an admin
    reviewing a job the same person submitted."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            raise JobNotFound(f"no job {job_id}")
        same_person = reviewer.identity == _submitter_identity(session, job)
        if reviewer.key_id == job.submitter_key_id or reviewer.name == job.submitter_name or same_person:
            raise FourEyesViolation("four-eyes rule: the person who submitted a job cannot review it")
        if job.state != AWAITING_REVIEW:
            raise NotReviewable(f"job {job_id} is {job.state}, not awaiting review")
        job.state = PASSED if approve else REJECTED
        job.review_state = "approved" if approve else "rejected"
        job.reviewer_key_id = reviewer.key_id
        job.reviewed_at = now()
    return job


def counts_by_state(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(Job.state, func.count()).group_by(Job.state)).all()
    return {state: count for state, count in rows}


def all_jobs(engine: Engine, submitter_key_id: str | None = None, limit: int = 100) -> list[Job]:
    with Session(engine, expire_on_commit=False) as session:
        query = select(Job).order_by(Job.created_at.desc()).limit(limit)
        if submitter_key_id:
            query = query.where(Job.submitter_key_id == submitter_key_id)
        jobs = session.scalars(query).all()
        session.expunge_all()
        return list(jobs)


def finished_jobs(engine: Engine) -> list[Job]:
    """Jobs with recorded stages, for the metrics collector (timings, counts, verdicts)."""
    with Session(engine, expire_on_commit=False) as session:
        jobs = session.scalars(select(Job).where(Job.state.in_(FINAL))).all()
        session.expunge_all()
        return list(jobs)
