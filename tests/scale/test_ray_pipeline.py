"""`airlock run --ray`: the pipeline's scrub stage on Ray writes what the single-process stage writes."""

from __future__ import annotations

from pathlib import Path

from api.pipeline import PipelineOptions, _public_options, _Run
from api.policy import load_policy

SAMPLE = Path(__file__).parents[2] / "data" / "sample"


def _scrub_stage(source: Path, work: Path, options: PipelineOptions) -> dict:
    from api.settings import Settings

    run = _Run(source, work / "out", load_policy(SAMPLE / "policy.yaml"), Settings(),
               PipelineOptions(**{**vars(options), "workdir": work}), None, None, None)
    return run._scrub()


def test_pipeline_scrub_on_ray_matches_one_process(tmp_path, data_dir, ray_runtime):
    source = tmp_path / "in.jsonl"
    lines = (SAMPLE / "records.jsonl").read_text(encoding="utf-8").splitlines()[:30]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    single = _scrub_stage(source, tmp_path / "single", PipelineOptions())
    on_ray = _scrub_stage(source, tmp_path / "ray", PipelineOptions(ray="local", workers=2))
    assert on_ray == single and single["records"] == 30 and single["findings"] > 30
    for name in ("scrubbed.jsonl", "manifest.jsonl"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "single" / name).read_bytes()


def test_where_a_run_executes_stays_out_of_its_log_entries():
    assert _public_options(PipelineOptions(ray="head:6379", workers=16)) == _public_options(PipelineOptions())
