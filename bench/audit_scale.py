"""Benchmark the whole audit at scale: N synthetic vs N training + N/4 holdout records, every check of
the default policy run end to end, seconds per check and in total.

    nice -n 10 .venv/bin/python bench/audit_scale.py --records 100000 [--no-rescan] [--copies 50]

Records come from the tests' seeded generator (tests/audit/corpus.py); `--copies` exact copies and
as many near copies (3 words changed) of training records are planted in the synthetic set, so the
output shows whether the approximate search at scale still finds them. The manifest holds made-up
source values (bench/audit.py). The policy is api/policies/default.yaml's audit section with the
TF-IDF embedder (MiniLM on two cores cannot embed millions of texts in 30 minutes). Shared work
(tokens, embeddings, indexes) is paid by the first check that needs it and shows in its seconds.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.audit import SITE_KEY, fake_manifest  # noqa: E402
from tests.audit.corpus import make_records, near_copy  # noqa: E402


def build_inputs(n: int, copies: int, rescan: bool):
    """(AuditInputs, seconds to make them): N train, N synthetic with planted copies, N/4 holdout."""
    from audit.inputs import AuditInputs

    started = time.perf_counter()
    train = make_records(n, 1, "T")
    holdout = make_records(max(n // 4, 20), 2, "H")
    synthetic = make_records(n, 3, "S")
    step = max(1, n // max(2 * copies, 1))
    for k in range(copies):  # exact copies first, then near copies, spread over the set
        source = train[(k * 7919) % n]
        synthetic[2 * k * step % n] = {**source, "id": f"S-copy-{k}"}
        synthetic[(2 * k + 1) * step % n] = {**near_copy(train[(k * 104729 + 1) % n], k), "id": f"S-near-{k}"}
    manifest = fake_manifest(train, max(2_000, n // 50), 4)
    analyzer = privacy_policy = None
    if rescan:
        from api.policy import load_policy
        from privacy.analyzer import build_analyzer

        privacy_policy = load_policy(ROOT / "data/sample/policy.yaml").privacy
        analyzer = build_analyzer(privacy_policy)
    inputs = AuditInputs(synthetic, train, holdout, manifest=manifest, site_key=SITE_KEY, analyzer=analyzer,
                         privacy_policy=privacy_policy)
    return inputs, time.perf_counter() - started


def searches(details: dict) -> str:
    """The approximate searches a check reports, as 'name: recall (nprobe)' pieces."""
    found = details.get("neighbour_searches") or {"search": details.get("neighbour_search") or {}}
    parts = []
    for name, described in found.items():
        for direction, recall in (described.get("recall_at_1") or {}).items():
            parts.append(f"{name} {direction} recall {recall:.3f} (nprobe {described['nprobe'][direction]})")
    return "; ".join(parts) or "exact"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000, help="training and synthetic records each")
    parser.add_argument("--copies", type=int, default=50, help="exact copies and near copies planted")
    parser.add_argument("--no-rescan", action="store_true", help="skip the Presidio re-scan (no analyzer)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from api.policy import load_policy
    from audit.gate import run_audit

    inputs, made = build_inputs(args.records, args.copies, not args.no_rescan)
    policy = load_policy(ROOT / "api/policies/default.yaml").audit.model_copy(update={"embedder": "tfidf"})
    print(f"{args.records} synthetic vs {args.records} train + {len(inputs.holdout)} holdout records "
          f"(made in {made:.0f} s, not counted); load average {os.getloadavg()[0]:.1f}", flush=True)
    started = time.perf_counter()
    report = run_audit(inputs, policy, lambda done, total: print(f"  ... {done}/{total} checks", flush=True))
    total = time.perf_counter() - started
    print(f"verdict {report.verdict}")
    for outcome in report.checks:
        result = outcome.result
        figure = f"figure {result.figure:.4f} [{result.ci[0]:.4f}, {result.ci[1]:.4f}]" if result else outcome.reason
        print(f"  {outcome.name:<22} {outcome.seconds:8.1f} s  {outcome.status:<14} {figure}")
        if result and outcome.name in ("memorization", "membership_inference"):
            print(f"  {'':<22} {searches(result.details)}")
        if result and outcome.name == "memorization":
            print(f"  {'':<22} found {result.details['by_kind']} (planted {args.copies} exact, {args.copies} near)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"  {'total':<22} {total:8.1f} s  (peak memory {peak:.1f} GB; load average now "
          f"{os.getloadavg()[0]:.1f}: other work shares these two cores)")


if __name__ == "__main__":
    main()
