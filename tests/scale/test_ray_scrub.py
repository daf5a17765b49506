"""`airlock scrub --ray local` on a real local Ray runtime: the same output and manifest as one process."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from api.cli import app
from api.execution import RayExecutor
from privacy.batch import LocalExecutor

SAMPLE = Path(__file__).parents[2] / "data" / "sample"
runner = CliRunner()


def test_scrub_on_ray_matches_single_process(tmp_path, data_dir, ray_runtime):
    source = tmp_path / "notes.jsonl"
    lines = (SAMPLE / "records.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outputs = {}
    for name, extra in (("single", ["--workers", "1"]), ("ray", ["--ray", "local", "--workers", "2"])):
        out = tmp_path / f"{name}.jsonl"
        result = runner.invoke(app, ["scrub", str(source), "-o", str(out), "--policy", str(SAMPLE / "policy.yaml"),
                                     *extra])
        assert result.exit_code == 0, result.stderr
        assert "scrubbed 40 records" in result.stderr
        outputs[name] = (out.read_bytes(), (tmp_path / f"{name}.manifest.jsonl").read_bytes())
    assert outputs["ray"] == outputs["single"]  # same placeholders, numbering, fingerprints, order
    findings = outputs["ray"][1].decode().splitlines()[1:]
    assert len(findings) > 40 and all("fingerprint" in json.loads(f) for f in findings)
    assert b"<PERSON_1>" in outputs["ray"][0]


def _setup(marker: str) -> str:
    return marker


def _square_once_dying(marker: str, item: int) -> int:
    """Kills its worker process the first time it sees item 5 (the marker file says it did)."""
    if item == 5 and not os.path.exists(marker):
        Path(marker).touch()
        os._exit(1)
    return item * item


def test_results_in_order_after_a_worker_dies_mid_task(tmp_path, ray_runtime):
    marker = str(tmp_path / "died")
    items = list(range(12))
    results = list(RayExecutor(3).map_ordered(_setup, marker, _square_once_dying, iter(items)))
    assert os.path.exists(marker)  # a worker did die
    assert results == list(LocalExecutor().map_ordered(_setup, marker, _square_once_dying, items))
    assert results == [i * i for i in items]  # none lost, none twice, in input order


def _fail(_state: None, item: int) -> int:
    raise ValueError(f"bad item number {item}")


def test_a_task_error_comes_back_as_its_own_type(ray_runtime):
    import pytest

    with pytest.raises(ValueError, match="bad item number 0") as caught:
        list(RayExecutor(1).map_ordered(lambda _: None, None, _fail, [0, 1]))
    assert "Traceback" not in str(caught.value)
