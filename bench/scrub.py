"""Scrub benchmark: Airlock vs vanilla Presidio on the same labeled records.

Run: `.venv/bin/python bench/scrub.py [--records 1000] [--seed N] [--workers W]`

Vanilla = Presidio's default recognizers on the same spaCy model, `AnalyzerEngine.analyze` then
`AnonymizerEngine.anonymize` (replace operator), one record at a time. Airlock = `Scrubber.scrub`
(batched `nlp.pipe`, NER-only pipeline, Airlock's recognizers, a process pool when workers > 1).
Prints records/s of both (wall clock, and per CPU-second, which other processes on a shared
machine disturb less), their ratio, and per-entity survival/recall and non-PII words kept for both,
scored on the held-out seed of bench/evalset.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Vanilla Presidio's email check would fetch the Public Suffix List: keep the run offline.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evalset import HELD_OUT_SEED, evaluate, generate  # noqa: E402


def vanilla_run(texts: list[str]) -> tuple[float, float, list[list[tuple[int, int]]]]:
    """Wall and CPU seconds of the one-at-a-time vanilla loop, and the spans it found."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from privacy.analyzer import MODEL_NAME

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": MODEL_NAME}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    anonymizer = AnonymizerEngine()
    analyzer.analyze(text="warm-up call to Ada Lovelace at ada@example.com", language="en")
    spans = []
    start, cpu = time.perf_counter(), time.process_time()
    for text in texts:
        results = analyzer.analyze(text=text, language="en")
        anonymizer.anonymize(text=text, analyzer_results=results)
        spans.append([(r.start, r.end) for r in results])
    return time.perf_counter() - start, time.process_time() - cpu, spans


def airlock_run(records: list[dict], workers: int) -> tuple[float, float, list[list[tuple[int, int]]]]:
    """Wall seconds for Airlock's Scrubber over the records (pool start-up included), CPU seconds
    of this process (meaningful with one worker only), and its spans."""
    from privacy.analyzer import build_analyzer
    from privacy.policy import PrivacyPolicy
    from privacy.scrub import Scrubber

    policy = PrivacyPolicy()
    scrubber = Scrubber(policy, site_key=os.urandom(32), analyzer=build_analyzer(policy))
    scrubber.scrub_text("warm-up call to Ada Lovelace at ada@example.com")
    start, cpu = time.perf_counter(), time.process_time()
    scrubbed = list(scrubber.scrub(records, workers=workers))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    spans = [[(f.start, f.end) for f in item.findings if f.field == "text"] for item in scrubbed]
    return seconds, cpu, spans


def side_by_side(vanilla, airlock) -> list[str]:
    lines = [f"{'entity':<24}{'values':>7}  {'survive vanilla':>15}{'airlock':>9}  {'recall vanilla':>15}{'airlock':>9}"]
    rows = list(vanilla.by_entity.items()) + [("ALL", vanilla.overall)]
    for name, v in rows:
        a = airlock.overall if name == "ALL" else airlock.by_entity[name]
        lines.append(f"{name:<24}{v.values:>7}  {v.survive_rate:>15.1%}{a.survive_rate:>9.1%}"
                     f"  {v.recall:>15.1%}{a.recall:>9.1%}")
    lines.append(f"{'non-PII words kept':<31}  {vanilla.kept_rate:>15.1%}{airlock.kept_rate:>9.1%}"
                 f"   (of {vanilla.words} words)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=HELD_OUT_SEED)
    parser.add_argument("--workers", type=int, default=min(len(os.sched_getaffinity(0)), 8))
    args = parser.parse_args()

    eval_records = generate(args.records, args.seed)
    texts = [r.text for r in eval_records]
    print(f"{len(texts)} records (seed {args.seed}), mean {sum(map(len, texts)) / len(texts):.0f} chars; "
          f"airlock workers: {args.workers}")
    records = [r.as_record() for r in eval_records]
    vanilla_wall, vanilla_cpu, vanilla_spans = vanilla_run(texts)
    single_wall, single_cpu, airlock_spans = airlock_run(records, workers=1)
    n = len(texts)
    print(f"{'':34}{'records/s (wall)':>17}{'records per CPU-second':>24}")
    print(f"{'vanilla Presidio, one at a time':34}{n / vanilla_wall:>17.1f}{n / vanilla_cpu:>24.1f}")
    print(f"{'Airlock Scrubber, 1 process':34}{n / single_wall:>17.1f}{n / single_cpu:>24.1f}")
    if args.workers > 1:
        pool_wall, _, _ = airlock_run(records, workers=args.workers)
        print(f"{f'Airlock Scrubber, {args.workers} processes':34}{n / pool_wall:>17.1f}{'':>24}")
        best = min(single_wall, pool_wall)
    else:
        best = single_wall
    print(f"ratio airlock/vanilla: {vanilla_wall / best:.2f}x wall (best Airlock run), "
          f"{vanilla_cpu / single_cpu:.2f}x per CPU-second (1 process; robust on a shared machine)")
    print()
    print("\n".join(side_by_side(evaluate(eval_records, vanilla_spans), evaluate(eval_records, airlock_spans))))


if __name__ == "__main__":
    main()
