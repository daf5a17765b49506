"""Keys and trust through the real CLI on real files: one key per purpose, key files kept private and
outside the data directory, rotation that keeps old data readable, re-identification in the audit
log, reports verified only against keys the site trusts, and the audit log held against signed
checkpoints."""

from __future__ import annotations

import json
import os
import stat

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from typer.testing import CliRunner

from api.cli import app
from privacy.errors import PolicyError

runner = CliRunner()
RAW = "Olusegun Bakare"  # a raw value: it may come back from re-identification, never in a log


@pytest.fixture
def site(data_dir, tmp_path, monkeypatch):
    """A data directory with its keys in a separate secrets directory, and its own SQLite log."""
    monkeypatch.setenv("AIRLOCK_SECRETS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("AIRLOCK_DATABASE_URL", f"sqlite:///{data_dir / 'airlock.db'}")
    for name in ("SITE", "VAULT", "SIGNING"):
        monkeypatch.delenv(f"AIRLOCK_{name}_KEY", raising=False)
        monkeypatch.delenv(f"AIRLOCK_{name}_KEY_FILE", raising=False)
    from api.settings import Settings

    return Settings()


def _log_entries(settings):
    from api.db import open_database
    from audit.log import AuditLog

    engine = open_database(settings.effective_database_url)
    try:
        return AuditLog(engine).entries()
    finally:
        engine.dispose()


def test_each_purpose_has_its_own_private_key_outside_the_data_directory(site, tmp_path):
    from api.secrets import load_secret
    from privacy.operators.encrypt import SIV_KEY_BYTES, siv_key
    from api.uploads import _wrap_key

    keys = {name: load_secret(name, site) for name in ("site", "vault", "signing")}
    assert len(set(keys.values())) == 3
    for name in keys:
        path = tmp_path / "keys" / f"{name}.key"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (site.data_dir / "secrets").exists()
    # The encrypt operator (AES-256-SIV: a 64-byte key) and upload wrapping never use the vault key itself.
    assert len(siv_key(keys["vault"])) == SIV_KEY_BYTES == 64
    derived = {siv_key(keys["vault"])[:32], siv_key(keys["vault"])[32:], _wrap_key(keys["vault"])}
    assert keys["vault"] not in derived and len(derived) == 3


def test_a_key_file_open_to_group_or_others_is_refused(site, tmp_path):
    from api.secrets import check_key_files, load_secret

    load_secret("signing", site)
    path = tmp_path / "keys" / "signing.key"
    os.chmod(path, 0o640)
    with pytest.raises(PolicyError, match="chmod 600"):
        check_key_files(site)
    result = runner.invoke(app, ["report", "public-key"])
    assert result.exit_code == 2 and "chmod 600" in result.output
    assert path.read_text().strip() not in result.output


def test_keys_from_the_environment_form_a_ring_newest_first(site, monkeypatch):
    from api.secrets import load_keyring, load_secret

    monkeypatch.setenv("AIRLOCK_VAULT_KEY", f"{'22' * 32}, {'11' * 32}")
    ring = load_keyring("vault", site)
    assert load_secret("vault", site) == bytes.fromhex("22" * 32) and len(ring.keys) == 2
    monkeypatch.setenv("AIRLOCK_VAULT_KEY", "33" * 16)
    with pytest.raises(PolicyError) as error:
        load_secret("vault", site)
    assert "33" * 16 not in str(error.value)


def _vault_with_token(path, vault_key: bytes, legacy: bool = False):
    """A vault holding RAW under a placeholder, and an encrypted token of RAW (made as before the
    key separation, with the raw vault key as AES-128-SIV, when `legacy`)."""
    import base64

    from privacy.fingerprint import fingerprint
    from privacy.operators.encrypt import encrypt_value
    from privacy.vault import VaultEntry, VaultWriter

    with VaultWriter(path, vault_key) as writer:
        writer.add(VaultEntry(fingerprint(b"s" * 32, RAW), "PERSON", "placeholder", "<PERSON_1>", RAW))
    if legacy:
        sealed = AESSIV(vault_key).encrypt(RAW.encode(), [b"airlock encrypt operator v1"])
        return "enc:" + base64.urlsafe_b64encode(sealed).decode().rstrip("=")
    return encrypt_value(vault_key, RAW)


def test_rotation_writes_with_new_keys_and_old_data_still_opens_and_verifies(site, tmp_path):
    from api.secrets import load_keyring, load_secret
    from audit.report import key_fingerprint, public_key, write_report
    from privacy.records import write_records

    old_vault = load_secret("vault", site)
    token = _vault_with_token(tmp_path / "old.vault", old_vault)
    old_report = write_report(_report(), tmp_path / "old-report", load_secret("signing", site))["json"]
    old_ids = {name: load_keyring(name, site).current.id for name in ("site", "vault", "signing")}

    rotated = runner.invoke(app, ["keys", "rotate"])
    assert rotated.exit_code == 0, rotated.output
    for name in ("site", "vault", "signing"):
        ring = load_keyring(name, site)
        assert ring.current.id != old_ids[name] and ring.keys[1].id == old_ids[name]
        assert stat.S_IMODE((tmp_path / "keys" / f"{name}.key").stat().st_mode) == 0o600
    assert load_secret("vault", site) != old_vault
    new_report = write_report(_report(), tmp_path / "new-report", load_secret("signing", site))["json"]
    assert json.loads((tmp_path / "new-report" / "report.json.sig").read_text())["key_id"] == \
        key_fingerprint(public_key(load_secret("signing", site)))

    write_records(tmp_path / "scrubbed.jsonl", [{"id": "r1", "text": f"<PERSON_1> wrote; card {token}"}])
    back = runner.invoke(app, ["reidentify", str(tmp_path / "scrubbed.jsonl"), "--vault", str(tmp_path / "old.vault")])
    assert back.exit_code == 0, back.output
    assert json.loads(back.stdout) == {"id": "r1", "text": f"{RAW} wrote; card {RAW}"}
    for report in (old_report, new_report):  # this site's own keys, current and rotated, verify
        assert runner.invoke(app, ["report", "verify", str(report)]).exit_code == 0
    events = [(e.event, e.details) for e in _log_entries(site)]
    assert [d["secret"] for e, d in events if e == "key.rotated"] == ["site", "vault", "signing"]
    assert RAW not in json.dumps(events) and old_vault.hex() not in json.dumps(events)


def test_tokens_and_uploads_from_before_the_key_separation_still_open(site, tmp_path):
    from api.secrets import load_secret
    from api.uploads import EncryptedUpload
    from privacy.operators.encrypt import decrypt_token
    from privacy.vault import Vault

    vault_key = load_secret("vault", site)
    token = _vault_with_token(tmp_path / "legacy.vault", vault_key, legacy=True)
    assert decrypt_token(vault_key, token) == RAW
    assert Vault(tmp_path / "legacy.vault", vault_key).reidentifier().text(token) == RAW
    # An upload whose job key was wrapped with the raw vault key, as before.
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    job_key, nonce, wrap_nonce = AESGCM.generate_key(bit_length=256), b"n" * 12, b"w" * 12
    (tmp_path / "upload.enc").write_bytes(nonce + AESGCM(job_key).encrypt(nonce, b'{"id": "a"}\n', b"airlock:upload:j1"))
    wrapped = wrap_nonce + AESGCM(vault_key).encrypt(wrap_nonce, job_key, b"airlock:upload-key:j1")
    upload = EncryptedUpload(tmp_path / "upload.enc", "j1", wrapped, vault_key, "jsonl")
    assert list(upload.records()) == [{"id": "a"}]


def test_every_cli_reidentification_is_logged_without_the_values(site, tmp_path):
    from api.secrets import load_secret
    from privacy.fingerprint import fingerprint
    from privacy.records import write_records

    vaults = site.data_dir / "vaults"
    vaults.mkdir()
    token = _vault_with_token(vaults / "job42.vault", load_secret("vault", site))
    write_records(tmp_path / "s.jsonl", [{"id": "r1", "text": f"<PERSON_1> and {token}"}, {"id": "r2", "text": "-"}])
    done = runner.invoke(app, ["reidentify", str(tmp_path / "s.jsonl"), "--vault", str(vaults / "job42.vault"),
                               "-o", str(tmp_path / "back.jsonl"), "--reason", "CASE-7"])
    assert done.exit_code == 0, done.output
    looked_up = runner.invoke(app, ["reidentify", "--vault", str(vaults / "job42.vault"),
                                    "--fingerprint", fingerprint(b"s" * 32, RAW)])
    assert looked_up.exit_code == 0 and looked_up.stdout.strip().endswith(RAW)
    entries = [e for e in _log_entries(site) if e.event == "vault.reidentified"]
    assert [(e.job_id, e.details["records"], e.details["values"]) for e in entries] == [("job42", 2, 2), ("job42", 0, 1)]
    assert entries[0].details["by"].startswith("cli:") and entries[0].details["reason"] == "CASE-7"
    assert all(RAW not in json.dumps(e.details) and "Bakare" not in json.dumps(e.details) for e in entries)


# -- reports: verified against a key the site trusts, never the bundle's own -----------------------

def _report(verdict: str = "pass"):
    from audit.report import SCHEMA, SCHEMA_VERSION, Report

    inputs = {split: {"records": 1, "sha256": "0" * 64} for split in ("synthetic", "train", "holdout")}
    return Report(SCHEMA, SCHEMA_VERSION, "r-1", "2026-01-01T00:00:00+00:00", verdict, (), (), inputs, {})


def _bundle(folder, signing_key: bytes, verdict: str = "pass"):
    """A bundle as a release has it: the signed report and the signer's own public key beside it."""
    from audit.report import public_key, public_key_pem, write_report

    paths = write_report(_report(verdict), folder, signing_key)
    (folder / "signing-key.pub").write_text(public_key_pem(public_key(signing_key)))
    return paths["json"]


def test_a_forged_bundle_with_its_own_key_fails_against_the_sites_key(site, tmp_path):
    from api.secrets import load_secret
    from audit.report import full_fingerprint, public_key

    genuine = _bundle(tmp_path / "genuine", load_secret("signing", site))
    forger = bytes(range(32))
    forged = _bundle(tmp_path / "forged", forger, verdict="pass")  # a forger signs and ships their own key
    assert runner.invoke(app, ["report", "verify", str(genuine)]).exit_code == 0
    refused = runner.invoke(app, ["report", "verify", str(forged)])
    assert refused.exit_code == 3 and "does not trust" in refused.output
    assert f"sha256:{full_fingerprint(public_key(forger))}" in refused.output  # shown to compare, not trusted
    exported = runner.invoke(app, ["report", "public-key", "-o", str(tmp_path / "site.pem")])
    assert full_fingerprint(public_key(load_secret("signing", site))) in exported.output
    with_site_key = runner.invoke(app, ["report", "verify", str(forged), "--public-key", str(tmp_path / "site.pem")])
    assert with_site_key.exit_code == 3


def test_a_recipient_trusts_a_bundle_key_only_when_its_full_fingerprint_is_pinned(site, tmp_path, monkeypatch):
    from audit.report import full_fingerprint, key_fingerprint, public_key

    issuer = bytes(range(100, 132))
    bundle = _bundle(tmp_path / "bundle", issuer)
    pin = full_fingerprint(public_key(issuer))
    unpinned = runner.invoke(app, ["report", "verify", str(bundle)])
    assert unpinned.exit_code == 3 and pin in unpinned.output
    monkeypatch.setenv("AIRLOCK_TRUSTED_SIGNING_KEYS", key_fingerprint(public_key(issuer)))  # a short id is no pin
    assert runner.invoke(app, ["report", "verify", str(bundle)]).exit_code == 3
    monkeypatch.setenv("AIRLOCK_TRUSTED_SIGNING_KEYS", f"sha256:{pin}")
    assert runner.invoke(app, ["report", "verify", str(bundle)]).exit_code == 0
    forged = _bundle(tmp_path / "forged", bytes(range(1, 33)))
    assert runner.invoke(app, ["report", "verify", str(forged)]).exit_code == 3


# -- the audit log against signed checkpoints, through `airlock log …` ----------------------------

def _site_log(settings):
    from api.db import open_database
    from audit.log import AuditLog

    return AuditLog(open_database(settings.effective_database_url))


def test_log_verify_catches_deleted_newest_entries_given_the_last_checkpoint(site):
    from sqlalchemy import text

    log = _site_log(site)
    for i in range(4):
        log.append("job.stage", f"job-{i}", {"stage": i})
    made = runner.invoke(app, ["log", "checkpoint"])
    assert made.exit_code == 0, made.output
    assert runner.invoke(app, ["log", "verify"]).exit_code == 0
    with log.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq >= 3"))
    result = runner.invoke(app, ["log", "verify"])
    assert result.exit_code == 3 and "deleted" in result.output
    log.engine.dispose()


def test_a_signed_reports_log_head_is_a_checkpoint_and_a_forged_checkpoint_is_refused(site, tmp_path):
    from dataclasses import replace

    from sqlalchemy import text

    from api.secrets import load_secret
    from audit.log import append_checkpoint, sign_checkpoint
    from audit.report import write_report

    log = _site_log(site)
    for i in range(3):
        log.append("job.stage", f"job-{i}", {"stage": i})
    seq, head = log.head_entry()
    report = replace(_report(), log_head={"seq": seq, "hash": head})
    path = write_report(report, tmp_path / "r", load_secret("signing", site))["json"]
    assert runner.invoke(app, ["log", "verify", "--checkpoint", str(path)]).exit_code == 0
    with log.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))
    truncated = runner.invoke(app, ["log", "verify", "--checkpoint", str(path)])
    assert truncated.exit_code == 3 and "truncated" in truncated.output
    append_checkpoint(site.log_checkpoints, sign_checkpoint(0, head, bytes(range(32))))  # not the site's key
    forged = runner.invoke(app, ["log", "verify"])
    assert forged.exit_code == 3 and "not signed by a trusted key" in forged.output
    log.engine.dispose()


def test_the_service_refuses_to_start_with_a_key_file_others_can_read(site, tmp_path):
    from fastapi.testclient import TestClient

    from api.app import create_app
    from api.secrets import load_secret

    load_secret("vault", site)
    os.chmod(tmp_path / "keys" / "vault.key", 0o644)
    app = create_app(site)
    with pytest.raises(PolicyError, match="chmod 600"):
        with TestClient(app):
            pass
    os.chmod(tmp_path / "keys" / "vault.key", 0o600)
    with TestClient(app) as client:
        assert client.get("/healthz").status_code == 200
    app.state.engine.dispose()
