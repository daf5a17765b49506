"""Storage: the tables Airlock owns (API keys, jobs), the engine, and migrations to the newest schema.

SQLite under the data directory by default (WAL, so the service and workers read while one writes);
PostgreSQL when AIRLOCK_DATABASE_URL names one (postgresql+psycopg://…). The audit log's table lives
on audit/log.py's own metadata; the Alembic migrations create both.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Float, Integer, LargeBinary, MetaData, String, create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x41_49_52_4C  # "AIRL": any constant shared by every Airlock process


class Base(DeclarativeBase):
    metadata = MetaData()


METADATA = Base.metadata


def now() -> float:
    """Timestamps are UTC epoch seconds: the same on SQLite and PostgreSQL, easy to compare for leases."""
    return time.time()


class ApiKey(Base):
    """An API key: only its SHA-256 digest is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    # The person who holds the key: one person may hold several keys, and four-eyes compares people.
    person: Mapped[str | None] = mapped_column(String(200), nullable=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float, default=now)
    revoked_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Job(Base):
    """A job is also its own queue entry: workers claim a row with a lease that heartbeats renew."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    submitter_key_id: Mapped[str] = mapped_column(String(16))
    submitter_name: Mapped[str] = mapped_column(String(200))
    policy_name: Mapped[str] = mapped_column(String(100))
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    input_format: Mapped[str] = mapped_column(String(8))
    input_bytes: Mapped[int] = mapped_column(Integer)
    # The per-job upload key, wrapped under the site's vault secret; dropped once the upload is scrubbed.
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True, index=True)
    completed_stages: Mapped[list[str]] = mapped_column(JSON, default=list)
    timings: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    review_required: Mapped[bool] = mapped_column(default=False)
    review_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewer_key_id: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reviewed_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and its directory created."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:  # noqa: ANN001 - DB-API connection
            cursor = connection.cursor()
            cursor.execute("PRAGMA busy_timeout=30000")
            # Switching a new file to WAL needs a moment alone with it; processes opening it together
            # can get "locked" at once, without the busy timeout applying: try again briefly.
            for attempt in range(50):
                try:
                    cursor.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError:
                    if attempt == 49:
                        raise
                    time.sleep(0.1)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (idempotent). Services and workers that start
    together migrate one after the other: under an advisory lock on PostgreSQL, the write lock on SQLite."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        elif connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")  # the database's write lock, until commit
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def open_database(url: str) -> Engine:
    """Engine at the newest schema: what every command and the service start with."""
    engine = make_engine(url)
    migrate(engine)
    return engine
