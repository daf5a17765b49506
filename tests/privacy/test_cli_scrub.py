"""`airlock scrub` and `airlock reidentify` through the real CLI, on real files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.secrets import load_secret
from api.settings import Settings
from privacy.fingerprint import key_id
from privacy.manifest import read_manifest
from privacy.records import read_records

SAMPLE = Path(__file__).parents[2] / "data" / "sample"
SECRET = "Zelda Quarrington 555-0199"  # planted in bad records: must never reach an error message
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")

runner = CliRunner()


@pytest.fixture
def work(tmp_path, data_dir) -> Path:
    """A folder for the test's files, apart from the data directory (which holds the secrets)."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


def write_jsonl(path: Path, records: list) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def sample_lines(n: int) -> list[str]:
    return (SAMPLE / "records.jsonl").read_text(encoding="utf-8").splitlines()[:n]


def test_scrub_the_sample(work, data_dir):
    source = work / "tickets.jsonl"
    source.write_text("\n".join(sample_lines(25)) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["scrub", str(source), "--policy", str(SAMPLE / "policy.yaml")])
    assert result.exit_code == 0, result.stderr
    assert "scrubbed 25 records" in result.stderr
    out = list(read_records(work / "tickets.scrubbed.jsonl"))
    originals = [json.loads(line) for line in sample_lines(25)]
    assert [r["id"] for r in out] == [r["id"] for r in originals]
    assert [(r["kind"], r["label"]) for r in out] == [(r["kind"], r["label"]) for r in originals]
    assert not EMAIL.search(json.dumps(out))
    for original, scrubbed in zip(originals, out):
        if "contact" in original:
            assert re.fullmatch(r"<EMAIL_ADDRESS_\d+>", scrubbed["contact"]["email"])
    site_key = load_secret("site", Settings())
    findings = read_manifest(work / "tickets.scrubbed.manifest.jsonl", site_key)
    assert {f.record_id for f in findings} <= {r["id"] for r in originals} and len(findings) > 25
    header = json.loads((work / "tickets.scrubbed.manifest.jsonl").read_text().splitlines()[0])
    assert header["manifest"]["key_id"] == key_id(site_key)
    assert (data_dir / "secrets" / "site.key").stat().st_mode & 0o777 == 0o600


def test_stdin_to_stdout(work, monkeypatch):
    monkeypatch.chdir(work)
    records = [{"id": "a", "text": "Write to nadia.petrova@example.com today."}, {"id": "b", "text": "All fine."}]
    stdin = "".join(json.dumps(r) + "\n" for r in records)
    result = runner.invoke(app, ["scrub", "-"], input=stdin)
    assert result.exit_code == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out == [{"id": "a", "text": "Write to <EMAIL_ADDRESS_1> today."}, {"id": "b", "text": "All fine."}]
    assert list(work.iterdir()) == []  # no manifest unless asked for


def test_csv_in_csv_out(work):
    source = work / "people.csv"
    source.write_text("id,text,score\n1,Ring Tomasz Wilk on (312) 555-0143,4\n2,nothing here,5\n", encoding="utf-8")
    result = runner.invoke(app, ["scrub", str(source), "-o", str(work / "clean.csv")])
    assert result.exit_code == 0, result.stderr
    lines = (work / "clean.csv").read_text().splitlines()
    assert lines[0] == "id,text,score" and lines[2] == "2,nothing here,5"
    assert "555-0143" not in lines[1] and "<PHONE_NUMBER_1>" in lines[1]
    assert (work / "clean.manifest.jsonl").is_file()


def _bad_jsonl(work: Path, body: bytes) -> Path:
    path = work / "in.jsonl"
    path.write_bytes(body)
    return path


GOOD = json.dumps({"id": "R-1", "kind": "ticket", "label": "billing", "text": "fine"}).encode() + b"\n"


@pytest.mark.parametrize(("body", "policy", "expected"), [
    (GOOD + b'{"id": "R-2", "text": "' + SECRET.encode() + b'\n', None, "record 2: not valid JSON"),
    (GOOD + GOOD + b'{"id": "R-3", "text": "' + SECRET.encode() + b'\xff"}\n', None, "record 3: not valid UTF-8"),
    (GOOD + json.dumps({"text": SECRET}).encode() + b"\n", None, "record 2: field 'id' is missing"),
    (GOOD + json.dumps({"id": "R-2", "kind": "ticket", "text": SECRET}).encode() + b"\n", "sample",
     "record 2: field 'label' is missing"),
    (GOOD + json.dumps({"id": "R-2", "kind": "note", "label": {"x": SECRET}, "text": "x"}).encode() + b"\n", "sample",
     "record 2: field 'label': a label must be a single value"),
    (GOOD + json.dumps({"id": "R-2", "kind": "note", "label": "x", "text": 42}).encode() + b"\n", "sample",
     "record 2: field 'text': expected text"),
    (GOOD + json.dumps({"id": "R-2", "text": SECRET * 20}).encode() + b"\n", "small",
     "record 2: larger than the 300-byte limit"),
    (b"", None, "in.jsonl: the file holds no records"),
    (b"\n\n", None, "holds no records"),
    (GOOD, "unknown-key", "privacy.colour: unknown policy key"),
    (GOOD, "unknown-operator", "unknown operator 'shred'"),
])
def test_bad_input_is_one_line_exit_2_and_no_output(work, tmp_path, body, policy, expected):
    source = _bad_jsonl(work, body)
    policies = {
        "sample": SAMPLE / "policy.yaml",
        "small": write_policy(tmp_path, "privacy: {max_record_bytes: 300}\n", "small"),
        "unknown-key": write_policy(tmp_path, "privacy: {colour: red}\n", "unknown-key"),
        "unknown-operator": write_policy(tmp_path, "privacy: {operators: {PERSON: {operator: shred}}}\n", "operator"),
    }
    args = ["scrub", str(source), "-o", str(work / "out.jsonl")]
    if policy:
        args += ["--policy", str(policies[policy])]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: ")
    assert expected in result.stderr
    assert "Zelda" not in result.stderr and "555-0199" not in result.stderr
    assert [p.name for p in work.iterdir()] == ["in.jsonl"]


def write_policy(folder: Path, text: str, name: str = "policy") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_a_bad_record_after_many_good_ones_leaves_nothing_behind(work):
    body = ("\n".join(sample_lines(80)) + "\n").encode() + b'{"id": "R-81", "text": "' + SECRET.encode() + b'"\n'
    source = _bad_jsonl(work, body)
    result = runner.invoke(app, ["scrub", str(source), "-o", str(work / "out.jsonl"),
                                 "--policy", str(SAMPLE / "policy.yaml")])
    assert result.exit_code == 2 and "record 81: not valid JSON" in result.stderr
    assert [p.name for p in work.iterdir()] == ["in.jsonl"]


def test_unknown_file_format(work):
    (work / "notes.txt").write_text("hello")
    result = runner.invoke(app, ["scrub", str(work / "notes.txt")])
    assert result.exit_code == 2 and "unknown dataset format" in result.stderr


RECORDS = [
    {"id": "P-1", "text": "Olusegun Bakare called from (646) 555-0172 about his order."},
    {"id": "P-2", "text": "Email olusegun.bakare@example.com; Olusegun Bakare is waiting."},
]


def test_vault_and_reidentify(work, monkeypatch):
    source = write_jsonl(work / "in.jsonl", RECORDS)
    policy = write_policy(work, "privacy: {vault: true, operators: {PHONE_NUMBER: {operator: encrypt}}}\n")
    result = runner.invoke(app, ["scrub", str(source), "-o", str(work / "out.jsonl"), "--policy", str(policy)])
    assert result.exit_code == 0, result.stderr
    scrubbed = (work / "out.jsonl").read_text()
    assert "Bakare" not in scrubbed and "555-0172" not in scrubbed and "enc:" in scrubbed
    assert "Bakare" not in (work / "out.vault").read_text()

    result = runner.invoke(app, ["reidentify", str(work / "out.jsonl"), "--vault", str(work / "out.vault"),
                                 "-o", str(work / "back.jsonl")])
    assert result.exit_code == 0, result.stderr
    assert list(read_records(work / "back.jsonl")) == RECORDS

    site_key = load_secret("site", Settings())
    person = next(f for f in read_manifest(work / "out.manifest.jsonl", site_key) if (f.record_id, f.start) == ("P-1", 0))
    result = runner.invoke(app, ["reidentify", "--vault", str(work / "out.vault"), "--fingerprint", person.fingerprint])
    assert result.exit_code == 0 and result.stdout.strip().endswith("\tOlusegun Bakare")

    monkeypatch.setenv("AIRLOCK_VAULT_KEY", "00" * 32)  # someone without the vault key
    result = runner.invoke(app, ["reidentify", str(work / "out.jsonl"), "--vault", str(work / "out.vault")])
    assert result.exit_code == 2 and "another vault key" in result.stderr and "Bakare" not in result.output


def test_vault_to_stdout_needs_a_vault_file(work):
    policy = write_policy(work, "privacy: {vault: true}\n")
    result = runner.invoke(app, ["scrub", "-", "--policy", str(policy)], input=json.dumps(RECORDS[0]) + "\n")
    assert result.exit_code == 2 and "--vault" in result.stderr
