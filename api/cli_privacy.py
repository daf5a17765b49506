"""CLI verbs of the privacy stage: `airlock scrub` and `airlock reidentify`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer

from privacy.errors import BadInput, PolicyError


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("scrub")(scrub)
    app.command("reidentify")(reidentify)


def scrub(
    input: Annotated[str, typer.Argument(help="Records to scrub: a .jsonl or .csv file, or - for JSONL on stdin.",
                                         show_default=False)],
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", help="Where the scrubbed records go (same format; - for stdout). "
                               "Default: INPUT.scrubbed.jsonl/.csv beside the input, or stdout for stdin.")] = None,
    policy: Annotated[Optional[Path], typer.Option(
        "--policy", help="Policy YAML (its privacy section). Default: AIRLOCK_POLICY or the bundled default.")] = None,
    manifest: Annotated[Optional[Path], typer.Option(
        "--manifest", help="Where the manifest of findings goes. Default: beside the output file.")] = None,
    vault: Annotated[Optional[Path], typer.Option(
        "--vault", help="Write the encrypted vault for re-identification here (needs the vault key). "
                        "Default when the policy enables the vault: beside the output file.")] = None,
    workers: Annotated[Optional[int], typer.Option(
        "--workers", min=1, help="Detection processes (with --ray: Ray actors). Default: one per core for large "
                                 "files, else 1.")] = None,
    ray: Annotated[Optional[str], typer.Option(
        "--ray", metavar="ADDRESS", help="Detect on a Ray cluster at ADDRESS (host:port), 'local' to start one "
                                         "here, or 'none' to stay in this process. Output and manifest are the same as without it. Overrides the policy's "
                                         "execution key.")] = None,
) -> None:
    """Replace the PII in every record as the policy says, and write a manifest of findings.

    The manifest gives each finding's record, field, span, type, detector and keyed fingerprint, never the value.

    Bad input stops the run with the record number and field, leaving no output behind.
    """
    from api.execution import executor, placement
    from api.policy import load_policy
    from api.progress import cli_progress
    from api.secrets import load_secret
    from api.settings import Settings
    from privacy.records import dataset_format
    from privacy.scrub import Scrubber, scrub_file

    settings = Settings()
    loaded = load_policy(policy or settings.policy)
    placed = placement(loaded.execution, ray, workers, settings.ray_address)  # flags beat the policy's execution
    privacy = loaded.privacy
    dataset_format(input)
    output = output or _default_output(input)
    dataset_format(output)
    to_stdout = output == "-"
    if manifest is None and not to_stdout:
        manifest = _beside(output, ".manifest.jsonl")
    if privacy.vault and vault is None:
        if to_stdout:
            raise PolicyError("the policy enables the vault: name its file with --vault")
        vault = _beside(output, ".vault")
    uses_encrypt = any(rule.operator == "encrypt" for rule in (privacy.default_operator, *privacy.operators.values()))
    vault_key = load_secret("vault", settings) if vault or uses_encrypt else None
    from privacy.batch import BatchScrubber

    with executor(placed.ray, placed.workers) as runner:
        site_key = load_secret("site", settings)
        scrubber = (BatchScrubber(privacy, site_key, runner, vault_key=vault_key) if placed.ray
                    else Scrubber(privacy, site_key, vault_key=vault_key))
        with cli_progress("scrubbing") as progress:
            summary = scrub_file(input, output, manifest, scrubber, progress=progress,
                                 workers=1 if placed.ray else placed.workers, vault=vault)
    counts = ", ".join(f"{entity} {n}" for entity, n in summary.by_entity.items()) or "none"
    where = "" if to_stdout else f" → {output}"
    typer.echo(f"scrubbed {summary.records} records{where}; {summary.findings} findings ({counts})", err=True)
    if manifest:
        typer.echo(f"manifest: {manifest}", err=True)
    if vault:
        typer.echo(f"vault: {vault}", err=True)


def reidentify(
    input: Annotated[Optional[str], typer.Argument(
        help="Scrubbed records (.jsonl/.csv, or - for stdin) to put the raw values back into.",
        show_default=False)] = None,
    vault: Annotated[Path, typer.Option("--vault", help="The vault written by `airlock scrub --vault`.",
                                        show_default=False)] = ...,
    output: Annotated[str, typer.Option("--output", "-o", help="Where re-identified records go (- for stdout).")] = "-",
    fingerprint: Annotated[Optional[list[str]], typer.Option(
        "--fingerprint", help="Print the raw value behind a manifest fingerprint instead (repeatable).")] = None,
    reason: Annotated[Optional[str], typer.Option(
        "--reason", help="Why (a ticket or case number): written to the audit log with who did it.")] = None,
) -> None:
    """Put raw values back from the vault (authorized people holding the vault key only).

    Maps placeholders, surrogates, keyed hashes and encrypted tokens, or manifest fingerprints, back to raw values.
    Every re-identification is written to the audit log first (who, which vault, how many records and
    values, never the values); if the log cannot be written, nothing is revealed.

    Without the vault key the vault cannot be opened and nothing is recoverable.
    """
    from api.secrets import load_keyring
    from api.settings import Settings
    from privacy.records import read_records, write_records
    from privacy.vault import Vault

    settings = Settings()
    opened = Vault(vault, load_keyring("vault", settings).materials())
    if fingerprint:
        found = [(wanted, opened.lookup(wanted)) for wanted in fingerprint]
        missing = next((wanted for wanted, entries in found if not entries), None)
        if missing is not None:
            raise BadInput(f"{vault.name}: no entry for fingerprint {missing[:16]}…")
        entries = [entry for _, matched in found for entry in matched]
        _log_reidentification(settings, vault, reason, records=0, values=len(entries), fingerprints=len(found))
        for entry in entries:
            typer.echo(f"{entry.fingerprint}\t{entry.entity_type}\t{entry.value}")
        return
    if input is None:
        raise BadInput("give scrubbed records to re-identify, or --fingerprint")
    reidentifier = opened.reidentifier()
    restored = [{k: reidentifier.value(v) for k, v in record.items()} for record in read_records(input)]
    _log_reidentification(settings, vault, reason, records=len(restored), values=reidentifier.replaced)
    count = write_records(output, restored)
    if output != "-":
        typer.echo(f"re-identified {count} records → {output}", err=True)


def _log_reidentification(settings, vault: Path, reason: str | None, **counts: int) -> None:  # noqa: ANN001
    """Who re-identified what, by counts: the operating-system user at the CLI (the API logs the key
    and its holder). The vault's name is its job id for vaults the service wrote."""
    import getpass

    from api.db import open_database
    from audit.log import AuditLog

    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = f"uid {os.getuid()}"
    details = {"by": f"cli:{who}", "vault": vault.name, **counts}
    if reason:
        details["reason"] = reason[:200]
    job_id = vault.stem if vault.suffix == ".vault" and vault.parent.name == "vaults" else None
    AuditLog(open_database(settings.effective_database_url)).append("vault.reidentified", job_id, details)


def _default_output(input: str) -> str:
    if input == "-":
        return "-"
    path = Path(input)
    return str(path.with_name(f"{path.stem}.scrubbed{path.suffix}"))


def _beside(output: str, suffix: str) -> Path:
    path = Path(output)
    return path.with_name(path.stem + suffix)
