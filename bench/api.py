"""Benchmark of the service: POST /v1/scrub under concurrent clients against the same scrub called
in-process (the overhead of HTTP, auth, JSON and threads), and one job's end-to-end time by stage.

    .venv/bin/python bench/api.py [--requests 200] [--clients 4] [--records 1] [--job-records 40] [--n 5]

A real uvicorn server on 127.0.0.1 with an in-process worker, a throwaway data directory (the
model store is linked from the default one), SQLite. Timings on a shared machine are noisy: read
the ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
# This file is named like the `api` package: keep its folder off the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
SAMPLE = ROOT / "data" / "sample"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _data_dir() -> Path:
    from api.settings import Settings

    shared = Settings().models_dir
    data_dir = Path(tempfile.mkdtemp(prefix="airlock-bench-"))
    (data_dir / "models").mkdir()
    for item in shared.iterdir():
        if item.suffix == ".gguf":
            (data_dir / "models" / item.name).symlink_to(item)
        elif item.is_file():
            shutil.copy2(item, data_dir / "models" / item.name)
    policies = data_dir / "policies"
    policies.mkdir()
    shutil.copy(SAMPLE / "policy.yaml", policies / "sample.yaml")
    return data_dir


def _serve(settings):
    import uvicorn

    from api.app import create_app

    app = create_app(settings, worker=True)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_config=None,
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return app, server, thread


def bench_scrub(base: str, key: str, app, records: list[dict], requests: int, clients: int, per_request: int) -> None:
    from api.routers.scrub import scrubber_for

    batches = [records[(i * per_request) % len(records):][:per_request] or records[:per_request]
               for i in range(requests)]
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=120) as warm:  # builds the analyzer once
        warm.post("/v1/scrub", params={"policy": "sample"}, json={"records": batches[0]}, headers=headers).raise_for_status()

    local = threading.local()

    def worker(batch) -> float:
        """One request on this thread's keep-alive connection; its latency."""
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=120)
        started = time.perf_counter()
        local.client.post("/v1/scrub", params={"policy": "sample"}, json={"records": batch},
                          headers=headers).raise_for_status()
        return time.perf_counter() - started

    def through_api(concurrency: int) -> tuple[list[float], float]:
        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            latency = list(pool.map(worker, batches))
        return latency, time.perf_counter() - started

    # Baseline: the same work through the library, in this process, one call at a time.
    lib_latency = []
    started = time.perf_counter()
    for batch in batches:
        t = time.perf_counter()
        list(scrubber_for(app, "sample").scrub(batch))
        lib_latency.append(time.perf_counter() - t)
    lib_wall = time.perf_counter() - started

    n_records = requests * per_request
    print(f"POST /v1/scrub: {requests} requests × {per_request} record(s)")
    _line("library (in-process, sequential)", n_records, lib_wall, lib_latency)
    for concurrency in sorted({1, clients}):
        latency, wall = through_api(concurrency)
        _line(f"API, {concurrency} concurrent client(s)", n_records, wall, latency)
        print(f"    overhead vs library: throughput {lib_wall / wall:.2f}×, "
              f"p50 latency {statistics.median(latency) / statistics.median(lib_latency):.2f}×")


def _line(label: str, n_records: int, wall: float, latency: list[float]) -> None:
    print(f"  {label:<34}{n_records / wall:7.1f} records/s   p50 {1000 * statistics.median(latency):7.1f} ms"
          f"   p99 {1000 * _percentile(latency, 0.99):7.1f} ms")


def bench_job(base: str, key: str, records: list[dict], n: int) -> None:
    body = "".join(json.dumps(r) + "\n" for r in records).encode()
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=120) as client:
        started = time.perf_counter()
        response = client.post("/v1/jobs", params={"policy": "sample", "n": n}, content=body,
                               headers={**headers, "Content-Type": "application/x-ndjson"})
        response.raise_for_status()
        job_id = response.json()["id"]
        while (job := client.get(f"/v1/jobs/{job_id}", headers=headers).json())["state"] in ("queued", "running"):
            time.sleep(0.5)
        total = time.perf_counter() - started
    print(f"job: {len(records)} records → n={n} synthetic, state {job['state']} (verdict {job['verdict']})")
    print(f"  end to end (upload → final state, as the client sees it): {total:.1f} s")
    stages = job["timings"]
    for stage, seconds in stages.items():
        print(f"  {stage:<9}{seconds:8.1f} s  {100 * seconds / total:5.1f}%")
    print(f"  queue, polling and bookkeeping: {total - sum(stages.values()):.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--records", type=int, default=1, help="records per scrub request")
    parser.add_argument("--job-records", type=int, default=40)
    parser.add_argument("--n", type=int, default=5)
    args = parser.parse_args()

    from api.keys import create_key
    from api.settings import Settings

    data_dir = _data_dir()
    try:
        settings = Settings(data_dir=data_dir, port=_free_port(), rate_limit_per_minute=1_000_000,
                            log_file=data_dir / "airlock.log", poll_seconds=0.2)
        import os

        os.environ["AIRLOCK_DATA_DIR"] = str(data_dir)
        app, server, thread = _serve(settings)
        _, key = create_key(app.state.engine, "submitter")
        base = f"http://127.0.0.1:{settings.port}"
        records = [json.loads(line) for line in (SAMPLE / "records.jsonl").read_text().splitlines()]
        bench_scrub(base, key, app, records, args.requests, args.clients, args.records)
        bench_job(base, key, records[: args.job_records], args.n)
        server.should_exit = True
        thread.join(timeout=15)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
