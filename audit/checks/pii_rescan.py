"""PII re-scan: run the privacy stage's own detectors over the synthetic records.

The scrubbed training split is scanned the same way as a control: the scrubber ran these very
detectors over it, so whatever they still flag there is their false-alarm floor. The figure is the
excess: the share of synthetic records flagged minus the share of training records flagged.

Synthesis replaces the placeholders it writes with fresh fake values (Faker surrogates drawn from
the record's seed, never from source data) and lists each one's field and span in the record's
`_provenance.surrogates`. A detection lying on such a span is the detector recognising Airlock's own
fake value, so it is reported as excluded and not counted; a detection that reaches beyond the listed
spans by more than punctuation, or any detection in a record without that list, still counts. The
excluded values are not taken on trust: pii_replay fingerprints every span of the synthetic text,
surrogates included, against the source values.
Parameters: `sample` (records scanned per split, default 500; null = all), `max_scanned` (default
20,000: the most records scanned per split whatever `sample` says, since Presidio scans ~60 records
per second per core), `ignore_entities` (types that do not identify anyone by themselves, default
DATE_TIME and NRP). A split larger than what is scanned is judged on a seeded uniform sample: the
figure's interval is the sample's, the gate judges its upper bound, and the details say so
(`method`, `scanned`, `records_total`, `upper_bound`).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext, Span
from audit.stats import difference_interval, difference_records_needed
from audit.text import field_value
from audit.text import surrogate_spans as filled_spans
from privacy.placeholders import find_placeholders
from synth.pii import covered

MAX_LISTED = 50
MAX_SCANNED = 20_000
IGNORE_ENTITIES = ("DATE_TIME", "NRP")  # the `ignore_entities` default; generation filters the same way
METHOD = (
    "Presidio analyzer with the privacy policy's recognizers over a random sample of records; "
    "share of records with at least one finding, in excess of the same share in the scrubbed training "
    "split, with Newcombe's hybrid Wilson interval for a difference of proportions (Newcombe 1998)."
)


def _sample(n: int, size: int | None, seed: int) -> list[int]:
    if size is None or n <= size:
        return list(range(n))
    return sorted(np.random.default_rng(seed).choice(n, size, replace=False).tolist())


def surrogate_spans(record: dict, text_fields: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Field → (start, end) of every fresh surrogate the generator says it inserted into that text field."""
    return {name: [(start, end) for start, end, _ in spans] for name, spans in filled_spans(record, text_fields).items()}


def _counted(spans: list[Span], record: dict, ignore: set[str], filled: dict) -> tuple[list[Span], list[Span]]:
    """(spans that count, spans on the generator's own surrogates): placeholders left by the
    scrubber and types in `ignore` are neither."""
    kept, on_surrogates = [], []
    for span in spans:
        if span.entity_type in ignore:
            continue
        text = field_value(record, span.field) or ""
        if any(start <= span.start and span.end <= end for _, _, start, end in find_placeholders(text)):
            continue
        if covered(span.start, span.end, text, filled.get(span.field, [])):
            on_surrogates.append(span)
        else:
            kept.append(span)
    return kept, on_surrogates


def _scan(context: AuditContext, split: str, size: int | None, ignore: set[str]) -> tuple[dict, dict, int]:
    """(counted spans by record index, surrogate spans by record index, surrogate values listed)."""
    records = context.records(split)
    found = context.detect(split, _sample(len(records), size, context.seed))
    counted, excluded, listed = {}, {}, 0
    for i, spans in found.items():
        filled = surrogate_spans(records[i], context.fields.text)
        listed += sum(map(len, filled.values()))
        counted[i], excluded[i] = _counted(spans, records[i], ignore, filled)
    return counted, excluded, listed


def _scanned_per_split(settings: CheckSettings) -> tuple[int, int]:
    """(records to scan per split, the policy's cap): `sample`, or all (null), never above the cap."""
    size = settings.param("sample", 500)
    cap = int(settings.param("max_scanned", MAX_SCANNED))
    return (cap if size is None else min(int(size), cap)), cap


def _coverage(context: AuditContext, scanned: int, cap: int, ci: tuple[float, float]) -> dict:
    """What part of the synthetic records the figure rests on, for the details."""
    total = len(context.records("synthetic"))
    return {"method": "all records" if scanned == total else "seeded uniform sample", "scanned": scanned,
            "records_total": total, "upper_bound": ci[1], "max_scanned": cap}


def _summary(flagged, rate, control_rate, figure, ci, excluded, surrogates_listed, coverage, settings) -> str:
    summary = (
        f"The PII detectors flag {flagged} of {coverage['scanned']} scanned synthetic records "
        f"({rate:.1%}), against {control_rate:.1%} of the already-scrubbed training records — their "
        f"false-alarm level. The excess, {figure:+.1%}, must stay within {settings.threshold:.1%}."
    )
    if excluded:
        summary += (
            f" Not counted: {excluded} detections of the {surrogates_listed} fake values that synthesis "
            "itself inserted in place of placeholders (fresh surrogates, not drawn from the source data; "
            "PII replay still checks them against the source values)."
        )
    if coverage["method"] != "all records":
        summary += (f" {coverage['scanned']:,} of the {coverage['records_total']:,} synthetic records were scanned "
                    f"(a seeded uniform sample): the gate judges the {settings.confidence:.0%} upper bound of the "
                    f"excess, {ci[1]:+.2%}.")
    return summary


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    if context.inputs.analyzer is None:
        raise NotApplicable("no PII detector was provided to re-scan the synthetic records")
    size, cap = _scanned_per_split(settings)
    ignore = set(settings.param("ignore_entities", IGNORE_ENTITIES))
    synthetic, on_surrogates, surrogates_listed = _scan(context, "synthetic", size, ignore)
    control = _scan(context, "train", size, ignore)[0]
    flagged = [i for i, spans in synthetic.items() if spans]
    control_flagged = sum(1 for spans in control.values() if spans)
    by_entity = Counter(span.entity_type for spans in synthetic.values() for span in spans)
    excluded_by_entity = Counter(span.entity_type for spans in on_surrogates.values() for span in spans)
    excluded = sum(excluded_by_entity.values())
    ids = context.ids("synthetic")
    listed = [
        {"record": ids[i], "field": s.field, "entity_type": s.entity_type, "start": s.start, "end": s.end}
        for i in flagged for s in synthetic[i]
    ][:MAX_LISTED]
    rate = len(flagged) / len(synthetic)
    control_rate = control_flagged / len(control)
    figure, ci = difference_interval(len(flagged), len(synthetic), control_flagged, len(control), settings.confidence)
    coverage = _coverage(context, len(synthetic), cap, ci)
    summary = _summary(len(flagged), rate, control_rate, figure, ci, excluded, surrogates_listed, coverage, settings)
    details = {
        **coverage,
        "records_flagged": len(flagged),
        "rate": rate,
        "by_entity": dict(sorted(by_entity.items())),
        "ignored_entities": sorted(ignore),
        "surrogate_spans_listed": surrogates_listed,
        "surrogate_detections_excluded": excluded,
        "surrogate_detections_by_entity": dict(sorted(excluded_by_entity.items())),
        "control_scanned": len(control),
        "control_flagged": control_flagged,
        "control_rate": control_rate,
        "findings": listed,
    }
    def needed():
        n = difference_records_needed(len(flagged), len(synthetic), control_flagged, len(control),
                                      settings.threshold, settings.confidence)
        return n and (n, "synthetic records scanned (and as many training records)")

    return settings.result(figure, ci, summary, details, METHOD, needed=needed)


CHECK = Check(name="pii_rescan", title="PII left in the synthetic records", run=run, default_threshold=0.05, order=10)
