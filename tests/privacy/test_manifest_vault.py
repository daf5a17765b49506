"""Manifest and vault: fingerprints instead of values, and raw values only under the vault key.

These records hold only structured PII columns, so no analyzer is needed and the tests are quick.
"""

from __future__ import annotations

import json

import pytest

from privacy.errors import BadInput, PolicyError
from privacy.fingerprint import fingerprint, key_id, normalize, prefix
from privacy.manifest import Finding, ManifestWriter, read_manifest
from privacy.policy import PrivacyPolicy
from privacy.records import read_records
from privacy.scrub import Scrubber, scrub_file
from privacy.vault import Vault

SITE_KEY = bytes(range(32))
VAULT_KEY = bytes(range(64, 96))
OTHER_KEY = bytes(32)

POLICY = PrivacyPolicy.model_validate({
    "fields": {
        "name": {"kind": "pii", "entity": "PERSON"},
        "email": {"kind": "pii", "entity": "EMAIL_ADDRESS"},
        "phone": {"kind": "pii", "entity": "PHONE_NUMBER"},
        "ssn": {"kind": "pii", "entity": "US_SSN"},
        "plan": {"kind": "label"},
    },
    "operators": {
        "EMAIL_ADDRESS": {"operator": "hash"},
        "PHONE_NUMBER": {"operator": "surrogate"},
        "US_SSN": {"operator": "encrypt"},
    },
})
RECORDS = [
    {"id": "C-1", "name": "Grace Hopper", "email": "grace@example.com", "phone": "(212) 555-0147",
     "ssn": "123-45-6789", "plan": "gold", "visits": 3},
    {"id": "C-2", "name": "Alan Turing", "email": "alan.t@example.org", "phone": "020 7946 0321",
     "ssn": "987-65-4321", "plan": "basic", "visits": 1},
    {"id": "C-3", "name": "grace hopper", "email": "GRACE@example.com", "phone": "212-555-0147",
     "ssn": "123-45-6789", "plan": "gold", "visits": 7},
]
RAW_VALUES = {v for r in RECORDS for k, v in r.items() if k in ("name", "email", "phone", "ssn")}


@pytest.fixture
def records_file(tmp_path):
    path = tmp_path / "customers.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return path


def scrub_to(tmp_path, records_file, vault_key=VAULT_KEY, vault=True):
    scrubber = Scrubber(POLICY, SITE_KEY, vault_key=vault_key)
    paths = {"out": tmp_path / "out.jsonl", "manifest": tmp_path / "out.manifest.jsonl",
             "vault": tmp_path / "out.vault" if vault else None}
    summary = scrub_file(records_file, paths["out"], paths["manifest"], scrubber, vault=paths["vault"])
    return summary, paths


def test_manifest_names_every_finding_by_fingerprint_never_by_value(tmp_path, records_file):
    summary, paths = scrub_to(tmp_path, records_file)
    assert summary.records == 3 and summary.findings == 12
    assert summary.by_entity == {"EMAIL_ADDRESS": 3, "PERSON": 3, "PHONE_NUMBER": 3, "US_SSN": 3}
    text = paths["manifest"].read_text()
    for value in RAW_VALUES:
        assert value not in text and value.lower() not in text.lower()
    header = json.loads(text.splitlines()[0])
    assert header["manifest"]["key_id"] == key_id(SITE_KEY)
    findings = read_manifest(paths["manifest"], SITE_KEY)
    by_key = {(f.record_id, f.field): f for f in findings}
    for record in RECORDS:
        for field_name in ("name", "email", "phone", "ssn"):
            finding = by_key[(record["id"], field_name)]
            assert finding.fingerprint == fingerprint(SITE_KEY, record[field_name])
            assert finding.prefix == prefix(SITE_KEY, record[field_name])
            assert (finding.start, finding.end) == (0, len(record[field_name]))
            assert finding.detector == "field rule"
    assert by_key[("C-1", "ssn")].operator == "encrypt"
    # Same normalized value, same fingerprint: this is what the audit's replay check relies on.
    assert by_key[("C-1", "name")].fingerprint == by_key[("C-3", "name")].fingerprint


def test_structured_columns_are_replaced_labels_and_numbers_kept(tmp_path, records_file):
    _, paths = scrub_to(tmp_path, records_file)
    out = list(read_records(paths["out"]))
    assert [r["id"] for r in out] == ["C-1", "C-2", "C-3"]
    assert [r["plan"] for r in out] == ["gold", "basic", "gold"] and [r["visits"] for r in out] == [3, 1, 7]
    assert out[0]["name"] == out[2]["name"] == "<PERSON_1>" and out[1]["name"] == "<PERSON_2>"
    assert out[0]["email"] == out[2]["email"] == fingerprint(SITE_KEY, "grace@example.com")[:16]
    assert out[0]["phone"] != RECORDS[0]["phone"] and len(out[0]["phone"]) == len(RECORDS[0]["phone"])
    digits = [normalize(r["phone"]) for r in out]
    assert digits[0] == digits[2] != digits[1]  # one value in two formats: the same fake digits
    assert out[0]["ssn"].startswith("enc:") and out[0]["ssn"] == out[2]["ssn"]
    assert not RAW_VALUES & {v for r in out for v in r.values()}


def test_manifest_from_another_site_key_is_refused(tmp_path, records_file):
    _, paths = scrub_to(tmp_path, records_file)
    with pytest.raises(PolicyError, match="another site key"):
        read_manifest(paths["manifest"], OTHER_KEY)


def test_malformed_manifest_names_the_line(tmp_path):
    path = tmp_path / "m.jsonl"
    with ManifestWriter(path, SITE_KEY) as writer:
        writer.add([Finding("R-1", 1, "text", "PERSON", 0, 4, "test", 0.9, "placeholder", "ab" * 32, "cd" * 8)])
    assert len(read_manifest(path, SITE_KEY)) == 1
    path.write_text(path.read_text() + '{"record_id": "R-2"}\n')
    with pytest.raises(BadInput, match="line 3"):
        read_manifest(path, SITE_KEY)
    path.write_text("")
    with pytest.raises(BadInput, match="empty"):
        read_manifest(path, SITE_KEY)


def _manifest_lines(path, version: int, *entries: dict) -> None:
    header = {"manifest": {"version": version, "key_id": key_id(SITE_KEY), "fingerprint": "hmac"}}
    path.write_text("".join(json.dumps(line) + "\n" for line in (header, *entries)))


FINDING_V1 = {"record_id": "R-1", "record_number": 1, "field": "text", "entity_type": "PERSON", "start": 0,
              "end": 4, "detector": "test", "score": 0.9, "operator": "placeholder", "fingerprint": "ab" * 32}


def test_manifest_version_2_round_trips_with_prefixes(tmp_path, records_file):
    _, paths = scrub_to(tmp_path, records_file, vault=False)
    lines = paths["manifest"].read_text().splitlines()
    assert json.loads(lines[0])["manifest"]["version"] == 2
    assert all(len(json.loads(line)["prefix"]) == 16 for line in lines[1:])
    again = tmp_path / "again.jsonl"
    findings = read_manifest(paths["manifest"], SITE_KEY)
    with ManifestWriter(again, SITE_KEY) as writer:
        writer.add(findings)
    assert read_manifest(again, SITE_KEY) == findings


def test_a_version_1_manifest_is_still_read_without_prefixes(tmp_path):
    path = tmp_path / "v1.jsonl"
    _manifest_lines(path, 1, FINDING_V1, {**FINDING_V1, "record_id": "R-2"})
    findings = read_manifest(path, SITE_KEY)
    assert [f.record_id for f in findings] == ["R-1", "R-2"] and all(f.prefix is None for f in findings)
    _manifest_lines(path, 1, FINDING_V1, {**FINDING_V1, "prefix": "cd" * 8})  # version 1 has no prefix field
    with pytest.raises(BadInput, match="line 3: not a version 1 manifest finding"):
        read_manifest(path, SITE_KEY)


@pytest.mark.parametrize("entry, message", [
    (FINDING_V1, "line 2: not a version 2 manifest finding"),
    ({**FINDING_V1, "prefix": None}, "line 2: field 'prefix' is not 16 lower-case hex digits"),
    ({**FINDING_V1, "prefix": 12}, "line 2: field 'prefix' is not 16"),
    ({**FINDING_V1, "prefix": "CD" * 8}, "line 2: field 'prefix' is not 16"),
    ({**FINDING_V1, "prefix": "cd" * 7}, "line 2: field 'prefix' is not 16"),
    ({**FINDING_V1, "prefix": "cd" * 8 + "\n"}, "line 2: field 'prefix' is not 16"),
    ({**FINDING_V1, "prefix": "cd" * 8, "score": "high"}, "line 2: field 'score' has the wrong type"),
])
def test_a_malformed_version_2_finding_is_refused_in_one_line(tmp_path, entry, message):
    path = tmp_path / "v2.jsonl"
    _manifest_lines(path, 2, entry)
    with pytest.raises(BadInput, match=message) as refused:
        read_manifest(path, SITE_KEY)
    assert "\n" not in str(refused.value)


def test_unknown_manifest_versions_and_findings_without_prefix_are_refused(tmp_path):
    path = tmp_path / "v3.jsonl"
    for version in (3, True, "2", 2.0, None):
        _manifest_lines(path, version, {**FINDING_V1, "prefix": "cd" * 8})
        with pytest.raises(BadInput, match="line 1: not an Airlock manifest header"):
            read_manifest(path, SITE_KEY)
    with pytest.raises(ValueError, match="prefix"):
        with ManifestWriter(tmp_path / "m.jsonl", SITE_KEY) as writer:
            writer.add([Finding("R-1", 1, "text", "PERSON", 0, 4, "test", 0.9, "placeholder", "ab" * 32)])
    assert not (tmp_path / "m.jsonl").exists()


def test_an_interrupted_manifest_leaves_no_file(tmp_path):
    path = tmp_path / "m.jsonl"
    with pytest.raises(RuntimeError):
        with ManifestWriter(path, SITE_KEY) as writer:
            writer.add([Finding("R-1", 1, "text", "PERSON", 0, 4, "test", 0.9, "placeholder", "ab" * 32, "cd" * 8)])
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []


def test_vault_round_trip_restores_the_records(tmp_path, records_file):
    _, paths = scrub_to(tmp_path, records_file)
    sealed = paths["vault"].read_bytes()
    for value in RAW_VALUES:
        assert value.encode() not in sealed
    assert fingerprint(SITE_KEY, "Grace Hopper").encode() not in sealed  # not even fingerprints show
    reidentifier = Vault(paths["vault"], VAULT_KEY).reidentifier()
    restored = [{k: reidentifier.value(v) for k, v in r.items()} for r in read_records(paths["out"])]
    # A placeholder or hash stands for the first spelling of its value; a format-preserving
    # surrogate keeps each format apart.
    expected = [dict(RECORDS[0]), dict(RECORDS[1]), dict(RECORDS[2], name="Grace Hopper", email="grace@example.com")]
    assert restored == expected


def test_vault_lookup_by_manifest_fingerprint(tmp_path, records_file):
    _, paths = scrub_to(tmp_path, records_file)
    finding = next(f for f in read_manifest(paths["manifest"], SITE_KEY) if f.field == "email")
    [entry] = Vault(paths["vault"], VAULT_KEY).lookup(finding.fingerprint)
    assert entry.value == "grace@example.com" and entry.entity_type == "EMAIL_ADDRESS"
    assert "grace" not in repr(entry)


def test_vault_does_not_open_without_its_key(tmp_path, records_file):
    _, paths = scrub_to(tmp_path, records_file)
    with pytest.raises(PolicyError, match="another vault key"):
        list(Vault(paths["vault"], OTHER_KEY).entries())
    lines = paths["vault"].read_text().splitlines()
    forged = json.loads(lines[0])
    forged["vault"]["key_id"] = key_id(OTHER_KEY)  # a header claiming the other key does not help
    paths["vault"].write_text("\n".join([json.dumps(forged), *lines[1:]]) + "\n")
    with pytest.raises(PolicyError, match="does not open"):
        list(Vault(paths["vault"], OTHER_KEY).entries())


def test_vault_needs_the_vault_key(tmp_path, records_file):
    policy = PrivacyPolicy.model_validate({"fields": {k: v.model_dump() for k, v in POLICY.fields.items()}})
    with pytest.raises(PolicyError, match="vault key"):
        scrub_file(records_file, tmp_path / "o.jsonl", None, Scrubber(policy, SITE_KEY), vault=tmp_path / "v")
    assert not (tmp_path / "o.jsonl").exists()
