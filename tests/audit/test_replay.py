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


# -- the prefix prefilter (audit/candidates.py) ------------------------------------------------------

_ASCII_PIECES = ["Anna", "KOWALCZYK", "o'Brien", "Jean-Luc", "ada.quill@example.org", "<PERSON_1>", "(555)",
                 "010-2030", "+1", "MRN-4820193", "#12", "...", "--", "a", "Zz9", "x_y", "U.S.A.", "42nd", "555-0147,",
                 "\"Quoted\"", "(", ")", "it's", "A1B2C3", "3/02/1961", "St.", "e.g.", "Ms", "_", "1-800-FLOWERS"]
_OTHER_PIECES = ["José", "MÜLLER", "Zoë", "Ångström", "Å", "Ｊａｎｅ", "ＡＮＮＡ", "１２３", "ﬁnance", "ﬀ", "Straße",
                 "STRASSE", "Ωμέγα", "ΣΊΣΥΦΟΣ", "e\u0301", "\u0301abc", "\u0308", "①②", "x²", "ǅemal", "İstanbul",
                 "Łódź", "ǈ", "ß", "ẞ", "ﬃ", "™", "½", "Ⅻ", "café.", "«Anna»", "—", "\u200bzw", "한국", "ｶﾀｶﾅ"]
_SEPARATORS = [" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u3000", " \u00a0 "]


def _fuzzed_texts(count: int, seed: int) -> list[str]:
    """Texts of 1-9 pieces: mostly ASCII words, IDs and phone-like pieces, some non-ASCII ones
    (diacritics, fullwidth, ligatures, ß, Greek, combining marks), joined by ASCII or other whitespace."""
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(1, 9)):
            pool = _OTHER_PIECES if rng.random() < 0.15 else _ASCII_PIECES
            piece = rng.choice(pool)
            if rng.random() < 0.2:  # glue two pieces: "Anna," "JoséMRN-12"
                piece += rng.choice(_ASCII_PIECES + _OTHER_PIECES)
            parts.append(piece)
            parts.append(rng.choice(_SEPARATORS) if rng.random() < 0.9 else " ")
        texts.append("".join(parts[:-1]))
    return texts


def _reference_keys(text: str, max_ngram: int) -> list[tuple[str, str]]:
    """(candidate, prefix key from normalize(candidate)) of every run, in scan order."""
    from audit.text import pieces
    from privacy.fingerprint import normalize, prefix_key

    spans = pieces(text)
    return [(text[s:e], prefix_key(normalize(text[s:e])))
            for j, (s, _) in enumerate(spans) for _, e in spans[j : j + max_ngram]]


def _prefix_mismatches(texts: list[str], max_ngram: int = 6) -> tuple[int, list]:
    """(candidates compared, those whose fast prefix key differs from the reference one). For each
    key the reference gives some run, the scan that wants only that key must keep exactly the runs
    whose reference key it is: a run kept under another key, or missed under its own, has a wrong
    fast key."""
    from audit.candidates import scan_texts

    compared, wrong = 0, []
    for text in texts:
        expected = _reference_keys(text, max_ngram)
        compared += len(expected)
        for key in {k for _, k in expected}:
            kept, _ = scan_texts([(0, "text", text)], [], max_ngram, key.__eq__)
            wrong += [(c, key) for c in set(kept) ^ {c for c, k in expected if k == key}]
    return compared, wrong


def test_the_piece_by_piece_prefix_key_is_the_one_normalize_gives():
    texts = _fuzzed_texts(600, 11)
    compared, wrong = _prefix_mismatches(texts)
    assert compared > 5_000 and not wrong, wrong[:5]
    assert sum(not t.isascii() for t in texts) > 100  # the non-ASCII path was exercised


def test_the_prefix_key_check_catches_a_shortcut_that_forgets_to_lower_case(monkeypatch):
    """A mutant of the ASCII shortcut (no lower-casing) must fail the check above."""
    import inspect
    import textwrap

    from audit import candidates

    source = textwrap.dedent(inspect.getsource(candidates._piece_keys))
    mutant = source.replace("text.lower()", "text").replace("piece.lower()", "piece")
    assert mutant != source
    namespace = dict(vars(candidates))
    exec(compile(mutant, "mutant", "exec"), namespace)  # noqa: S102 - our own source, altered
    monkeypatch.setattr(candidates, "_piece_keys", namespace["_piece_keys"])
    _, wrong = _prefix_mismatches(_fuzzed_texts(600, 11))
    assert wrong


def test_prefix_filtered_scan_keeps_exactly_the_candidates_with_a_wanted_key():
    """Where the filter rejects keys (and the scan stops early on a full ASCII key), the candidates
    kept are those whose reference key is wanted, with the entries an unfiltered scan gives them."""
    from audit.candidates import scan_texts

    rng = random.Random(5)
    texts = _fuzzed_texts(400, 12)
    items = [(i // 3, f"f{i % 3}", t) for i, t in enumerate(texts)]
    extra = [(0, "f0", 0, min(4, len(texts[0])), texts[0])]
    reference = {c: key for t in texts for c, key in _reference_keys(t, 6)}
    for _ in range(20):
        wanted = set(rng.sample(sorted(set(reference.values())), 8)) | {"zzzz", ""}
        first, others = scan_texts(items, extra, 6, wanted.__contains__)
        all_first, all_others = scan_texts(items, extra, 6)
        kept = [c for c in all_first if reference.get(c) in wanted or c == texts[0][:4]]
        assert list(first) == kept
        assert first == {c: all_first[c] for c in kept}
        assert others == {c: s for c, s in all_others.items() if c in kept}


_PLANTED = [  # (value in the source, as the synthetic or holdout text writes it, type)
    ("José Müller", "JOSÉ MÜLLER,", "PERSON"), ("Zoë Ångström", "Zoe\u0308 A\u030angstro\u0308m", "PERSON"),
    ("Straße", "STRASSE", "LOCATION"), ("Anna Kowalczyk", "ＡＮＮＡ ＫＯＷＡＬＣＺＹＫ", "PERSON"),
    ("Anna Kowalczyk", "Anna\u00a0Kowalczyk.", "PERSON"), ("finn", "ﬁnn", "PERSON"),
    ("+1 (415) 555-0134", "14155550134", "PHONE_NUMBER"), ("(212) 555-0147", "212-555-0147", "PHONE_NUMBER"),
    ("ada.quill@example.org", "(ADA.QUILL@EXAMPLE.ORG),", "EMAIL_ADDRESS"),
    ("MRN-4820193", "mrn 4820193", "MEDICAL_RECORD_NUMBER"),
    ("Ωμέγα", "ΩΜΈΓΑ", "LOCATION"), ("Parcel", "parcel", "PERSON"),
]


def _equality_inputs():
    """A bench-like corpus and manifest (bench/audit.py), with source values planted in the
    synthetic and holdout text in other spellings, and training words as multi-word values."""
    from bench.audit import fake_manifest
    from privacy.fingerprint import prefix
    from privacy.manifest import Finding
    from tests.audit.corpus import make_records

    train, holdout, synthetic = make_records(300, 1, "T"), make_records(80, 2, "H"), make_records(300, 3, "S")
    manifest = fake_manifest(train, 300, 4)
    values = [(v, kind) for v, _, kind in _PLANTED]
    values += [(" ".join(r["text"].split()[4:6]), "PERSON") for r in train[:30]]  # some reappear by chance
    for n, (value, kind) in enumerate(values):
        record = (holdout if n % 5 == 4 else train)[n]
        manifest.append(Finding(record["id"], n, "text", kind, 0, len(value), "test", 1.0, "placeholder",
                                fingerprint(SITE_KEY, value), prefix(SITE_KEY, value)))
    for n, (_, written, _) in enumerate(_PLANTED):
        for k in (7 * n, 7 * n + 100):
            synthetic[k] = {**synthetic[k], "text": f"{synthetic[k]['text']} Also {written} here."}
        holdout[n] = {**holdout[n], "text": f"{written} {holdout[n]['text']}"}
    for k in (20, 21, 22):  # "Parcel" in the clear in three holdout records: ordinary vocabulary
        holdout[k] = {**holdout[k], "text": f"{holdout[k]['text']} Parcel"}
    version_1 = [{k: v for k, v in vars(f).items() if k != "prefix"} for f in manifest]
    return synthetic, train, holdout, manifest, version_1


def _outcome(result) -> tuple:
    details = {k: v for k, v in result.details.items() if k != "candidate_scan"}
    return result.figure, result.ci, result.passed, result.summary, result.blocked_by, details


def test_the_prefix_filtered_scan_finds_what_the_full_scan_finds(monkeypatch):
    synthetic, train, holdout, manifest, version_1 = _equality_inputs()
    filtered = _run(synthetic, train, holdout, manifest)
    full = _run(synthetic, train, holdout, version_1)
    assert filtered.details["candidate_scan"] == "prefix-filtered" and full.details["candidate_scan"] == "full"
    assert _outcome(filtered) == _outcome(full)
    # Every planted spelling is found (José, Zoë, Anna Kowalczyk, "finn" and chance word pairs as names).
    assert {k: n for k, n in filtered.details["replayed_by_entity"].items() if k != "PERSON"} == {
        "EMAIL_ADDRESS": 1, "LOCATION": 2, "MEDICAL_RECORD_NUMBER": 1, "PHONE_NUMBER": 2}
    assert filtered.details["replayed_by_entity"]["PERSON"] >= 4
    assert filtered.details["ordinary_values_excluded"] == 1 and filtered.details["clear_in_holdout_not_excused"] >= 5
    # One finding without its prefix: every candidate is fingerprinted, as for a version 1 manifest.
    assert _run(synthetic, train, holdout, [*manifest[:-1], version_1[-1]]).details["candidate_scan"] == "full"

    monkeypatch.setattr("audit.checks.pii_replay.PARALLEL_ABOVE", 0)  # joblib workers, several chunks
    monkeypatch.setattr("audit.checks.pii_replay.CHUNK_RECORDS", 70)
    parallel = _run(synthetic, train, holdout, manifest)
    assert parallel.details["candidate_scan"] == "prefix-filtered"
    assert _outcome(parallel) == _outcome(full) == _outcome(_run(synthetic, train, holdout, version_1))
