"""Fixtures of the audit tests: seeded splits, the real analyzer and a real scrubbed manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from audit.policy import AuditPolicy, CheckRule
from tests.audit.corpus import make_records

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
SITE_KEY = bytes(range(32))


@pytest.fixture(scope="session", autouse=True)
def one_thread():
    """Two busy cores are shared with other suites: keep torch to one thread."""
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def splits():
    """Members, non-members, and fresh records from the same distribution that neither split holds."""
    return {"train": make_records(240, 1, "T"), "holdout": make_records(60, 2, "H"),
            "fresh": make_records(200, 3, "S")}


@pytest.fixture
def policy():
    return AuditPolicy(embedder="tfidf", bootstrap=200, checks={"pii_rescan": CheckRule(params={"sample": 100})})


@pytest.fixture(scope="session")
def sample_policy():
    from api.policy import load_policy

    return load_policy(SAMPLE / "policy.yaml")


@pytest.fixture(scope="session")
def analyzer(sample_policy):
    from privacy.analyzer import build_analyzer

    return build_analyzer(sample_policy.privacy)


@pytest.fixture(scope="session")
def scrubbed_sample(sample_policy, analyzer):
    """The first 40 sample records, raw and scrubbed by the real Scrubber, with their findings."""
    from privacy.scrub import Scrubber

    raw = [json.loads(line) for line in (SAMPLE / "records.jsonl").read_text().splitlines()[:40]]
    scrubbed = list(Scrubber(sample_policy.privacy, SITE_KEY, analyzer=analyzer).scrub(raw))
    return raw, scrubbed
