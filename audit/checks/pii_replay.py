"""PII replay: do source PII values reappear in the synthetic text?

The audit never holds the source values. The manifest carries their keyed fingerprints; every
candidate in the synthetic text — each run of up to `max_ngram` whitespace-separated pieces, and
each span the re-scan detected — is fingerprinted with the same normalization and site key and
looked up. The holdout is the control: a "source value" that unseen scrubbed records also contain
in the clear is ordinary wording (a detector's false alarm such as "account"), not a leak, and is not
counted; the number of such values is reported. Nothing else is excused, whatever its entity type:
a value the scrubber missed in one training record and caught in another still counts when it
reappears, because the generator saw it.
Parameters: `max_ngram` (default 6), `min_chars` (source values shorter than this are not counted,
default 3), `ignore_entities` (types whose values are not counted, default DATE_TIME: a generic date
such as "Jul 07" has so few possible values that synthetic text matches one by chance; a value also
found as a counted type, e.g. DATE_OF_BIRTH, still counts).
"""

from __future__ import annotations

from collections import Counter, defaultdict

from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext
from audit.stats import wilson
from audit.text import field_value, pieces

MAX_LISTED = 50
IGNORE_ENTITIES = ("DATE_TIME",)
METHOD = (
    "Keyed fingerprints (HMAC-SHA256 under the site key, after normalization) of every token "
    "n-gram and detected span of the synthetic text, matched against the privacy manifest; share of "
    "distinct source values replayed, excluding values the holdout's scrubbed text also contains; "
    "Wilson score interval."
)


def _get(finding, name: str):
    return finding[name] if isinstance(finding, dict) else getattr(finding, name)


def _source_values(manifest: list, min_chars: int, ignore: set[str]) -> dict[str, set[str]]:
    """fingerprint → entity types, for every source value the policy counts."""
    values: dict[str, set[str]] = defaultdict(set)
    for finding in manifest:
        kind = _get(finding, "entity_type")
        if kind in ignore or _get(finding, "end") - _get(finding, "start") < min_chars:
            continue
        values[_get(finding, "fingerprint")].add(kind)
    return values


def _candidates(context: AuditContext, split: str, max_ngram: int) -> dict[str, tuple[int, str, int, int]]:
    """Distinct candidate strings → where one of them occurs (record index, field, start, end)."""
    found: dict[str, tuple[int, str, int, int]] = {}
    for i, record in enumerate(context.records(split)):
        for name in context.fields.text:
            text = field_value(record, name)
            spans = pieces(text)
            for j, (start, _) in enumerate(spans):
                for end_piece in spans[j : j + max_ngram]:
                    found.setdefault(text[start : end_piece[1]], (i, name, start, end_piece[1]))
    for i, spans in context.detected(split).items():
        record = context.records(split)[i]
        for span in spans:
            text = field_value(record, span.field)
            found.setdefault(text[span.start : span.end], (i, span.field, span.start, span.end))
    return found


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    from privacy.fingerprint import fingerprint

    manifest = context.inputs.manifest
    if manifest is None:
        raise NotApplicable("no manifest of the source PII was provided")
    ignore = set(settings.param("ignore_entities", IGNORE_ENTITIES))
    source = _source_values(manifest, settings.param("min_chars", 3), ignore)
    key = context.inputs.site_key
    max_ngram = settings.param("max_ngram", 6)
    ordinary = {d for d in (fingerprint(key, c) for c in _candidates(context, "holdout", max_ngram)) if d in source}
    for digest in ordinary:
        del source[digest]
    candidates = _candidates(context, "synthetic", max_ngram)
    replayed: dict[str, tuple[int, str, int, int]] = {}
    for candidate, where in candidates.items():
        digest = fingerprint(key, candidate)
        if digest in source and digest not in replayed:
            replayed[digest] = where
    ids = context.ids("synthetic")
    source_by_entity = Counter(kind for kinds in source.values() for kind in kinds)
    replayed_by_entity = Counter(kind for fp in replayed for kind in source[fp])
    listed = [
        {"record": ids[i], "field": name, "start": start, "end": end, "entity_type": "/".join(sorted(source[fp]))}
        for fp, (i, name, start, end) in replayed.items()
    ][:MAX_LISTED]
    figure = len(replayed) / len(source) if source else 0.0
    ci = wilson(len(replayed), len(source), settings.confidence)
    summary = (
        f"{len(replayed)} of the {len(source)} distinct PII values found in the source records "
        f"reappear in the synthetic text ({figure:.2%}); the limit is {settings.threshold:.2%}."
        if source else "The manifest lists no source PII values, so none can reappear."
    )
    if ignore:
        summary += (
            f" Not counted: values of type {', '.join(sorted(ignore))} (too few possible values to tell a "
            "replay from chance); a value the detectors also found as any other type still counts."
        )
    if ordinary:
        summary += (
            f" Not counted: {len(ordinary)} values the detectors flagged in some source record that the "
            "scrubbed text of unseen (holdout) records also contains in the clear — ordinary wording the "
            "detectors mistook for PII, which synthetic text may use without having learned it from anyone."
        )
    details = {
        "source_values": len(source),
        "source_by_entity": dict(sorted(source_by_entity.items())),
        "ignored_entities": sorted(ignore),
        "replayed_values": len(replayed),
        "replayed_by_entity": dict(sorted(replayed_by_entity.items())),
        "candidates_checked": len(candidates),
        "ordinary_values_excluded": len(ordinary),
        "occurrences": listed,
    }
    return settings.result(figure, ci, summary, details, METHOD)


CHECK = Check(name="pii_replay", title="Source PII values reappearing", run=run, default_threshold=0.0, order=20)
