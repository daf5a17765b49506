"""CLI verbs of the finetune stage: `airlock finetune`."""

from __future__ import annotations

import sys
from contextlib import contextmanager

import typer

from api.settings import Settings


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("finetune")(finetune)


def finetune(
    train: str = typer.Argument(..., help="The scrubbed TRAINING split (.jsonl or .csv) — never the holdout."),
    output: str = typer.Option(..., "--output", "-o", help="Name of the new model in the model store."),
    base: str = typer.Option(None, "--base", help="Base model name in the store (default: the bundled SmolLM2)."),
    dp: bool = typer.Option(False, "--dp", help="Train with differential privacy (DP-SGD). Without it the model carries no guarantee."),
    epsilon: float = typer.Option(8.0, "--epsilon", min=0.01, help="DP: the privacy budget ε for the whole run."),
    delta: float = typer.Option(None, "--delta", help="DP: δ, below 1/n for n records (default 1/n^1.1)."),
    accountant: str = typer.Option("rdp", "--accountant", help="DP: privacy accountant, rdp or prv."),
    clip_norm: float = typer.Option(1.0, "--clip-norm", help="DP: per-record gradient clipping norm."),
    privacy_unit: str = typer.Option(None, "--privacy-unit", help="DP: field naming the person a record is about (their records count once), or 'record'."),
    epochs: int = typer.Option(3, "--epochs", min=1, help="Passes over the training records."),
    batch_size: int = typer.Option(8, "--batch-size", min=1, help="Records per step (the expected batch under DP)."),
    learning_rate: float = typer.Option(2e-3, "--learning-rate", help="AdamW learning rate of the LoRA adapter."),
    lora_r: int = typer.Option(8, "--lora-r", min=1, help="LoRA rank."),
    lora_targets: str = typer.Option(None, "--lora-targets", help="Comma-separated projections the adapter trains, e.g. q_proj,v_proj (default: all seven)."),
    max_length: int = typer.Option(None, "--max-length", min=16, help="Longest training sequence in tokens (request + record; default 512, 128 with --dp); longer records are trained on their start only."),
    seed: int = typer.Option(0, "--seed", help="Seed of initialisation and data order. DP noise never comes from it: it is drawn from os.urandom."),
    label_field: str = typer.Option(None, "--label-field", help="The class label field, as for `airlock synth`."),
    text_field: list[str] = typer.Option(None, "--text-field", help="A free-text field to learn (repeatable; default: inferred)."),
    threads: int = typer.Option(None, "--threads", min=1, help="CPU threads for training (default: torch's)."),
    restart: bool = typer.Option(False, "--restart", help="Discard a checkpoint of a different earlier run under this name."),
) -> None:
    """Fine-tune a local model on scrubbed training records (LoRA), export it to GGUF and register it.

    With --dp the run is differentially private: Poisson sampling, per-record clipping and noise
    calibrated to (ε, δ); refused when the data cannot support the guarantee. The model's provenance
    records the guarantee, and `airlock synth --model NAME` then uses it. An interrupted run resumes
    from its last checkpoint when the same command is run again, spending no extra privacy budget.
    """
    from privacy.records import read_records
    from synth.finetune import FinetuneConfig
    from synth.finetune import finetune as run_finetune
    from synth.store import ModelStore

    settings = Settings()
    config = FinetuneConfig(
        dp=dp, epsilon=epsilon, delta=delta, accountant=_accountant(accountant), clip_norm=clip_norm,
        privacy_unit=privacy_unit, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
        lora_r=lora_r, lora_targets=_lora_targets(lora_targets), max_length=max_length, seed=seed, label_field=label_field,
        text_fields=text_field or None, threads=threads, restart=restart,
        checkpoint_dir=settings.data_dir / "finetune" / output,
    )
    records = list(read_records(train))
    store = ModelStore(settings.models_dir)
    with _training_bar(output) as on_step:
        try:
            info = run_finetune(records, store.get(base), store, config, on_step=on_step, name=output)
        except KeyboardInterrupt:
            typer.echo("finetune: stopped; run the same command again to resume from the last checkpoint", err=True)
            raise typer.Exit(130) from None
    p = info.provenance
    typer.echo(f"finetune: registered {info.name} ({info.path.name}, sha256 {info.sha256[:12]}…)", err=True)
    typer.echo(f"finetune: {p['guarantee']}", err=True)
    if p.get("records_cut"):
        typer.echo(f"finetune: {p['records_cut']} of {p['dataset_size']} records were longer than --max-length "
                   f"{config.length_cap} tokens and were trained on their start only", err=True)


def _lora_targets(value: str | None) -> list[str] | None:
    from privacy.errors import BadInput
    from synth.finetune.config import LORA_MODULES

    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in LORA_MODULES]
    if unknown or not names:
        raise BadInput(f"--lora-targets: {', '.join(unknown) or 'nothing named'}; choose from {', '.join(LORA_MODULES)}")
    return names


def _accountant(value: str) -> str:
    from privacy.errors import BadInput

    if value not in ("rdp", "prv"):
        raise BadInput(f"--accountant: {value!r} is not rdp or prv")
    return value


@contextmanager
def _training_bar(name: str):
    """A bar of optimizer steps with the loss and ε spent, on a terminal; silence elsewhere."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("finetune {task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[status]}"), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(name, total=None, status="")

        def on_step(step) -> None:
            status = f"loss {step.loss:.3f}" if step.loss is not None else "noise-only step"
            if step.epsilon is not None:
                status += f"  ε {step.epsilon:.2f}"
            bar.update(task, completed=step.step, total=step.total, status=status)

        yield on_step
