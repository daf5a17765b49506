"""CLI verbs of the service: run the pipeline, serve the API, run a worker, manage keys, show config."""

from __future__ import annotations

import json
from pathlib import Path

import typer

keys_app = typer.Typer(help="API keys: create (shown once), list, revoke; rotate the site's secret keys.",
                       no_args_is_help=True)
config_app = typer.Typer(help="Effective configuration.", no_args_is_help=True)


def run(
    input: Path = typer.Argument(..., help="Records to process: .jsonl or .csv."),
    outdir: Path = typer.Option(..., "-o", "--output", help="Where the release bundle (or quarantine report) goes."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy YAML (default: AIRLOCK_POLICY or the bundled one)."),
    mode: str | None = typer.Option(None, "--mode", help="Synthesis mode (default: the policy's)."),
    n: int | None = typer.Option(None, "-n", help="How many synthetic records (default: the policy's).", min=1),
    seed: int | None = typer.Option(None, "--seed", help="Seed for synthesis, canaries and fine-tuning (the split's is in the policy)."),
    finetune: bool = typer.Option(False, "--finetune", help="Fine-tune (LoRA) on the training split first."),
    dp: bool = typer.Option(False, "--dp", help="With --finetune: differentially private fine-tuning (DP-SGD)."),
    canaries: int = typer.Option(0, "--canaries", help="Insert this many canary records to measure exposure.", min=0),
    ray: str | None = typer.Option(None, "--ray", metavar="ADDRESS", help="Scrub on a Ray cluster at ADDRESS (host:port), 'local' to start one here, or 'none' to stay in this process; the output is the same. Overrides the policy's execution key."),
    workers: int | None = typer.Option(None, "--workers", min=1, help="On Ray: actors for the batch stages (default: the policy's execution.workers, else 1)."),
) -> None:
    """Scrub, split, synthesize, audit and gate INPUT; release to OUTDIR only if the gate passes.

    Exit status: 0 released; 2 bad input, policy or model; 3 quarantined or audit failed.
    """
    from api.cli_audit import EXIT_QUARANTINE
    from api.execution import placement
    from api.pipeline import PipelineOptions, run_pipeline
    from api.policy import load_policy
    from api.progress import cli_progress
    from api.settings import Settings
    from privacy.errors import BadInput

    if dp and not finetune:
        raise BadInput("--dp applies to fine-tuning: add --finetune")
    settings = Settings()
    chosen = load_policy(policy or settings.policy)
    placement(chosen.execution, ray, workers, settings.ray_address)  # a bad --ray or execution key: before any work
    options = PipelineOptions(mode=mode, n=n, seed=seed, finetune=finetune, dp=dp, canaries=canaries,
                              ray=ray, workers=workers)
    with cli_progress("airlock run") as bar:
        result = run_pipeline(input, outdir, chosen, settings, options,
                              progress=lambda stage, percent: bar(int(percent), 100))
    timings = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in result.timings.items())
    if attempts := result.counts.get("synth_attempts"):
        rejected = sum(result.counts.get("synth_rejected", {}).values())
        typer.echo(f"synth: {result.counts.get('synthetic')} of {result.counts.get('synth_requested')} records in "
                   f"{attempts} attempts ({rejected / attempts:.0%} rejected)", err=True)
    if result.released:
        typer.echo(f"released: the gate passed; bundle in {outdir}/ ({timings})")
        typer.echo(f"report: {result.report_html}")
        return
    typer.echo(f"quarantined: the gate failed; nothing was released ({timings})", err=True)
    typer.echo(f"report: {result.report_html}", err=True)
    raise typer.Exit(EXIT_QUARANTINE)


def serve(
    host: str | None = typer.Option(None, help="Bind address (default 127.0.0.1; AIRLOCK_HOST)."),
    port: int | None = typer.Option(None, help="Port (default 8000; AIRLOCK_PORT)."),
    worker: bool = typer.Option(True, "--worker/--no-worker", help="Run a job worker beside the server (jobs run in child processes)."),
) -> None:
    """Serve the HTTP API (uvicorn), with a job worker unless --no-worker (each job runs in its own child process)."""
    import uvicorn

    from api.app import create_app
    from api.settings import Settings

    settings = Settings()
    app = create_app(settings, worker=worker)
    host, port = host or settings.host, port or settings.port
    typer.echo(f"airlock: serving on http://{host}:{port} ({'with' if worker else 'without'} a worker)", err=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_config=None, server_header=False)


def worker_command() -> None:
    """Run a job worker until interrupted (several may share one database)."""
    import signal
    import threading

    from api.db import open_database
    from api.logs import configure_logging
    from api.settings import Settings
    from api.worker import Worker

    settings = Settings()
    configure_logging(settings.log_level, settings.log_file)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    Worker(settings, open_database(settings.effective_database_url)).run(stop)


def _engine():
    from api.db import open_database
    from api.settings import Settings

    return open_database(Settings().effective_database_url)


@keys_app.command("create")
def keys_create(
    role: str = typer.Option(..., "--role", help="submitter, reviewer, auditor or admin."),
    name: str | None = typer.Option(None, "--name", help="A label for the key (default: the person)."),
    person: str | None = typer.Option(None, "--person", help="The person who holds the key (default: --name). "
                                      "Four-eyes review compares people: all keys of one person count as one."),
) -> None:
    """Create an API key. It is printed once and stored only as a hash: keep it safe."""
    from audit.log import AuditLog
    from api.keys import create_key

    engine = _engine()
    principal, key = create_key(engine, role, name or person, person)
    AuditLog(engine).append("key.created", None, {"key_id": principal.key_id, "role": role,
                                                  "person": principal.person})
    typer.echo(key)
    typer.echo(f"key id {principal.key_id}, role {principal.role}, name {principal.name}, "
               f"person {principal.person} (the key is shown only this once)", err=True)


@keys_app.command("list")
def keys_list() -> None:
    """List keys: id, role, name, and whether revoked (never the keys)."""
    from api.keys import list_keys

    for key in list_keys(_engine()):
        state = "revoked" if key["revoked_at"] else "active"
        typer.echo(f"{key['id']}  {key['role']:<9}  {state:<7}  {key['name']}")


@keys_app.command("rotate")
def keys_rotate(
    secret: list[str] | None = typer.Option(None, "--secret", help="Rotate only this secret: site, vault or "
                                            "signing (repeatable; default: all three)."),
) -> None:
    """Rotate the site's secret keys: a new key writes from now on; the old ones stay to decrypt and verify.

    Rotating `site` starts new fingerprints and surrogates: values in jobs after the rotation no longer
    link to the same values before it. Rotating `signing` changes the public key: publish the new
    fingerprint (`airlock report public-key`) to whoever verifies your reports.
    """
    from audit.log import AuditLog
    from api.secrets import SECRET_NAMES, rotate
    from api.settings import Settings
    from privacy.errors import BadInput

    names = tuple(secret or SECRET_NAMES)
    unknown = [n for n in names if n not in SECRET_NAMES]
    if unknown:
        raise BadInput(f"unknown secret {unknown[0]!r} (use: {', '.join(SECRET_NAMES)})")
    settings = Settings()
    rotations = rotate(settings, names)
    log = AuditLog(_engine())
    for done in rotations:
        if done.new_id is None:
            typer.echo(f"{done.name}: not rotated: {done.note}", err=True)
            continue
        log.append("key.rotated", None, {"secret": done.name, "new_key_id": done.new_id,
                                         "retired_key_ids": list(done.retired)})
        typer.echo(f"{done.name}: new key {done.new_id}; still reading {', '.join(done.retired)} ({done.note})")


@keys_app.command("revoke")
def keys_revoke(key_id: str = typer.Argument(..., help="The key id (from `keys list`).")) -> None:
    """Revoke a key: it stops working at once."""
    from audit.log import AuditLog
    from api.keys import revoke_key

    engine = _engine()
    revoke_key(engine, key_id)
    AuditLog(engine).append("key.revoked", None, {"key_id": key_id})
    typer.echo(f"revoked {key_id}")


@config_app.command("show")
def config_show() -> None:
    """Print the effective configuration as JSON (secret values never; where they come from, key ids)."""
    from api.policy import load_policy
    from api.secrets import describe_sources
    from api.settings import Settings

    settings = Settings()
    shown = json.loads(settings.model_dump_json())
    shown["database_url"] = _without_password(settings.effective_database_url)
    shown["models_dir"], shown["jobs_dir"] = str(settings.models_dir), str(settings.jobs_dir)
    shown["secrets"] = describe_sources(settings)
    shown["policy"] = json.loads(load_policy(settings.policy).model_dump_json())
    typer.echo(json.dumps(shown, indent=2))


def _without_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command()(run)
    app.command()(serve)
    app.command("worker")(worker_command)
    app.add_typer(keys_app, name="keys")
    app.add_typer(config_app, name="config")
