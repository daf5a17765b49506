"""Scrub benchmark: Airlock vs vanilla Presidio on the same labeled records, speed and detection.

Run: `.venv/bin/python bench/scrub.py [--records 2000] [--wild 400] [--workers W] [--half held_out]`
Quick detection-only run on the dev half while working on a recognizer:
`.venv/bin/python bench/scrub.py --records 0 --half dev --no-vanilla`

Speed: vanilla = Presidio's default recognizers on the same spaCy model, `AnalyzerEngine.analyze`
then `AnonymizerEngine.anonymize` (replace operator), one record at a time; Airlock =
`Scrubber.scrub` (batched `nlp.pipe`, NER-only pipeline, Airlock's recognizers, a process pool when
workers > 1), on `--records` records of bench/evalset.py's held-out seed. Vanilla and Airlock in one
process take turns every SPEED_TURN records, so a burst of load from other processes falls on both;
the pool runs after. Prints records/s of both (wall clock, and per CPU-second, which other
processes on a shared machine disturb less), their ratio and the load average. Then, end to end as a
user runs it: `airlock scrub FILE` (its own process; imports, model loads and the pool it picks for
the file's size included) against a fresh process running the vanilla loop over the same file.

Detection: per entity type, the share of values surviving with a 95% Wilson interval, recall, and
non-PII words kept, on (1) bench/evalset.py's held-out seed and (2) the wild set of
bench/evalset_wild.py (sources the recognizers were not written against), dev and held-out halves.
Only held-out figures are results; the split rule is in bench/evalset_wild.py's docstring.
`--ablate` adds, on the held-out half, the figures without each recognizer in ABLATIONS (what each
addition buys in recall and costs in over-redaction).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Vanilla Presidio's email check would fetch the Public Suffix List: keep the run offline.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.evalset import HELD_OUT_SEED, EvalRecord, Scores, evaluate, generate  # noqa: E402
from bench.evalset_wild import CORE_TYPES, wild_set, wilson  # noqa: E402

SPEED_TURN = 256  # records per turn when vanilla and Airlock alternate (whole batches of 64)


def _vanilla_engines():
    """Presidio's defaults on the same spaCy model: analyzer and anonymizer, warmed up."""
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_anonymizer import AnonymizerEngine

    from privacy.analyzer import MODEL_NAME

    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": MODEL_NAME}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    analyzer.analyze(text="warm-up call to Ada Lovelace at ada@example.com", language="en")
    return analyzer, AnonymizerEngine()


def _vanilla_pass(engines, texts: list[str]) -> list[list[tuple[int, int]]]:
    analyzer, anonymizer = engines
    spans = []
    for text in texts:
        results = analyzer.analyze(text=text, language="en")
        anonymizer.anonymize(text=text, analyzer_results=results)
        spans.append([(r.start, r.end) for r in results])
    return spans


def vanilla_run(texts: list[str]) -> tuple[float, float, list[list[tuple[int, int]]]]:
    """Wall and CPU seconds of the one-at-a-time vanilla loop, and the spans it found."""
    engines = _vanilla_engines()
    start, cpu = time.perf_counter(), time.process_time()
    spans = _vanilla_pass(engines, texts)
    return time.perf_counter() - start, time.process_time() - cpu, spans


def _airlock_scrubber(without: str | None = None):
    """Airlock's Scrubber under the default policy, warmed up; `without` drops one recognizer."""
    from privacy.analyzer import build_analyzer
    from privacy.policy import PrivacyPolicy
    from privacy.scrub import Scrubber

    policy = PrivacyPolicy()
    analyzer = build_analyzer(policy)
    if without:  # an ablation: the same analyzer less one recognizer
        analyzer.registry.remove_recognizer(without)
    scrubber = Scrubber(policy, site_key=os.urandom(32), analyzer=analyzer)
    scrubber.scrub_text("warm-up call to Ada Lovelace at ada@example.com")
    return scrubber


def airlock_run(records: list[dict], workers: int,
                without: str | None = None) -> tuple[float, float, list[list[tuple[int, int]]]]:
    """Wall seconds for Airlock's Scrubber over the records (pool start-up included), CPU seconds
    of this process (meaningful with one worker only), and its spans."""
    scrubber = _airlock_scrubber(without)
    start, cpu = time.perf_counter(), time.process_time()
    scrubbed = list(scrubber.scrub(records, workers=workers))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    spans = [[(f.start, f.end) for f in item.findings if f.field == "text"] for item in scrubbed]
    return seconds, cpu, spans


def taking_turns(texts: list[str], rows: list[dict]) -> dict[str, list[float]]:
    """Wall and CPU seconds of vanilla and of Airlock in one process, alternating every SPEED_TURN
    records: on a shared machine, load from other processes then falls on both alike."""
    engines, scrubber = _vanilla_engines(), _airlock_scrubber()
    totals = {"vanilla": [0.0, 0.0], "airlock": [0.0, 0.0]}
    for i in range(0, len(texts), SPEED_TURN):
        turns = (("vanilla", lambda i=i: _vanilla_pass(engines, texts[i:i + SPEED_TURN])),
                 ("airlock", lambda i=i: list(scrubber.scrub(rows[i:i + SPEED_TURN]))))
        for name, run in turns:
            start, cpu = time.perf_counter(), time.process_time()
            run()
            totals[name][0] += time.perf_counter() - start
            totals[name][1] += time.process_time() - cpu
    return totals


def _cell(survived: int, values: int) -> str:
    low, high = wilson(survived, values)
    return f"{survived / values if values else 0:6.1%} [{low:5.1%},{high:5.1%}]"


def side_by_side(results: dict[str, Scores]) -> list[str]:
    """One row per entity type: values, then survival [95% Wilson] and recall of each detector."""
    names = list(results)
    first = results[names[0]]
    lines = [f"{'entity':<22}{'values':>7}" + "".join(f"  {n + ' survive [95% CI]':>27}{'recall':>7}" for n in names)]
    for entity in list(first.by_entity) + ["ALL"]:
        row = [r.overall if entity == "ALL" else r.by_entity[entity] for r in results.values()]
        core = "*" if entity in CORE_TYPES else " "
        lines.append(f"{entity + core:<22}{row[0].values:>7}"
                     + "".join(f"  {_cell(s.survived, s.values):>27}{s.recall:>7.1%}" for s in row))
    lines.append(f"{'non-PII words kept':<29}" + "".join(
        f"  {_cell(r.words_kept, r.words):>27}{'':>7}" for r in results.values()) + f"  (of {first.words} words)")
    worst = max((s.survive_rate, e) for e, s in results[names[-1]].by_entity.items() if e in CORE_TYPES)
    lines.append(f"worst core type ({names[-1]}): {worst[1]} {worst[0]:.1%}   (* = core type)")
    return lines


def speed(records: int, workers: int) -> None:
    eval_records = generate(records, HELD_OUT_SEED)
    texts = [r.text for r in eval_records]
    print(f"speed: {len(texts)} records (bench/evalset.py seed {HELD_OUT_SEED}), mean "
          f"{sum(map(len, texts)) / len(texts):.0f} chars; airlock workers: {workers}")
    rows = [r.as_record() for r in eval_records]
    totals = taking_turns(texts, rows)
    (vanilla_wall, vanilla_cpu), (single_wall, single_cpu) = totals["vanilla"], totals["airlock"]
    n = len(texts)
    print(f"{'':34}{'records/s (wall)':>17}{'records per CPU-second':>24}")
    print(f"{'vanilla Presidio, one at a time':34}{n / vanilla_wall:>17.1f}{n / vanilla_cpu:>24.1f}")
    print(f"{'Airlock Scrubber, 1 process':34}{n / single_wall:>17.1f}{n / single_cpu:>24.1f}")
    best = single_wall
    if workers > 1:
        pool_wall, _, _ = airlock_run(rows, workers=workers)
        print(f"{f'Airlock Scrubber, {workers} processes':34}{n / pool_wall:>17.1f}{'':>24}")
        best = min(single_wall, pool_wall)
    print(f"ratio airlock/vanilla: {vanilla_wall / best:.2f}x wall (best Airlock run), "
          f"{vanilla_cpu / single_cpu:.2f}x per CPU-second (1 process; robust on a shared machine); "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs\n")


def end_to_end(records: int) -> None:
    """Wall seconds of `airlock scrub FILE` and of a fresh vanilla process over the same JSONL file."""
    rows = [r.as_record() for r in generate(records, HELD_OUT_SEED)]
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "records.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        airlock = Path(sys.executable).with_name("airlock")
        seconds, size = {}, source.stat().st_size // 1024
        for name, command in (("vanilla", [sys.executable, __file__, "--vanilla-file", str(source)]),
                              ("airlock", [str(airlock), "scrub", str(source), "-o", str(Path(folder) / "out.jsonl")])):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            seconds[name] = time.perf_counter() - start
    print(f"end to end, {records} records in a {size} KB file, process start and loads "
          f"included: vanilla {records / seconds['vanilla']:.1f} records/s, `airlock scrub` "
          f"{records / seconds['airlock']:.1f} records/s: {seconds['vanilla'] / seconds['airlock']:.2f}x; "
          f"load average {os.getloadavg()[0]:.2f}\n")


def _vanilla_file(path: str) -> None:
    """The vanilla loop over a JSONL file's `text` fields (the other side of end_to_end)."""
    with open(path, encoding="utf-8") as lines:
        _vanilla_pass(_vanilla_engines(), [json.loads(line)["text"] for line in lines])


def detection(name: str, records: list[EvalRecord], with_vanilla: bool) -> None:
    texts = [r.text for r in records]
    results = {}
    if with_vanilla:
        results["vanilla"] = evaluate(records, vanilla_run(texts)[2])
    results["airlock"] = evaluate(records, airlock_run([r.as_record() for r in records], workers=1)[2])
    print(f"detection: {name}, {len(records)} records")
    print("\n".join(side_by_side(results)) + "\n")


ABLATIONS = ("WorldPlaceRecognizer", "WorldNameRecognizer", "AddressBlockRecognizer", "NationalIdRecognizer",
             "InternationalPhoneRecognizer", "TrainedNerRecognizer")


def ablation(records: list[EvalRecord]) -> None:
    """What each recognizer adds on the held-out half: survival and words kept without it."""
    rows = [("(all recognizers)", evaluate(records, airlock_run([r.as_record() for r in records], 1)[2]))]
    for name in ABLATIONS:
        rows.append((f"without {name}", evaluate(records, airlock_run([r.as_record() for r in records], 1, name)[2])))
    print(f"ablation on the wild held-out half, {len(records)} records")
    print(f"{'':40}{'values surviving [95% CI]':>28}{'non-PII words kept':>22}")
    for label, scores in rows:
        total = scores.overall
        print(f"{label:40}{_cell(total.survived, total.values):>28}{_cell(scores.words_kept, scores.words):>22}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=2000, help="records of the speed run (0: skip)")
    parser.add_argument("--eval-records", type=int, default=1000, help="records of bench/evalset.py scored")
    parser.add_argument("--wild", type=int, default=400, help="generated records per half of the wild set")
    parser.add_argument("--half", choices=("dev", "held_out", "both"), default="both")
    parser.add_argument("--no-vanilla", action="store_true", help="score Airlock only")
    parser.add_argument("--ablate", action="store_true", help="held-out figures without each new recognizer")
    parser.add_argument("--workers", type=int, default=min(len(os.sched_getaffinity(0)), 8))
    parser.add_argument("--vanilla-file", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.vanilla_file:
        return _vanilla_file(args.vanilla_file)
    if args.records:
        speed(args.records, args.workers)
        end_to_end(args.records)
    if args.eval_records:
        detection(f"bench/evalset.py held-out seed {HELD_OUT_SEED}", generate(args.eval_records, HELD_OUT_SEED),
                  not args.no_vanilla)
    for half in (("dev", "held_out") if args.half == "both" else (args.half,)):
        detection(f"wild set, {half} half", wild_set(half, args.wild), not args.no_vanilla)
    if args.ablate:
        ablation(wild_set("held_out", args.wild))


if __name__ == "__main__":
    main()
