"""CLI verbs of the audit stage: `airlock audit`, `airlock report …`, `airlock log …`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from privacy.errors import AuditError, BadInput

EXIT_QUARANTINE = 3
PUBLIC_KEY_FILE = "signing.pub"

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
    from api.progress import cli_progress
    from api.secrets import load_secret
    from api.settings import Settings
    from audit.canaries import read_canaries
    from audit.gate import run_audit
    from audit.inputs import AuditInputs, check_splits
    from audit.report import write_report
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
    paths = write_report(report, output, signing_key)
    _publish_public_key(settings, signing_key)
    _log(settings).append("audit.completed", None, {
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
    public_key: Path | None = typer.Option(None, "--public-key", help="Public key file (default: the data directory's)."),
) -> None:
    """Check a report's Ed25519 signature offline. Exit 0 when valid, 3 when not."""
    from api.settings import Settings
    from audit.report import SIGNATURE_SUFFIX, check_signature, read_public_key

    settings = Settings()
    key = read_public_key(public_key) if public_key else _local_public_key(settings)
    signature = signature or report.with_name(report.name + SIGNATURE_SUFFIX)
    result = check_signature(report, signature, key)
    if not result.ok:
        raise AuditError(f"{report.name}: {result.reason}")
    verdict = json.loads(report.read_text(encoding="utf-8")).get("verdict")
    typer.echo(f"{report.name}: {result.reason}; verdict: {verdict}")


@report_app.command("public-key")
def report_public_key(
    output: Path | None = typer.Option(None, "--output", "-o", help="Write the PEM here instead of printing it."),
) -> None:
    """Export the public key that verifies this site's reports (PEM)."""
    from api.secrets import load_secret
    from api.settings import Settings
    from audit.report import public_key, public_key_pem
    from privacy.records import atomic_output

    pem = public_key_pem(public_key(load_secret("signing", Settings())))
    if output is None:
        typer.echo(pem, nl=False)
        return
    with atomic_output(output) as out:
        out.write(pem)
    typer.echo(f"public key written to {output}")


@log_app.command("verify")
def log_verify() -> None:
    """Walk the hash chain; exit 0 when intact, 3 at the first edited, deleted or reordered entry."""
    from api.settings import Settings

    result = _log(Settings()).verify()
    if not result.ok:
        raise AuditError(f"audit log: {result.reason}")
    typer.echo(f"audit log: {result.reason}")


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


def _local_public_key(settings) -> bytes:
    """The data directory's public key file, or the key derived from a configured signing secret."""
    from api.secrets import load_secret
    from audit.report import public_key, read_public_key

    path = settings.data_dir / PUBLIC_KEY_FILE
    if path.is_file():
        return read_public_key(path)
    if os.environ.get("AIRLOCK_SIGNING_KEY") or os.environ.get("AIRLOCK_SIGNING_KEY_FILE") \
            or (settings.secrets_dir / "signing.key").is_file():
        return public_key(load_secret("signing", settings))
    raise BadInput("no public key in the data directory; pass --public-key FILE")


def _sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()
