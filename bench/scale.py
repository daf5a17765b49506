"""Scale-out figures: scrub and synth on 1, 2, 4 local Ray workers vs one process; audit neighbours.

    nice -n 10 .venv/bin/python bench/scale.py scrub [--records 600 --workers 1 2 4] [--address HOST:PORT]
    nice -n 10 .venv/bin/python bench/scale.py synth [--n 12 --workers 1 2 --shard 2]
    nice -n 10 .venv/bin/python bench/scale.py neighbors [--recall-records 100000 --time-records 1000000]

Figures on a shared 2-core machine are indicative: other processes take CPU, and more than two
workers cannot run faster than two. Each Ray run includes starting the actors (loading spaCy or the
model once per actor), as a real job would; Ray's own start-up is timed apart.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLE = ROOT / "data" / "sample"
SITE_KEY = bytes(range(32))


def _records_file(folder: Path, n: int) -> Path:
    lines = (SAMPLE / "records.jsonl").read_text(encoding="utf-8").splitlines()
    out = folder / "records.jsonl"
    out.write_text("".join(lines[i % len(lines)] + "\n" for i in range(n)), encoding="utf-8")
    return out


def bench_scrub(args: argparse.Namespace) -> None:
    from api.execution import LOCAL, RayExecutor, connect
    from api.policy import load_policy
    from privacy.batch import BatchScrubber
    from privacy.scrub import Scrubber, scrub_file

    policy = load_policy(SAMPLE / "policy.yaml").privacy
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        source = _records_file(folder, args.records)
        started = time.perf_counter()
        scrub_file(source, folder / "single.jsonl", folder / "single.man.jsonl", Scrubber(policy, SITE_KEY), workers=1)
        single = time.perf_counter() - started
        print(f"scrub {args.records} records: single process {args.records / single:.1f} rec/s ({single:.1f} s, "
              f"analyzer load included)")
        started = time.perf_counter()
        connect(args.address or LOCAL, max(args.workers))
        print(f"ray {'connect to ' + args.address if args.address else 'local runtime start'}: {time.perf_counter() - started:.1f} s (once per job; not counted below)")
        for workers in args.workers:
            started = time.perf_counter()
            out = folder / f"ray{workers}.jsonl"
            scrub_file(source, out, folder / f"ray{workers}.man.jsonl", BatchScrubber(policy, SITE_KEY, RayExecutor(workers)))
            seconds = time.perf_counter() - started
            same = out.read_bytes() == (folder / "single.jsonl").read_bytes() and (
                (folder / f"ray{workers}.man.jsonl").read_bytes() == (folder / "single.man.jsonl").read_bytes())
            print(f"  ray {workers} worker(s): {args.records / seconds:.1f} rec/s ({seconds:.1f} s), "
                  f"{single / seconds:.2f}x single process; output identical: {same}")


def bench_neighbors(args: argparse.Namespace) -> None:
    from audit import neighbors
    from audit.embed import TfidfEmbedder, closest
    from tests.audit.corpus import make_records

    if args.time_only:
        return _time_million(args.time_records, args.time_queries, neighbors)
    n = args.recall_records
    texts = [[r["text"] for r in make_records(n, seed, p)] for seed, p in ((1, "T"), (3, "S"))]
    started = time.perf_counter()
    train, synthetic = TfidfEmbedder().embed(texts)
    embed_seconds = time.perf_counter() - started
    print(f"TF-IDF embedding of {2 * n} texts: {embed_seconds:.0f} s ({2 * n / embed_seconds:.0f} texts/s)")
    started = time.perf_counter()
    exact = closest(synthetic, train)
    exact_seconds = time.perf_counter() - started
    print(f"exact closest records {n} vs {n} (both directions, one pass): {exact_seconds:.0f} s")
    for probes in (8, neighbors.NPROBE, 4 * neighbors.NPROBE, None):  # None: the audit's own choice
        started = time.perf_counter()
        distance, found, stats = neighbors.Searcher(0).search(train, synthetic, probes)
        seconds = time.perf_counter() - started
        recall = float(np.mean(distance <= exact.a_distance + 1e-5))
        print(f"  IVF {stats.cells} cells, nprobe {stats.nprobe}{'' if probes else ' (chosen)'}: {seconds:.0f} s "
              f"one direction (index included), recall@1 vs exact {recall:.4f} (sampled estimate {stats.recall:.3f}, "
              f"95% lower bound {stats.recall_low:.3f})")
    _time_million(args.time_records, args.time_queries, neighbors)


def _time_million(n: int, queries: int, neighbors) -> None:  # noqa: ANN001 - the module
    """Time for n vs n on clustered unit vectors (as TF-IDF/LSA gives; embedding 2n texts is timed
    above per text and extrapolated, not run). The index is built on all n rows; `queries` rows are
    searched and the search time scaled to n queries (search time is linear in the queries)."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2000, 256)).astype(np.float32)

    def cloud(rows: int, seed: int) -> np.ndarray:
        local = np.random.default_rng(seed)
        points = centres[local.integers(0, len(centres), rows)]
        points += local.standard_normal((rows, 256)).astype(np.float32) * 0.6
        return points / np.linalg.norm(points, axis=1, keepdims=True)

    train, synthetic = cloud(n, 1), cloud(queries, 2)
    searcher = neighbors.Searcher(0)
    started = time.perf_counter()
    searcher.search(train, synthetic[:1], nprobe=1)  # builds the index (k-means cells and the rows' lists)
    built = time.perf_counter() - started
    started = time.perf_counter()
    _, _, stats = searcher.search(train, synthetic)
    searched = time.perf_counter() - started
    print(f"approximate closest records, index on {n} rows ({stats.cells} cells): built in {built:.0f} s; "
          f"{queries} queries (nprobe {stats.nprobe} chosen, with the 1,000-query exact recall check) in {searched:.0f} s, "
          f"sampled recall {stats.recall:.3f} -> {n} vs {n} one direction ~{built + searched * n / queries:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    scrub = sub.add_parser("scrub")
    scrub.add_argument("--records", type=int, default=600)
    scrub.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    scrub.add_argument("--address", help="a running Ray cluster (e.g. two nodes from `ray start`) instead of a local runtime")
    near = sub.add_parser("neighbors")
    near.add_argument("--recall-records", type=int, default=100_000)
    near.add_argument("--time-records", type=int, default=1_000_000)
    near.add_argument("--time-queries", type=int, default=100_000)
    near.add_argument("--time-only", action="store_true", help="skip the 100k recall measurement")
    synth = sub.add_parser("synth")
    synth.add_argument("--n", type=int, default=12)
    synth.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    synth.add_argument("--shard", type=int, default=2)
    synth.add_argument("--max-tokens", type=int, default=60)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    {"scrub": bench_scrub, "neighbors": bench_neighbors, "synth": bench_synth}[args.what](args)


def bench_synth(args: argparse.Namespace) -> None:
    from api.execution import LOCAL, RayExecutor, connect, synth_worker
    from api.settings import Settings
    from privacy.batch import LocalExecutor
    from privacy.records import read_records
    from synth.engine import Engine, RuntimeSettings, Sampling
    from synth.generate import SynthRequest, synthesize
    from synth.parallel import synthesize_parallel
    from synth.store import ModelStore

    records = list(read_records(ROOT / "tests" / "synth" / "scrubbed.jsonl"))
    model = ModelStore(Settings().models_dir).get()
    request = SynthRequest(mode="fewshot", n=args.n, seed=1, sampling=Sampling(max_tokens=args.max_tokens))
    runtime = RuntimeSettings(n_ctx=1024)
    started = time.perf_counter()
    engine = Engine(model, runtime)
    plain = synthesize(records, request, engine)
    engine.close()
    single = time.perf_counter() - started
    print(f"synth {args.n} records (fewshot, max_tokens {args.max_tokens}, no PII filter): single process "
          f"{len(plain.records) / single * 60:.1f} records/min ({single:.0f} s, {len(plain.records)} kept)")
    setup = (records, model, runtime, None, False)
    started = time.perf_counter()
    local = synthesize_parallel(records, request, LocalExecutor(), synth_worker, setup, size=args.shard)
    seconds = time.perf_counter() - started
    print(f"  sharded in-process ({args.shard}/shard): {len(local.records) / seconds * 60:.1f} records/min ({seconds:.0f} s)")
    connect(LOCAL, max(args.workers))
    for workers in args.workers:
        started = time.perf_counter()
        result = synthesize_parallel(records, request, RayExecutor(workers), synth_worker, setup, size=args.shard)
        seconds = time.perf_counter() - started
        print(f"  ray {workers} worker(s): {len(result.records) / seconds * 60:.1f} records/min ({seconds:.0f} s), "
              f"{len(result.records) / seconds / (len(plain.records) / single):.2f}x single process; "
              f"same records as in-process shards: {result.records == local.records}")


if __name__ == "__main__":
    main()
