"""A service job on Ray. The job's policy says `execution: {engine: ray, …}`; it is submitted over HTTP
through the app and run by a real worker (each job in its spawned child process, the Ray driver), on
real local Ray runtimes and SQLite. Its scrub stage detects on Ray actors and writes what the same job
writes in-process — scrubbed records, manifest, counts, audit-log entries — also when a Ray worker
process is killed (SIGKILL) mid-batch: none lost, none written twice, the job completes; and when the
Airlock worker itself is killed mid-scrub, the next worker runs the job again from its upload."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api import jobs
from tests.api.conftest import as_jsonl, auth, planted_records, write_policy

pytestmark = pytest.mark.slow
RECORDS = 140  # three scrub batches of 64 (privacy.scrub.BATCH_RECORDS): a kill lands mid-stage
KEEP = {"keep_work_files": True}  # the scrubbed records and manifest are compared below
ACTOR_TITLE = "ray::_Worker"  # api.execution's actors; "…_Worker.run" while one runs a task
AIRLOCK = str(Path(sys.executable).with_name("airlock"))


@pytest.fixture(scope="module")
def service(tmp_path_factory, ray_runtime):
    """One data directory (one site key for every job), the app and its SQLite database, three
    policies — in-process; on a Ray runtime the job starts (`address: local`); on this module's runtime
    named by the site's AIRLOCK_RAY_ADDRESS — and the in-process job, run once, as the reference."""
    from api.app import create_app
    from api.keys import create_key
    from api.settings import Settings

    data_dir = tmp_path_factory.mktemp("ray-jobs") / "airlock"
    _share_models(data_dir / "models")
    site_cluster = ray_runtime.get_runtime_context().gcs_address
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRLOCK_DATA_DIR", str(data_dir))
        patch.setenv("HF_HUB_OFFLINE", "1")
        settings = Settings(data_dir=data_dir, log_file=data_dir / "airlock.log", ray_address=site_cluster)
        write_policy(data_dir, "inproc", retention=KEEP)
        write_policy(data_dir, "onray", retention=KEEP, execution={"engine": "ray", "address": "local", "workers": 2})
        write_policy(data_dir, "cluster", retention=KEEP, execution={"engine": "ray", "workers": 2})
        app = create_app(settings)
        keys = {role: create_key(app.state.engine, role) for role in ("submitter", "auditor")}
        with TestClient(app, raise_server_exceptions=False) as client:
            env = {"client": client, "keys": keys, "settings": settings, "engine": app.state.engine}
            env["reference"] = _run_job(env, "inproc")
            yield env
        app.state.engine.dispose()


def _share_models(models: Path) -> None:
    from api.settings import Settings

    models.mkdir(parents=True)
    for item in Settings().models_dir.iterdir():
        if item.suffix == ".gguf":
            (models / item.name).symlink_to(item)
        elif item.is_file():
            shutil.copy2(item, models / item.name)


def _submit(env: dict, policy: str) -> str:
    submitted = env["client"].post("/v1/jobs", params={"policy": policy, "n": 2, "seed": 5},
                                   content=as_jsonl(planted_records(RECORDS)),
                                   headers={"Content-Type": "application/x-ndjson", **auth(env["keys"], "submitter")})
    assert submitted.status_code == 202, submitted.text
    return submitted.json()["id"]


def _run_job(env: dict, policy: str) -> dict:
    """Submit RECORDS records under `policy` and let a real worker run the job to its end."""
    from api.worker import Worker

    job_id = _submit(env, policy)
    assert Worker(env["settings"], env["engine"]).run_once()
    return _finished(env, job_id)


def _finished(env: dict, job_id: str) -> dict:
    """A job's status, audit-log entries and work files, as the API and the job folder show them."""
    client, keys = env["client"], env["keys"]
    work = jobs.job_dir(env["settings"].jobs_dir, job_id) / "work"
    entries = client.get("/v1/audit-log", params={"job_id": job_id}, headers=auth(keys, "auditor")).json()["entries"]
    return {"status": client.get(f"/v1/jobs/{job_id}", headers=auth(keys, "submitter")).json(),
            "events": [e["event"] for e in entries], "scrub": [e["details"] for e in entries if e["event"] == "stage.scrub"],
            "files": {name: (work / name).read_bytes() for name in ("scrubbed.jsonl", "manifest.jsonl")}}


def _assert_same_output(job: dict, reference: dict) -> None:
    """The same end, counts, work files and scrub entry as the in-process job."""
    status, expected = job["status"], reference["status"]
    assert status["state"] in jobs.FINAL and status["error"] is None, status["error"]
    for key in ("state", "verdict", "completed_stages", "progress"):
        assert status[key] == expected[key], key
    scrub_counts = ("records", "findings", "findings_by_entity", "train", "holdout")
    assert {k: status["counts"][k] for k in scrub_counts} == {k: expected["counts"][k] for k in scrub_counts}
    assert status["counts"]["records"] == RECORDS and status["counts"]["findings"] > RECORDS // 3
    # Same records in the same order, same placeholders and numbering, pseudonyms and fingerprints.
    assert job["files"] == reference["files"]
    assert len(job["scrub"]) == 1 and _no_seconds(job["scrub"][0]) == _no_seconds(reference["scrub"][0])


def _no_seconds(details: dict) -> dict:
    return {k: v for k, v in details.items() if k != "seconds"}


class ActorWatch(threading.Thread):
    """Watches this test's descendant processes for api.execution's Ray actors; with `kill`, sends
    SIGKILL to the first one caught running a task, once. Only processes this test started are seen."""

    def __init__(self, kill: bool = False):
        super().__init__(daemon=True)
        self.kill, self.seen, self.killed = kill, set(), None
        self.stop, self.running = threading.Event(), threading.Event()  # running: an actor was seen in a task

    def run(self) -> None:
        while not self.stop.wait(0.05):
            for pid, title in _descendants(os.getpid()):
                if not title.startswith(ACTOR_TITLE):
                    continue
                self.seen.add(pid)
                if not title.startswith(f"{ACTOR_TITLE}.run"):
                    continue
                self.running.set()
                if self.kill and self.killed is None:
                    os.kill(pid, signal.SIGKILL)
                    self.killed = pid

    def __enter__(self) -> ActorWatch:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.join()


def _descendants(root: int) -> list[tuple[int, str]]:
    """(pid, process title) of every process below `root`, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            title = (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        found.append((pid, title.strip()))
    return found


def test_a_job_on_a_local_ray_runtime_writes_what_the_in_process_job_writes(service):
    with ActorWatch() as watch:
        on_ray = _run_job(service, "onray")
    assert len(watch.seen) >= 2  # the job's scrub really ran on its two actors
    _assert_same_output(on_ray, service["reference"])
    assert on_ray["status"]["attempts"] == 1 and on_ray["events"] == service["reference"]["events"]
    assert not [pid for pid, title in _descendants(os.getpid()) if title.startswith(ACTOR_TITLE)]  # none left


def test_a_ray_worker_killed_mid_batch_loses_no_record_and_writes_none_twice(service):
    with ActorWatch(kill=True) as watch:
        on_cluster = _run_job(service, "cluster")  # the site's cluster: AIRLOCK_RAY_ADDRESS
    assert watch.killed is not None, "no Ray worker was caught running a task"
    assert len(watch.seen) >= 3  # two actors, and the one Ray restarted in place of the killed one
    _assert_same_output(on_cluster, service["reference"])
    # Ray reran the task; the job itself never restarted, and its log reads as the in-process job's.
    assert on_cluster["status"]["attempts"] == 1 and on_cluster["events"] == service["reference"]["events"]


def test_an_airlock_worker_killed_during_a_ray_scrub_is_resumed_by_the_next(service):
    settings = service["settings"]
    env = {**os.environ, "AIRLOCK_DATA_DIR": str(settings.data_dir), "AIRLOCK_RAY_ADDRESS": settings.ray_address,
           "AIRLOCK_LEASE_SECONDS": "3", "AIRLOCK_POLL_SECONDS": "0.2", "AIRLOCK_LOG_FILE": str(settings.log_file)}
    job_id = _submit(service, "cluster")
    with ActorWatch() as watch:
        first = subprocess.Popen([AIRLOCK, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        caught = watch.running.wait(300)
        first.send_signal(signal.SIGKILL)  # its job process and so the Ray driver die with it
        first.wait()
    assert caught, "the job's scrub never reached its Ray actors"
    assert jobs.get(service["engine"], job_id).completed_stages == []
    second = subprocess.Popen([AIRLOCK, "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 400
        while jobs.get(service["engine"], job_id).state not in jobs.FINAL:
            assert time.monotonic() < deadline and second.poll() is None, "the second worker did not finish the job"
            time.sleep(0.5)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=60)
    resumed, reference = _finished(service, job_id), service["reference"]
    _assert_same_output(resumed, reference)
    assert resumed["status"]["attempts"] == 2
    # The killed attempt left a claim and a start, nothing else; the second ran every stage once.
    assert resumed["events"] == reference["events"][:3] + reference["events"][1:]
