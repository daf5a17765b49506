"""`airlock doctor`: the engine's build, the CPU, the smoke test, threads, GPU offload, model store."""

from __future__ import annotations

import json

import typer


def doctor(
    smoke: bool = typer.Option(True, "--smoke/--no-smoke", help="Run the engine smoke test (a child process, a few seconds)."),
    smoke_only: bool = typer.Option(False, "--smoke-only", help="Print only the smoke test's one line (setup uses this)."),
    record: bool = typer.Option(False, "--record", help="Save the smoke result in the engine record (setup uses this)."),
    as_json: bool = typer.Option(False, "--json", help="Print the facts as JSON."),
) -> None:
    """One screen about the synthesis engine to paste into a ticket.

    Shows the llama.cpp build flags and flavour, the CPU features seen (and whether the engine was
    built for them), the smoke test (load, multi-token decode, chat, JSON-schema output — run in a
    child process), threads, GPU offload and the model store. Exit status 1 when the smoke test fails.
    """
    from api.doctor import engine_facts, render, run_smoke, save_smoke
    from api.settings import Settings

    facts = engine_facts(Settings())
    result = run_smoke(facts) if smoke or smoke_only else None
    if record and result is not None:
        save_smoke(result)
    if smoke_only:
        typer.echo(f"engine smoke test {result.detail}", err=not result.passed)
    elif as_json:
        facts["smoke"] = None if result is None else {"passed": result.passed, "detail": result.detail, "steps": result.steps}
        typer.echo(json.dumps(facts, indent=2, default=str))
    else:
        typer.echo(render(facts, result))
    if result is not None and not result.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command()(doctor)
