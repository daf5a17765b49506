"""PII replay leaves out low-entropy types the policy names, and says so; everything else counts."""

from __future__ import annotations

from audit.check import CheckSettings
from audit.checks import CHECKS
from audit.context import AuditContext
from audit.inputs import AuditInputs, resolve_fields
from audit.policy import AuditPolicy
from privacy.fingerprint import fingerprint
from tests.audit.conftest import SITE_KEY

DATE = "Jul 07"
BIRTHDAY = "03/02/1961"
EMAIL = "ada.quill@example.org"


def _replay(splits, params: dict):
    """Synthetic records mentioning a generic date, a birth date and an email from the manifest."""
    synthetic = [dict(r) for r in splits["fresh"][:30]]
    synthetic[3]["text"] += f" It was due on {DATE}."
    synthetic[4]["text"] += f" Born {BIRTHDAY}, write to {EMAIL}."
    manifest = [
        {"entity_type": kind, "start": 0, "end": len(value), "fingerprint": fingerprint(SITE_KEY, value)}
        for kind, value in (("DATE_TIME", DATE), ("DATE_TIME", BIRTHDAY), ("DATE_OF_BIRTH", BIRTHDAY),
                            ("EMAIL_ADDRESS", EMAIL))
    ]
    inputs = AuditInputs(synthetic, splits["train"][:40], splits["holdout"], manifest=manifest, site_key=SITE_KEY)
    context = AuditContext(inputs, resolve_fields(inputs), AuditPolicy(embedder="tfidf"))
    return CHECKS["pii_replay"].run(context, CheckSettings("pii_replay", 0.0, params))


def test_generic_dates_are_not_counted_by_default_but_birth_dates_and_identifiers_are(splits):
    result = _replay(splits, {})
    assert result.details["ignored_entities"] == ["DATE_TIME"]
    assert result.details["source_values"] == 2
    assert result.details["replayed_values"] == 2
    assert result.details["replayed_by_entity"] == {"DATE_OF_BIRTH": 1, "EMAIL_ADDRESS": 1}
    assert not result.passed
    assert "Not counted: values of type DATE_TIME" in result.summary
    assert DATE not in result.summary and EMAIL not in result.summary


def test_an_empty_ignore_list_counts_every_type(splits):
    result = _replay(splits, {"ignore_entities": []})
    assert result.details["ignored_entities"] == []
    assert result.details["replayed_values"] == 3
    assert result.details["replayed_by_entity"] == {"DATE_OF_BIRTH": 1, "DATE_TIME": 2, "EMAIL_ADDRESS": 1}
    assert "Not counted: values of type" not in result.summary
