"""PII re-scan: run the privacy stage's own detectors over the synthetic records.

The scrubbed training split is scanned the same way as a control: the scrubber ran these very
detectors over it, so whatever they still flag there is their false-alarm floor. The figure is the
excess: the share of synthetic records flagged minus the share of training records flagged.
Parameters: `sample` (records scanned per split, default 500; null = all), `ignore_entities`
(types that do not identify anyone by themselves, default DATE_TIME and NRP).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext, Span
from audit.stats import difference_interval
from audit.text import field_value
from privacy.placeholders import find_placeholders

MAX_LISTED = 50
METHOD = (
    "Presidio analyzer with the privacy policy's recognizers over a random sample of records; "
    "share of records with at least one finding, in excess of the same share in the scrubbed training "
    "split, with Newcombe's hybrid Wilson interval for a difference of proportions (Newcombe 1998)."
)


def _sample(n: int, size: int | None, seed: int) -> list[int]:
    if size is None or n <= size:
        return list(range(n))
    return sorted(np.random.default_rng(seed).choice(n, size, replace=False).tolist())


def _counted(spans: list[Span], record: dict, ignore: set[str]) -> list[Span]:
    """Spans of identifying types that are not placeholders left by the scrubber."""
    kept = []
    for span in spans:
        if span.entity_type in ignore:
            continue
        text = field_value(record, span.field) or ""
        inside = any(start <= span.start and span.end <= end for _, _, start, end in find_placeholders(text))
        if not inside:
            kept.append(span)
    return kept


def _scan(context: AuditContext, split: str, size: int | None, ignore: set[str]) -> dict[int, list[Span]]:
    records = context.records(split)
    found = context.detect(split, _sample(len(records), size, context.seed))
    return {i: _counted(spans, records[i], ignore) for i, spans in found.items()}


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    if context.inputs.analyzer is None:
        raise NotApplicable("no PII detector was provided to re-scan the synthetic records")
    size = settings.param("sample", 500)
    ignore = set(settings.param("ignore_entities", ["DATE_TIME", "NRP"]))
    synthetic = _scan(context, "synthetic", size, ignore)
    control = _scan(context, "train", size, ignore)
    flagged = [i for i, spans in synthetic.items() if spans]
    control_flagged = sum(1 for spans in control.values() if spans)
    by_entity = Counter(span.entity_type for spans in synthetic.values() for span in spans)
    ids = context.ids("synthetic")
    listed = [
        {"record": ids[i], "field": s.field, "entity_type": s.entity_type, "start": s.start, "end": s.end}
        for i in flagged for s in synthetic[i]
    ][:MAX_LISTED]
    rate = len(flagged) / len(synthetic)
    control_rate = control_flagged / len(control)
    figure, ci = difference_interval(len(flagged), len(synthetic), control_flagged, len(control), settings.confidence)
    summary = (
        f"The PII detectors flag {len(flagged)} of {len(synthetic)} scanned synthetic records "
        f"({rate:.1%}), against {control_rate:.1%} of the already-scrubbed training records — their "
        f"false-alarm level. The excess, {figure:+.1%}, must stay within {settings.threshold:.1%}."
    )
    details = {
        "scanned": len(synthetic),
        "records_total": len(context.records("synthetic")),
        "records_flagged": len(flagged),
        "rate": rate,
        "by_entity": dict(sorted(by_entity.items())),
        "ignored_entities": sorted(ignore),
        "control_scanned": len(control),
        "control_flagged": control_flagged,
        "control_rate": control_rate,
        "findings": listed,
    }
    return settings.result(figure, ci, summary, details, METHOD)


CHECK = Check(name="pii_rescan", title="PII left in the synthetic records", run=run, default_threshold=0.05, order=10)
