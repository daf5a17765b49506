"""PII replay is judged against a control: values of the holdout's manifest, which the generator never
saw, show how often synthetic text contains source values by chance. Identifiers and full names have
zero tolerance. Only single ordinary words the scrubbed holdout passes over repeatedly are excused."""

from __future__ import annotations

import random

import pytest
from faker import Faker

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


def _finding(record_id: str, kind: str, value: str) -> dict:
    return {"record_id": record_id, "entity_type": kind, "start": 0, "end": len(value),
            "fingerprint": fingerprint(SITE_KEY, value)}


def _run(synthetic, train, holdout, manifest, **params):
    inputs = AuditInputs(synthetic, train, holdout, manifest=manifest, site_key=SITE_KEY)
    context = AuditContext(inputs, resolve_fields(inputs), AuditPolicy(embedder="tfidf"))
    return CHECKS["pii_replay"].run(context, CheckSettings("pii_replay", 0.02, params))


@pytest.fixture(scope="module")
def common_values():
    """~1,900 single-word first names, surnames and countries — the kind of value any text may hold —
    split at random into values of training records and values of holdout records."""
    fake = Faker("en_US")
    fake.seed_instance(7)
    values = {v for v in (fake.first_name() for _ in range(6000)) if " " not in v}
    values |= {v for v in (fake.last_name() for _ in range(6000)) if " " not in v}
    values |= {v for v in (fake.country() for _ in range(3000)) if " " not in v}
    values = sorted(values)
    random.Random(1).shuffle(values)
    half = len(values) // 2
    return values[:half], values[half:]


def _manifest(splits, train_values, holdout_values) -> list[dict]:
    kinds = ("PERSON", "LOCATION")
    return ([_finding(splits["train"][i % 240]["id"], kinds[i % 2], v) for i, v in enumerate(train_values)]
            + [_finding(splits["holdout"][i % 60]["id"], kinds[i % 2], v) for i, v in enumerate(holdout_values)])


def _mentioning(records, values) -> list[dict]:
    return [{**r, "text": f"{r['text']} Mentions {v} again."} for r, v in zip(records, values)]


def test_fresh_data_mentioning_common_values_by_chance_passes(splits, common_values):
    """The issue's case: unrelated records that name common first names and countries. They hit
    training and holdout values alike, so there is no excess, and the check passes; the old rule (any
    replay of a training value fails) quarantined such data."""
    train_values, holdout_values = common_values
    rng = random.Random(3)
    mentioned = rng.sample(train_values, 12) + rng.sample(holdout_values, 12)
    result = _run(_mentioning(splits["fresh"], mentioned), splits["train"], splits["holdout"],
                  _manifest(splits, train_values, holdout_values))
    control = result.details["control"]
    # The fresh text's own words ("english", "lee"...) hit a few more values of both splits by chance.
    assert control["replayed_train_only"] >= 12 and control["replayed_holdout_only"] >= 12
    # A few of the values are also words the holdout text uses freely: excused as ordinary vocabulary.
    assert control["train_only"] > 0.95 * len(train_values) and control["holdout_only"] > 0.95 * len(holdout_values)
    assert result.details["identifiers_replayed"] == 0
    assert abs(result.figure) < 0.005 and result.ci[1] < 0.02
    assert result.passed, result.summary
    assert "found only in holdout records, which the generator never saw" in result.summary
    assert not any(v in result.summary for v in mentioned)


def test_training_values_replayed_beyond_the_control_fail(splits, common_values):
    train_values, holdout_values = common_values
    mentioned = random.Random(3).sample(train_values, 60)  # the generator learned these; none of the holdout's
    result = _run(_mentioning(splits["fresh"], mentioned), splits["train"], splits["holdout"],
                  _manifest(splits, train_values, holdout_values))
    control = result.details["control"]
    assert control["replayed_train_only"] >= 60 > 10 >= control["replayed_holdout_only"]  # the rest: chance
    assert result.figure > 0.05 and result.ci[0] > 0.02 and not result.passed
    assert result.evidence == "sufficient"


@pytest.mark.parametrize("kind, value", [("EMAIL_ADDRESS", EMAIL), ("PHONE_NUMBER", "+1 (555) 010-2030"),
                                         ("CREDIT_CARD", "4111 1111 1111 1111"), ("PERSON", "Anna Kowalczyk")])
def test_one_identifier_or_full_name_fails_whatever_the_rates(splits, common_values, kind, value):
    train_values, holdout_values = common_values
    manifest = _manifest(splits, train_values, holdout_values) + [_finding(splits["train"][0]["id"], kind, value)]
    synthetic = _mentioning(splits["fresh"], [value])
    result = _run(synthetic, splits["train"], splits["holdout"], manifest)
    assert not result.passed
    assert result.details["identifiers_replayed"] == 1
    assert result.details["identifiers_by_entity"] == {kind: 1}
    assert result.blocked_by.startswith("1 identifier or full-name value(s)") and "limit for such values is zero" in result.blocked_by
    assert result.details["occurrences"][0]["record"] == synthetic[0]["id"]
    assert value not in result.summary and value not in result.blocked_by


def test_a_single_first_name_is_not_an_identifier(splits, common_values):
    train_values, holdout_values = common_values
    manifest = _manifest(splits, train_values, holdout_values)
    result = _run(_mentioning(splits["fresh"], [train_values[0]]), splits["train"], splits["holdout"], manifest)
    assert result.details["identifiers_replayed"] == 0 and result.details["replayed_by_entity"]["PERSON"] >= 1
    assert result.passed


def test_a_value_the_scrubber_missed_once_in_the_holdout_still_counts(splits):
    """Item 11: a full name the scrubber missed in one holdout record used to be excused everywhere."""
    name = "Anna Kowalczyk"
    holdout = [dict(r) for r in splits["holdout"]]
    holdout[5]["text"] += f" Signed {name}."
    manifest = [_finding(splits["train"][0]["id"], "PERSON", name)]
    result = _run(_mentioning(splits["fresh"], [name]), splits["train"], holdout, manifest)
    assert not result.passed and result.details["identifiers_replayed"] == 1
    assert result.details["ordinary_values_excluded"] == 0
    assert result.details["clear_in_holdout_not_excused"] == 1


def test_only_a_word_the_holdout_passes_over_repeatedly_is_excused_and_it_is_counted(splits):
    word, surname = "Account", "Kowalczyk"  # a detector's false alarm, and a surname missed once
    holdout = [dict(r) for r in splits["holdout"]]
    for i in (1, 2, 3):
        holdout[i]["text"] += f" {word} closed."
    holdout[4]["text"] += f" Mr {surname} rang."
    manifest = [_finding(splits["train"][0]["id"], "PERSON", word), _finding(splits["train"][1]["id"], "PERSON", surname)]
    result = _run(_mentioning(splits["fresh"], [word, surname]), splits["train"], holdout, manifest)
    assert result.details["ordinary_values_excluded"] == 1
    assert result.details["ordinary_by_entity"] == {"PERSON": 1}
    assert result.details["clear_in_holdout_not_excused"] == 1
    assert result.details["replayed_values"] == 1 and result.details["source_values"] == 1
    assert "Not counted as ordinary vocabulary: 1 single-word values" in result.summary
    assert "at least 3 holdout records" in result.summary
    assert "ordinary_min_records" in result.details["ordinary_rule"]


def _dated(splits):
    """Synthetic records mentioning a generic date, a birth date and an email from the manifest."""
    synthetic = [dict(r) for r in splits["fresh"][:30]]
    synthetic[3]["text"] += f" It was due on {DATE}."
    synthetic[4]["text"] += f" Born {BIRTHDAY}, write to {EMAIL}."
    manifest = [_finding(splits["train"][0]["id"], kind, value)
                for kind, value in (("DATE_TIME", DATE), ("DATE_TIME", BIRTHDAY), ("DATE_OF_BIRTH", BIRTHDAY),
                                    ("EMAIL_ADDRESS", EMAIL))]
    return synthetic, manifest


def test_generic_dates_are_not_counted_by_default_but_birth_dates_and_identifiers_are(splits):
    synthetic, manifest = _dated(splits)
    result = _run(synthetic, splits["train"][:40], splits["holdout"], manifest)
    assert result.details["ignored_entities"] == ["DATE_TIME"]
    assert result.details["source_values"] == 2
    assert result.details["replayed_values"] == 2
    assert result.details["replayed_by_entity"] == {"DATE_OF_BIRTH": 1, "EMAIL_ADDRESS": 1}
    assert result.details["identifiers_by_entity"] == {"EMAIL_ADDRESS": 1}
    assert not result.passed
    assert "Not counted: values of type DATE_TIME" in result.summary
    assert DATE not in result.summary and EMAIL not in result.summary


def test_an_empty_ignore_list_counts_every_type(splits):
    synthetic, manifest = _dated(splits)
    result = _run(synthetic, splits["train"][:40], splits["holdout"], manifest, ignore_entities=[])
    assert result.details["ignored_entities"] == []
    assert result.details["replayed_values"] == 3
    assert result.details["replayed_by_entity"] == {"DATE_OF_BIRTH": 1, "DATE_TIME": 2, "EMAIL_ADDRESS": 1}
    assert "Not counted: values of type" not in result.summary
