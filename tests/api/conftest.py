"""API fixtures: real databases (SQLite file, PostgreSQL schema per test), settings, app, keys."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, text

from api.keys import create_key

POSTGRES = os.environ.get("AIRLOCK_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request, data_dir):
    """A fresh database: a SQLite file in the data dir, or a new schema in the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{data_dir / 'airlock.db'}"
        return
    if not POSTGRES:
        pytest.skip("AIRLOCK_TEST_POSTGRES_URL is not set (scripts/test.sh sets it)")
    yield from postgres_schema(POSTGRES)


def postgres_schema(base_url: str):
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(data_dir, database_url, monkeypatch):
    from api.settings import Settings

    monkeypatch.setenv("AIRLOCK_DATABASE_URL", database_url)
    return Settings(data_dir=data_dir, database_url=database_url, log_file=data_dir / "airlock.log",
                    rate_limit_per_minute=1000, max_scrub_bytes=20_000, max_upload_bytes=200_000)


@pytest.fixture
def app(settings):
    from api.app import create_app

    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def keys(app):
    """One key per role (plus a second submitter), as {name: (principal, key)}."""
    engine = app.state.engine
    made = {role: create_key(engine, role, name=f"{role}-person") for role in ("submitter", "reviewer", "auditor", "admin")}
    made["other_submitter"] = create_key(engine, "submitter", name="other-person")
    return made


def auth(keys, who: str) -> dict:
    return {"Authorization": f"Bearer {keys[who][1]}"}


SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
PLANTED = {  # PII planted in submitted records: must never appear anywhere but the encrypted upload
    "email": "zebulon.quarrington@example.org",
    "phone": "+1 415-555-0142",
    "text_email": "quarrington.vance@example.net",
}


def planted_records(count: int) -> list[dict]:
    """`count` sample records; every third carries the planted contact details and email."""
    records = [json.loads(line) for line in (SAMPLE / "records.jsonl").read_text().splitlines()[:count]]
    for record in records[::3]:
        record["contact"] = {"email": PLANTED["email"], "phone": PLANTED["phone"]}
        record["text"] += f" You can write to {PLANTED['text_email']} any time."
    return records


def write_policy(data_dir: Path, name: str, **sections) -> Path:
    """A policy named `name` in the data dir's policies/: the sample's privacy section, small splits,
    one llama.cpp thread, and the given sections merged over that."""
    document = yaml.safe_load((SAMPLE / "policy.yaml").read_text())
    document["name"] = name
    document["split"] = {"holdout_fraction": 0.3, "min_holdout": 8, "seed": 1}
    document["synth"] = {"n": 2, "runtime": {"n_threads": 1}}
    # Tiny data gives wide intervals and stray NER hits: these tests check the pipeline's plumbing,
    # not the stages' thresholds (the planted values are searched for directly, see `leaks`). Two
    # synthetic records are too few for the utility check to judge, so it is not required here.
    document["audit"] = {
        "min_holdout": 8, "bootstrap": 50,
        "required": ["pii_rescan", "pii_replay", "memorization", "membership_inference"],
        "checks": {name: {"threshold": 1.0} for name in
                   ("pii_rescan", "pii_replay", "memorization", "membership_inference", "utility")},
    }
    for section, values in sections.items():
        document[section] = {**document.get(section, {}), **values}
    path = data_dir / "policies" / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document))
    return path


def as_jsonl(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def leaks(blob: bytes) -> list[str]:
    """Which planted values appear in `blob` (also case-folded)."""
    low = blob.lower()
    return [name for name, value in PLANTED.items() if value.lower().encode() in low]
