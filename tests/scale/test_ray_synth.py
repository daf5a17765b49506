"""Synthesis in shards: the same records from 1 worker in-process and from 3 Ray actors (real model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.execution import RayExecutor, synth_worker
from privacy.batch import LocalExecutor
from privacy.records import read_records
from synth.engine import RuntimeSettings, Sampling
from synth.generate import SynthRequest
from synth.parallel import shards, synthesize_parallel

SCRUBBED = Path(__file__).parents[1] / "synth" / "scrubbed.jsonl"


def test_shards_depend_on_n_only_and_have_their_own_seeds():
    request = SynthRequest(n=7, seed=5)
    cut = shards(request, size=3)
    assert [s.request.n for s in cut] == [3, 3, 1] and [s.first_slot for s in cut] == [0, 3, 6]
    assert len({s.request.seed for s in cut}) == 3 and cut == shards(request, size=3)


@pytest.mark.slow
def test_one_worker_and_three_ray_actors_give_the_same_records(data_dir, ray_runtime):
    from api.settings import Settings
    from synth.store import ModelStore

    records = list(read_records(SCRUBBED))
    model = ModelStore(Settings().models_dir).get()
    request = SynthRequest(mode="fewshot", n=6, seed=11, sampling=Sampling(max_tokens=40))
    setup = (records, model, RuntimeSettings(n_ctx=1024), None, False)
    one = synthesize_parallel(records, request, LocalExecutor(), synth_worker, setup, size=2)
    three = synthesize_parallel(records, request, RayExecutor(3), synth_worker, setup, size=2)
    assert one.records, one.summary
    assert three.records == one.records  # texts, ids, surrogates, provenance: identical
    assert one.summary["shards"] == three.summary["shards"] == 3
    assert [r["id"] for r in one.records] == [f"syn-{i:06d}" for i in range(1, len(one.records) + 1)]
    assert {r["_provenance"]["shard"] for r in one.records} <= {0, 1, 2}
    assert all(r["_provenance"]["job_seed"] == 11 for r in one.records)


@pytest.mark.slow
def test_synth_cli_on_ray_writes_sharded_records_and_a_summary(data_dir, tmp_path, ray_runtime):
    import json

    from typer.testing import CliRunner

    from api.cli import app

    out, summary = tmp_path / "synthetic.jsonl", tmp_path / "summary.json"
    result = CliRunner().invoke(app, ["synth", str(SCRUBBED), "-o", str(out), "--mode", "classify", "-n", "2",
                                      "--label-field", "label", "--labels", "billing,login", "--seed", "9",
                                      "--max-tokens", "40", "--summary", str(summary), "--no-pii-filter",
                                      "--ray", "local", "--workers", "2"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    stats = json.loads(summary.read_text())
    assert len(records) == stats["generated"] >= 1 and stats["shards"] == 1
    assert all(r["_synthetic"] and r["_provenance"]["shard"] == 0 for r in records)
    assert f"{stats['generated']} of 2 records written to synthetic.jsonl" in result.stderr


def test_shards_of_a_fine_tuned_model_add_up_their_candidates(data_dir):
    """Each shard selects among its own candidates; the joined summary sums what they wrote, not k."""
    from dataclasses import replace

    from api.settings import Settings
    from synth.store import ModelStore

    records = list(read_records(SCRUBBED))
    base = ModelStore(Settings().models_dir).get()
    tuned = replace(base, provenance={**base.provenance, "prompt_format": {"hints": False}})
    request = SynthRequest(mode="classify", n=4, seed=11, k=0, label_field="label", finetuned_candidates=2,
                           sampling=Sampling(max_tokens=40))
    setup = (records, tuned, RuntimeSettings(n_ctx=1024), None, False)
    result = synthesize_parallel(records, request, LocalExecutor(), synth_worker, setup, size=2)
    assert len(result.records) == 4, result.summary
    assert result.summary["candidates"]["per_record"] == 2
    assert 4 <= result.summary["candidates"]["written"] <= 8
    assert all("candidate" in r["_provenance"] for r in result.records)
