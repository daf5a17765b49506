"""Where a job's batch stages run: `--ray/--workers` beat the policy's `execution` key, whose address
beats the site's AIRLOCK_RAY_ADDRESS; without any of them nothing changes. A bad value is one line —
a problem document at the API (the job is not queued, its upload not stored), `error: …` at the CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.execution import Placement, placement
from api.policy import ExecutionPolicy, load_policy
from privacy.errors import BadInput, PolicyError
from tests.api.conftest import as_jsonl, auth, planted_records, write_policy

BAD = [  # (the policy's execution section, what the one line says)
    ({"engine": "spark"}, "execution.engine: Input should be 'local' or 'ray'"),
    ({"engine": "ray", "workers": 0}, "execution.workers: Input should be greater than or equal to 1"),
    ({"engine": "ray", "address": "http://head:6379/x"},
     "execution.address: give 'local', 'auto', host:port or ray://host:port"),
    ({"engine": "local", "workers": 4}, "execution: address and workers apply to engine: ray"),
    ({"engine": "ray", "nodes": 3}, "execution.nodes: unknown policy key"),
    ({"engine": "ray"}, "execution: engine ray needs an address"),  # and no AIRLOCK_RAY_ADDRESS
]


def test_flags_beat_the_policy_whose_address_beats_the_site():
    on_ray = ExecutionPolicy(engine="ray", address="head.site:6379", workers=8)
    assert load_policy().execution == ExecutionPolicy() and placement(ExecutionPolicy()) == Placement(None, None)
    assert placement(ExecutionPolicy(), site_address="site:6379") == (None, None)  # the site's address moves nothing
    assert placement(on_ray, site_address="site:6379") == ("head.site:6379", 8)
    assert placement(ExecutionPolicy(engine="ray"), site_address="site:6379") == ("site:6379", 1)
    assert placement(on_ray, workers=2) == ("head.site:6379", 2)
    assert placement(on_ray, ray="local", workers=2) == ("local", 2)
    assert placement(ExecutionPolicy(), ray="ray://10.0.0.1:10001") == ("ray://10.0.0.1:10001", 1)
    assert placement(ExecutionPolicy(), workers=3) == (None, 3)  # `airlock scrub --workers`: local processes
    assert placement(on_ray, ray="none", workers=2) == (None, 2)  # `--ray none`: this process, whatever the policy
    assert placement(ExecutionPolicy(engine="ray"), ray="none") == (None, None)  # no address needed then


def test_bad_addresses_outside_the_policy_are_one_line_too():
    with pytest.raises(BadInput, match=r"^--ray: give 'local', 'auto', host:port or ray://host:port$"):
        placement(ExecutionPolicy(), ray="head.site")
    with pytest.raises(BadInput, match=r"^AIRLOCK_RAY_ADDRESS: give"):
        placement(ExecutionPolicy(engine="ray"), site_address="head:6379; rm -rf /")
    with pytest.raises(PolicyError, match="AIRLOCK_RAY_ADDRESS"):
        placement(ExecutionPolicy(engine="ray"))


@pytest.mark.parametrize(("execution", "says"), BAD)
def test_a_bad_execution_key_refuses_the_job_with_a_problem_document(client, keys, settings, execution, says):
    write_policy(settings.data_dir, "bad", execution=execution)
    response = client.post("/v1/jobs", params={"policy": "bad"}, content=as_jsonl(planted_records(3)),
                           headers={"Content-Type": "application/x-ndjson", **auth(keys, "submitter")})
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Policy error" and says in problem["detail"], problem
    assert "\n" not in problem["detail"] and "Traceback" not in response.text
    assert client.get("/v1/jobs", headers=auth(keys, "submitter")).json()["jobs"] == []
    assert not settings.jobs_dir.exists() or not any(settings.jobs_dir.iterdir())  # no upload kept


@pytest.mark.parametrize(("execution", "says"), BAD)
def test_a_bad_execution_key_is_one_line_at_the_cli(data_dir, tmp_path, execution, says):
    from api.cli import app

    policy = write_policy(data_dir, "bad", execution=execution)
    source = tmp_path / "in.jsonl"
    source.write_bytes(as_jsonl(planted_records(3)))
    for command in (["run", str(source), "-o", str(tmp_path / "out")], ["scrub", str(source)]):
        result = CliRunner().invoke(app, [*command, "--policy", str(policy)])
        assert result.exit_code == 2 and result.stderr.startswith("error: "), result.stderr
        assert says in result.stderr and result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() and not (tmp_path / "in.scrubbed.jsonl").exists()


def test_bad_ray_flags_and_site_address_are_one_line_at_the_cli(data_dir, tmp_path, monkeypatch):
    from api.cli import app

    source = tmp_path / "in.jsonl"
    source.write_bytes(as_jsonl(planted_records(3)))
    cases = [(["--ray", "head.site"], None, "error: --ray: give 'local', 'auto', host:port or ray://host:port"),
             ([], "head:6379 --x", "error: AIRLOCK_RAY_ADDRESS: give 'local', 'auto', host:port or ray://host:port")]
    policy = write_policy(data_dir, "ray", execution={"engine": "ray"})
    for flags, site, line in cases:
        if site:
            monkeypatch.setenv("AIRLOCK_RAY_ADDRESS", site)
        for command in (["run", str(source), "-o", str(tmp_path / "out")], ["scrub", str(source)]):
            result = CliRunner().invoke(app, [*command, "--policy", str(policy), *flags])
            assert result.exit_code == 2 and result.stderr == line + "\n", result.stderr


UNREACHABLE = "127.0.0.1:1"  # nothing listens there: refused at once
CANNOT_REACH = (f"cannot reach the Ray cluster at {UNREACHABLE} (ConnectionRefusedError): check --ray, "
                "the policy's execution.address or AIRLOCK_RAY_ADDRESS")


def test_an_unreachable_cluster_is_one_line_at_the_cli(data_dir, tmp_path):
    from api.cli import app

    source = tmp_path / "in.jsonl"
    source.write_bytes(as_jsonl(planted_records(3)))
    result = CliRunner().invoke(app, ["scrub", str(source), "--ray", UNREACHABLE])
    assert result.exit_code == 2 and result.stderr == f"error: {CANNOT_REACH}\n", result.stderr
    assert not (tmp_path / "in.scrubbed.jsonl").exists()


def test_ray_none_keeps_a_command_in_its_process_whatever_the_policy_says(data_dir, tmp_path):
    from api.cli import app

    source = tmp_path / "in.jsonl"
    source.write_bytes(as_jsonl(planted_records(3)))
    policy = write_policy(data_dir, "unreachable", execution={"engine": "ray", "address": UNREACHABLE})
    refused = CliRunner().invoke(app, ["scrub", str(source), "--policy", str(policy)])
    assert refused.exit_code == 2 and "cannot reach the Ray cluster" in refused.stderr
    result = CliRunner().invoke(app, ["scrub", str(source), "--policy", str(policy), "--ray", "none"])
    assert result.exit_code == 0, result.stderr
    assert len((tmp_path / "in.scrubbed.jsonl").read_text().splitlines()) == 3


def test_a_job_whose_cluster_is_unreachable_fails_with_a_problem_document(app, client, keys, settings):
    from api import jobs
    from api.worker import Worker

    write_policy(settings.data_dir, "down", execution={"engine": "ray", "address": UNREACHABLE})
    job_id = client.post("/v1/jobs", params={"policy": "down"}, content=as_jsonl(planted_records(3)),
                         headers={"Content-Type": "application/x-ndjson", **auth(keys, "submitter")}).json()["id"]
    assert Worker(settings, app.state.engine).run_once()
    job = client.get(f"/v1/jobs/{job_id}", headers=auth(keys, "submitter")).json()
    assert job["state"] == jobs.FAILED and job["completed_stages"] == []
    assert job["error"] == {"type": "about:blank", "title": "Bad input", "status": 400, "detail": CANNOT_REACH}
    events = [e.event for e in app.state.audit_log.entries(job_id=job_id)]
    assert events[-2:] == ["run.failed", "job.failed"]
    assert not (jobs.job_dir(settings.jobs_dir, job_id) / jobs.BUNDLE / "synthetic.jsonl").exists()
