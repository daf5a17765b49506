"""Scrubbing records end to end with the real analyzer (Presidio + spaCy) and real operators."""

from __future__ import annotations

import gc
import json
import re
import subprocess
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest

from privacy.detections import forks_cheaply
from privacy.errors import BadInput, PolicyError
from privacy.fingerprint import fingerprint
from privacy.placeholders import find_placeholders
from privacy.policy import PrivacyPolicy
from privacy.records import read_records
from privacy.scrub import Scrubber, scrub_dataframe, scrub_file

SITE_KEY = bytes(range(32))
OTHER_SITE_KEY = bytes(range(7, 39))

RECORDS = [
    {"id": "T-1", "text": "Margaret Okafor here. Please call me at (415) 555-0198 or write to "
                          "margaret.okafor@example.com about invoice 7731.", "priority": 2},
    {"id": "T-2", "text": "Margaret Okafor again: the refund still hasn't arrived.", "priority": 1},
    {"id": "T-3", "text": "Daniel Brennan reported the outage, reach him at daniel.b@example.org.", "priority": 3},
]
PLANTED = ["Margaret Okafor", "(415) 555-0198", "margaret.okafor@example.com", "Daniel Brennan",
           "daniel.b@example.org"]


@pytest.fixture(scope="module")
def scrubbed(analyzer, default_policy):
    return list(Scrubber(default_policy, SITE_KEY, analyzer).scrub(RECORDS))


def test_planted_pii_is_gone_and_the_rest_kept(scrubbed):
    out = json.dumps([item.record for item in scrubbed])
    for value in PLANTED:
        assert value not in out
    assert [item.record["id"] for item in scrubbed] == ["T-1", "T-2", "T-3"]
    assert [item.record["priority"] for item in scrubbed] == [2, 1, 3]  # numbers pass through
    assert "the refund still hasn't arrived" in scrubbed[1].record["text"]


def test_findings_point_at_the_original_text(scrubbed):
    for record, item in zip(RECORDS, scrubbed):
        assert item.findings
        for finding in item.findings:
            assert finding.record_id == record["id"] and finding.field == "text"
            raw = record["text"][finding.start:finding.end]
            assert finding.fingerprint == fingerprint(SITE_KEY, raw)
            assert finding.operator == "placeholder" and finding.detector and 0 < finding.score <= 1
    types = {f.entity_type for item in scrubbed for f in item.findings}
    assert {"PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS"} <= types


def test_placeholders_are_numbered_across_the_dataset(scrubbed):
    first, second, third = (item.record["text"] for item in scrubbed)
    assert first.startswith("<PERSON_1> here.")
    assert second.startswith("<PERSON_1> again")  # same person, next record, same number
    assert third.startswith("<PERSON_2> reported")
    numbers = [n for kind, n, _, _ in find_placeholders(first + second + third) if kind == "EMAIL_ADDRESS"]
    assert numbers == [1, 2]


def test_surrogates_are_consistent_across_scrubbers_and_keys(analyzer):
    policy = PrivacyPolicy(default_operator={"operator": "surrogate"})
    runs = [list(Scrubber(policy, key, analyzer).scrub(RECORDS)) for key in (SITE_KEY, SITE_KEY, OTHER_SITE_KEY)]
    texts = [[item.record["text"] for item in run] for run in runs]
    assert texts[0] == texts[1]
    assert all(a != b for a, b in zip(texts[0], texts[2]))
    for text in texts[0] + texts[2]:
        for value in PLANTED:
            assert value not in text
    # The same person in two records gets the same fake name in both.
    fake = texts[0][1][:texts[0][1].index(" again")]
    assert texts[0][0].startswith(fake + " here.")
    prints = [{f.fingerprint for item in run for f in item.findings} for run in runs]
    assert prints[0] == prints[1] and not prints[0] & prints[2]


def test_a_value_found_once_is_replaced_everywhere_in_the_record(analyzer):
    policy = PrivacyPolicy.model_validate({"fields": {"customer": {"kind": "pii", "entity": "PERSON"}}})
    record = {"id": "X", "customer": "Xu Vortlund-Aas", "text": "xu vortlund-aas asked twice. XU VORTLUND-AAS!"}
    [item] = Scrubber(policy, SITE_KEY, analyzer).scrub([record])
    assert "vortlund" not in json.dumps(item.record).lower()
    assert re.fullmatch(r"<PERSON_1> asked twice\. <[A-Z_]+_1>!", item.record["text"])
    assert [(f.start, f.end) for f in item.findings if f.field == "text"] == [(0, 15), (29, 44)]


def test_nested_fields_by_dotted_path(analyzer):
    policy = PrivacyPolicy.model_validate({"fields": {
        "contact.email": {"kind": "pii", "entity": "EMAIL_ADDRESS"},
        "contact.internal_ref": {"kind": "drop"},
        "meta.source": {"kind": "passthrough"},
        "category": {"kind": "label"},
        "history.author": {"kind": "pii", "entity": "PERSON"},
    }})
    record = {"id": 7, "category": "Jordan", "meta": {"source": "Web form from Jordan Lee", "rank": 4},
              "contact": {"email": "not-an-address", "internal_ref": "X-99", "phone": "call 212 555 0176"},
              "history": [{"author": "Priya Natarajan", "text": "Escalated by Priya Natarajan."}]}
    [item] = Scrubber(policy, SITE_KEY, analyzer).scrub([record])
    out = item.record
    assert out["id"] == 7 and out["category"] == "Jordan"  # id and labels pass through
    assert out["meta"] == {"source": "Web form from Jordan Lee", "rank": 4}
    assert out["contact"]["email"] == "<EMAIL_ADDRESS_1>"  # whole value, whatever it looks like
    assert "internal_ref" not in out["contact"]
    assert "212 555 0176" not in out["contact"]["phone"]  # unlisted strings are free text
    assert out["history"][0]["author"] == "<PERSON_1>"
    assert "Priya" not in out["history"][0]["text"]
    fields = {f.field for f in item.findings}
    assert {"contact.email", "contact.phone", "history.0.author", "history.0.text"} <= fields


@pytest.mark.parametrize(("record", "message"), [
    ({"text": "no id"}, "record 1: field 'id' is missing"),
    ({"id": {"n": 1}, "text": "x"}, "record 1: field 'id' must be a string or an integer"),
    ({"id": 1, "text": 5}, "record 1: field 'text' expected text, got a int"),
    ({"id": 1, "text": "x", "label": ["a"]}, "record 1: field 'label': a label must be a single value"),
    ({"id": 1, "label": "a"}, "record 1: field 'text' is missing"),
])
def test_missing_and_wrong_typed_fields_are_bad_input(analyzer, record, message):
    policy = PrivacyPolicy.model_validate({"fields": {"text": {"kind": "text", "required": True},
                                                      "label": {"kind": "label"}}})
    with pytest.raises(BadInput) as error:
        list(Scrubber(policy, SITE_KEY, analyzer).scrub([record]))
    assert message.replace(" expected", ": expected") in str(error.value)


def test_field_rules_are_checked(analyzer):
    with pytest.raises(PolicyError, match="needs an entity type"):
        Scrubber(PrivacyPolicy.model_validate({"fields": {"email": {"kind": "pii"}}}), SITE_KEY, analyzer)


def test_dataframe_input(analyzer, default_policy):
    frame = pd.DataFrame(RECORDS, index=[10, 11, 12])
    out, findings = scrub_dataframe(frame, Scrubber(default_policy, SITE_KEY, analyzer))
    assert out.columns.tolist() == ["id", "text", "priority"] and out.index.tolist() == [10, 11, 12]
    assert out["priority"].tolist() == [2, 1, 3]
    assert "Margaret Okafor" not in out.to_json() and {f.record_id for f in findings} == {"T-1", "T-2", "T-3"}


def test_csv_round_trip(tmp_path, analyzer, default_policy):
    source = tmp_path / "tickets.csv"
    pd.DataFrame(RECORDS).to_csv(source, index=False)
    summary = scrub_file(source, tmp_path / "out.csv", tmp_path / "m.jsonl", Scrubber(default_policy, SITE_KEY, analyzer))
    out = list(read_records(tmp_path / "out.csv"))
    assert summary.records == 3 and [r["id"] for r in out] == ["T-1", "T-2", "T-3"]
    assert list(out[0]) == ["id", "text", "priority"]
    assert not any(value in (tmp_path / "out.csv").read_text() for value in PLANTED)


def test_scrub_text(analyzer, default_policy):
    text, findings = Scrubber(default_policy, SITE_KEY, analyzer).scrub_text("Email ana.ruiz@example.com today.")
    assert text == "Email <EMAIL_ADDRESS_1> today."
    assert [(f.entity_type, f.start, f.end, f.field) for f in findings] == [("EMAIL_ADDRESS", 6, 26, "text")]


def test_progress_is_reported(analyzer, default_policy):
    calls = []
    list(Scrubber(default_policy, SITE_KEY, analyzer).scrub(RECORDS, progress=lambda d, t: calls.append((d, t))))
    assert calls == [(1, None), (2, None), (3, None)]


@contextmanager
def _another_thread(alive: bool):
    """A second live thread makes the pool spawn its workers instead of forking them."""
    if not alive:
        yield
        return
    done = threading.Event()
    thread = threading.Thread(target=done.wait)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


@pytest.mark.parametrize("spawned", [False, True], ids=["forked", "spawned"])
def test_worker_pool_gives_the_same_output_in_the_same_order(tmp_path, analyzer, default_policy, spawned):
    source = tmp_path / "many.jsonl"
    records = [dict(r, id=f"{r['id']}-{i}") for i in range(30) for r in RECORDS]
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    outputs = {}
    for workers in (1, 2):
        out, manifest = tmp_path / f"out{workers}.jsonl", tmp_path / f"m{workers}.jsonl"
        with _another_thread(spawned and workers > 1):
            if spawned and workers > 1:  # (whether it forks otherwise depends on earlier tests' threads)
                assert not forks_cheaply()
            scrub_file(source, out, manifest, Scrubber(default_policy, SITE_KEY, analyzer), workers=workers)
        outputs[workers] = (out.read_text(), manifest.read_text())
    assert outputs[1] == outputs[2]
    assert re.search(r"<PERSON_1> again", outputs[2][0])


def test_scrubbing_does_not_drag_in_torch():
    """Presidio imports transformers and torch when installed (~10 s of start-up per process and per
    pool worker); the scrubber hides them while Presidio loads, and leaves them importable after."""
    probe = ("import sys, importlib.util, privacy.scrub; "
             "assert 'torch' not in sys.modules and 'transformers' not in sys.modules, 'imported'; "
             "assert importlib.util.find_spec('torch') is not None, 'hidden for good'")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=Path(__file__).parents[2])
    assert done.returncode == 0, done.stderr[-500:]


@pytest.mark.parametrize("spawned", [False, True], ids=["forked", "spawned"])
def test_killing_a_scrub_takes_its_detection_workers_along(tmp_path, spawned):
    """A scrub killed with SIGKILL (a job's process when its worker dies) leaves no worker behind
    holding raw records: the kernel ends them with it."""
    script = tmp_path / "scrub.py"
    script.write_text(f"""
import itertools, threading, time
from privacy.detections import forks_cheaply
from privacy.policy import PrivacyPolicy
from privacy.scrub import Scrubber
if __name__ == "__main__":
    if {spawned}:
        threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
    print("forks", forks_cheaply(), flush=True)
    records = ({{"id": str(i), "text": "Call Ada Lovelace at 020 7946 0018."}} for i in itertools.count())
    for _ in Scrubber(PrivacyPolicy(), bytes(32)).scrub(records, workers=2):
        print("scrubbing", flush=True)
""")
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                               cwd=Path(__file__).parents[2])
    try:
        assert process.stdout.readline().split() == ["forks", str(not spawned)]
        assert process.stdout.readline().startswith("scrubbing")  # the pool is up and detecting
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert len(children) >= 2
        process.kill()
        process.wait()
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{pid}").exists() for pid in children)
    finally:
        process.kill()


def test_after_a_forked_pool_the_analyzer_goes_with_its_scrubber(default_policy):
    """The parent hands its analyzer to forked workers; once the pool is gone nothing keeps it, so a
    job that goes on to synthesis does not carry a spaCy pipeline it no longer needs."""
    scrubber = Scrubber(default_policy, SITE_KEY)
    records = [dict(r, id=f"{r['id']}-{i}") for i in range(30) for r in RECORDS]
    assert len(list(scrubber.scrub(records, workers=2))) == len(records)
    analyzer = weakref.ref(scrubber.analyzer)
    del scrubber
    gc.collect()
    assert analyzer() is None
