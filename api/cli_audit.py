"""CLI verbs of the audit stage: `airlock audit`, `airlock report …`, `airlock log …`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from audit.errors import AuditError
from privacy.errors import BadInput

EXIT_QUARANTINE = 3
PUBLIC_KEY_FILE = "signing.pub"
BUNDLE_KEY_FILE = "signing-key.pub"  # shipped in a release bundle: shown as a fingerprint, never trusted

report_app = typer.Typer(help="Signed audit reports: check one offline, export the public key.", no_args_is_help=True)
log_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("audit")(audit)
    app.add_typer(report_app, name="report")
    app.add_typer(log_app, name="log")


def audit(
    synthetic: Path = typer.Option(..., "--synthetic", "-s", help="Synthetic records to release (JSONL or CSV)."),
    train: Path = typer.Option(..., "--train", "-t", help="Scrubbed training split the generator saw."),
    holdout: Path = typer.Option(..., "--holdout", "-H", help="Scrubbed holdout split it never saw."),
    output: Path = typer.Option(..., "--output", "-o", help="Directory for report.json, report.html and the signature."),
    manifest: Path | None = typer.Option(None, "--manifest", "-m", help="Privacy manifest of the source PII (enables pii_replay)."),
    policy: Path | None = typer.Option(None, "--policy", "-p", help="Policy YAML (default: the bundled policy)."),
    canaries: Path | None = typer.Option(None, "--canaries", help="Canary file planted before synthesis (enables canary_exposure)."),
) -> None:
    """Audit synthetic records against the training and holdout splits, and gate their release.

    Exit status: 0 when the gate passes, 3 when it quarantines, 2 on bad input.
    """
    from api.policy import load_policy
    from dataclasses import replace

    from api.progress import cli_progress
    from api.secrets import load_secret, public_id
    from api.settings import Settings
    from audit.canaries import read_canaries
    from audit.gate import run_audit
    from audit.inputs import AuditInputs, check_splits
    from audit.report import write_report
    from privacy.fingerprint import key_id
    from privacy.records import read_records

    settings = Settings()
    loaded = load_policy(policy or settings.policy)
    splits = {name: list(read_records(path, loaded.privacy.max_record_bytes))
              for name, path in (("synthetic", synthetic), ("train", train), ("holdout", holdout))}
    check_splits(AuditInputs(**splits), loaded.audit.min_holdout)  # before the slow analyzer loads
    site_key = load_secret("site", settings)
    findings = None
    if manifest is not None:
        from privacy.manifest import read_manifest

        findings = read_manifest(manifest, site_key)
    analyzer = None
    if "pii_rescan" not in loaded.audit.skip:
        from privacy.analyzer import build_analyzer

        analyzer = build_analyzer(loaded.privacy)
    inputs = AuditInputs(
        **splits, manifest=findings, site_key=site_key, analyzer=analyzer, privacy_policy=loaded.privacy,
        canaries=read_canaries(canaries) if canaries else None,
    )
    with cli_progress("Auditing") as progress:
        report = run_audit(inputs, loaded.audit, progress)
    signing_key = load_secret("signing", settings)
    log = _log(settings)
    seq, head = log.head_entry()
    report = replace(report, log_head={"seq": seq, "hash": head},
                     keys={"site": key_id(site_key), "signing": public_id("signing", signing_key)})
    paths = write_report(report, output, signing_key)
    _publish_public_key(settings, signing_key)
    log.append("audit.completed", None, {
        "report_id": report.report_id, "verdict": report.verdict, "reasons": list(report.reasons),
        "synthetic_sha256": report.inputs["synthetic"]["sha256"],
        "report_sha256": _sha256(paths["json"]),
    })
    for outcome in report.checks:
        figure = f" {outcome.result.figure:.3g} (limit {outcome.result.threshold:.3g})" if outcome.result else ""
        typer.echo(f"  {outcome.name:<28} {outcome.status}{figure}")
    typer.echo(f"verdict: {report.verdict.upper()} — report in {paths['json'].parent}")
    if not report.passed:
        for reason in report.reasons:
            typer.echo(f"  - {reason}")
        raise typer.Exit(EXIT_QUARANTINE)


@report_app.command("verify")
def report_verify(
    report: Path = typer.Argument(..., help="report.json to check."),
    signature: Path | None = typer.Option(None, "--signature", help="Signature file (default: REPORT.sig)."),
    public_key: Path | None = typer.Option(
        None, "--public-key", help="The issuing site's public key, obtained from that site, not from the bundle. "
                                   "Default: this site's own signing keys, and keys pinned in "
                                   "AIRLOCK_TRUSTED_SIGNING_KEYS."),
) -> None:
    """Check a report's Ed25519 signature offline against a key this site trusts. Exit 0 when valid, 3 when not.

    A key shipped inside the bundle (signing-key.pub) is never trusted by itself: a forger would
    replace it with their own. It is used only when its full fingerprint is pinned in the site's
    configuration; otherwise its fingerprint is shown, to compare with the one the issuer published.
    """
    from api.settings import Settings
    from audit.report import SIGNATURE_SUFFIX, check_signature, read_public_key

    settings = Settings()
    signature = signature or report.with_name(report.name + SIGNATURE_SUFFIX)
    if public_key is not None:
        key = read_public_key(public_key)
    else:
        key = _trusted_key_for(settings, report, signature)
    result = check_signature(report, signature, key)
    if not result.ok:
        raise AuditError(f"{report.name}: {result.reason}")
    verdict = json.loads(report.read_text(encoding="utf-8")).get("verdict")
    typer.echo(f"{report.name}: {result.reason}; verdict: {verdict}")


def _trusted_key_for(settings, report: Path, signature: Path) -> bytes:
    """The trusted public key whose id the signature names; AuditError when the site trusts none."""
    from audit.report import full_fingerprint, key_fingerprint, read_public_key

    trusted = _trusted_public_keys(settings)
    bundled = report.with_name(BUNDLE_KEY_FILE)
    shipped = None
    if bundled.is_file():
        shipped = read_public_key(bundled)
        if full_fingerprint(shipped) in settings.trusted_fingerprints:
            trusted[key_fingerprint(shipped)] = shipped
    claimed = _signed_key_id(signature)
    if claimed in trusted:
        return trusted[claimed]
    hint = (f"; the bundle's own key has fingerprint sha256:{full_fingerprint(shipped)} — compare it with the "
            "fingerprint the issuing site published, then pin it (AIRLOCK_TRUSTED_SIGNING_KEYS) or pass "
            "--public-key" if shipped is not None else "; pass --public-key FILE with the issuing site's key")
    raise AuditError(f"{report.name}: signed by key {claimed}, which this site does not trust{hint}")


def _trusted_public_keys(settings) -> dict[str, bytes]:
    """This site's own signing keys (current and rotated), by key id; never creates a key."""
    from api.secrets import load_keyring
    from audit.report import key_fingerprint, public_key

    ring = load_keyring("signing", settings, create=False)
    publics = [public_key(material) for material in ring.materials()] if ring else []
    return {key_fingerprint(p): p for p in publics}


def _signed_key_id(signature: Path) -> str:
    if not signature.is_file():
        raise BadInput(f"{signature.name}: no such file")
    try:
        return str(json.loads(signature.read_text(encoding="utf-8"))["key_id"])
    except (ValueError, KeyError, TypeError):
        raise AuditError(f"{signature.name} is not an Airlock signature file") from None


@report_app.command("public-key")
def report_public_key(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the PEM here instead of printing it."),
) -> None:
    """Export the public key that verifies this site's reports (PEM)."""
    from api.secrets import load_secret
    from api.settings import Settings
    from audit.report import full_fingerprint, public_key, public_key_pem
    from privacy.records import atomic_output

    public = public_key(load_secret("signing", Settings()))
    pem = public_key_pem(public)
    fingerprint = f"fingerprint sha256:{full_fingerprint(public)} (publish it: verifiers pin it)"
    if output is None:
        typer.echo(pem, nl=False)
        typer.echo(fingerprint, err=True)
        return
    with atomic_output(output) as out:
        out.write(pem)
    typer.echo(f"public key written to {output}; {fingerprint}")


@log_app.command("verify")
def log_verify(
    checkpoint: list[Path] | None = typer.Option(
        None, "--checkpoint", help="A checkpoints file, or a signed report.json (its log head), to hold the log "
                                   "against (repeatable). Default: the site's checkpoints file."),
    public_key: Path | None = typer.Option(None, "--public-key", help="Trust checkpoints signed by this key only "
                                           "(default: this site's signing keys)."),
) -> None:
    """Walk the hash chain and hold it against the signed checkpoints.

    Exit 0 when intact; 3 at the first edited, deleted or reordered entry, at a chain rewritten since a
    checkpoint, or when the log ends before the newest checkpoint (deleted newest entries, truncation).
    """
    from api.settings import Settings

    settings = Settings()
    trusted = _checkpoint_keys(settings, public_key)
    points = []
    for source in checkpoint or ([settings.log_checkpoints] if settings.log_checkpoints.is_file() else []):
        points.extend(_checkpoints_from(source, trusted))
    result = _log(settings).verify(points)
    if not result.ok:
        raise AuditError(f"audit log: {result.reason}")
    typer.echo(f"audit log: {result.reason}")


@log_app.command("checkpoint")
def log_checkpoint() -> None:
    """Sign the log's current head and append it to the checkpoints file (run it from a timer, e.g. cron).

    The service also writes one at every release and every AIRLOCK_LOG_CHECKPOINT_SECONDS.
    """
    from api.pipeline import checkpoint_audit_log
    from api.settings import Settings

    settings = Settings()
    point = checkpoint_audit_log(settings, _log(settings))
    typer.echo(f"checkpoint: entry {point.seq}, head {point.head[:16]}…, key {point.key_id} → "
               f"{settings.log_checkpoints}")


def _checkpoint_keys(settings, public_key: Path | None) -> dict[str, bytes]:
    from audit.report import key_fingerprint, read_public_key

    if public_key is None:
        return _trusted_public_keys(settings)
    public = read_public_key(public_key)
    return {key_fingerprint(public): public}


def _checkpoints_from(source: Path, trusted: dict[str, bytes]) -> list:
    """Trusted checkpoints from a checkpoints file or a signed report; AuditError on a forged one."""
    from audit.log import Checkpoint, checkpoint_is_genuine, read_checkpoints
    from audit.report import SIGNATURE_SUFFIX, check_signature

    if source.suffix == ".json":  # a signed report: its log head is a checkpoint
        signature = source.with_name(source.name + SIGNATURE_SUFFIX)
        claimed = _signed_key_id(signature)
        if claimed not in trusted or not check_signature(source, signature, trusted[claimed]).ok:
            raise AuditError(f"{source.name}: the report's signature does not verify with a trusted key")
        head = json.loads(source.read_text(encoding="utf-8")).get("log_head")
        if not isinstance(head, dict):
            raise BadInput(f"{source.name}: the report carries no log head")
        return [Checkpoint(int(head["seq"]), str(head["hash"]), "", claimed, "")]
    points = read_checkpoints(source)
    for number, point in enumerate(points, 1):
        if not checkpoint_is_genuine(point, trusted):
            raise AuditError(f"{source.name}: checkpoint {number} (entry {point.seq}) is not signed by a trusted key")
    return points


@log_app.command("show")
def log_show(
    job: str | None = typer.Option(None, "--job", help="Only this job's entries."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="At most this many entries."),
) -> None:
    """Print audit-log entries, oldest first, one JSON object per line."""
    from api.settings import Settings

    for entry in _log(Settings()).entries(job_id=job, limit=limit):
        typer.echo(json.dumps({"seq": entry.seq, "at": entry.at, "event": entry.event, "job_id": entry.job_id,
                               "details": entry.details, "hash": entry.hash}, ensure_ascii=False))


def _log(settings):
    """The audit log in the configured database. `open_database` runs the same Alembic migrations as
    the service and `airlock run`, which create the audit-log table on a fresh database."""
    from api.db import open_database
    from audit.log import AuditLog

    return AuditLog(open_database(settings.effective_database_url))


def _publish_public_key(settings, signing_key: bytes) -> None:
    from audit.report import public_key, public_key_pem
    from privacy.records import atomic_output

    path = settings.data_dir / PUBLIC_KEY_FILE
    pem = public_key_pem(public_key(signing_key))
    if not path.is_file() or path.read_text() != pem:
        with atomic_output(path) as out:
            out.write(pem)


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
