"""The PII re-scan tells Airlock's own fake values from anything else that looks like PII."""

from __future__ import annotations

import pytest

from audit.check import CheckSettings
from audit.checks import CHECKS
from audit.context import AuditContext
from audit.inputs import AuditInputs, resolve_fields
from audit.policy import AuditPolicy

NAME = "Margaret Holloway"


def _rescan(synthetic, splits, analyzer, sample_policy):
    inputs = AuditInputs(synthetic, splits["train"][:40], splits["holdout"], analyzer=analyzer,
                         privacy_policy=sample_policy.privacy)
    context = AuditContext(inputs, resolve_fields(inputs), AuditPolicy(embedder="tfidf"))
    # 20 records cannot bound the excess below 5% at the upper bound: these tests are about which
    # detections count, so the verdict is taken on the estimate.
    return CHECKS["pii_rescan"].run(context, CheckSettings("pii_rescan", 0.05, {"sample": None}, gate_on="estimate"))


def _with_name(splits, listed: tuple[int, int] | None) -> list[dict]:
    """Fresh records whose <PERSON_1> is replaced by a real-looking name; `listed` is the part of the
    name (offsets within it) the record's provenance declares a generator-filled surrogate."""
    records = []
    for record in splits["fresh"][:20]:
        start = record["text"].index("<PERSON_1>")
        text = record["text"].replace("<PERSON_1>", NAME, 1)
        surrogates = [] if listed is None else [
            {"field": "text", "start": start + listed[0], "end": start + listed[1], "entity_type": "PERSON"}]
        records.append({**record, "text": text, "_synthetic": True, "_provenance": {"surrogates": surrogates}})
    return records


def test_a_listed_surrogate_is_excluded_and_reported(splits, analyzer, sample_policy):
    result = _rescan(_with_name(splits, (0, len(NAME))), splits, analyzer, sample_policy)
    assert result.passed, result.summary
    assert result.details["records_flagged"] == 0
    assert result.details["surrogate_spans_listed"] == 20
    assert result.details["surrogate_detections_excluded"] == 20
    assert result.details["surrogate_detections_by_entity"] == {"PERSON": 20}
    assert "fake values that synthesis itself inserted" in result.summary
    assert NAME not in result.summary


@pytest.mark.parametrize("listed", [None, (0, len("Margaret"))], ids=["unlisted", "partly-listed"])
def test_a_name_not_listed_as_a_surrogate_is_flagged(splits, analyzer, sample_policy, listed):
    result = _rescan(_with_name(splits, listed), splits, analyzer, sample_policy)
    assert not result.passed
    assert result.details["records_flagged"] == 20
    assert result.details["by_entity"] == {"PERSON": 20}
    assert result.details["surrogate_detections_excluded"] == 0


def test_surrogate_spans_outside_the_text_are_not_trusted(splits, analyzer, sample_policy):
    records = _with_name(splits, None)
    for record in records:
        record["_provenance"]["surrogates"] = [
            {"field": "text", "start": 0, "end": len(record["text"]) + 1, "entity_type": "PERSON"},
            {"field": "contact", "start": 0, "end": 5, "entity_type": "PERSON"},
        ]
    result = _rescan(records, splits, analyzer, sample_policy)
    assert result.details["records_flagged"] == 20
    assert result.details["surrogate_spans_listed"] == 0
