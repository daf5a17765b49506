"""PII replay: do source PII values reappear in the synthetic text, more than chance would have them?

The audit never holds the source values. The manifest carries their keyed fingerprints; every
candidate in the synthetic text — each run of up to `max_ngram` whitespace-separated pieces, and
each span the re-scan detected — is fingerprinted with the same normalization and site key and
looked up. When every counted value carries its prefix digest (a version 2 manifest), only the
candidates with a wanted prefix digest are fingerprinted (audit/candidates.py): the same values are
found, faster; the details say which scan ran. Two rules judge what is found:

1. Zero tolerance for identifiers. A source value of an identifier type (emails, phones, card,
   account and ID numbers, addresses: `identifier_entities`) or a PERSON value of two or more words
   (a full name) must never appear, whichever split it came from. One is a failure.
2. A control for everything else, as Anonymeter does (Giomi et al., "A Unified Framework for
   Quantifying Privacy Risk in Synthetic Data", PoPETs 2023): common first names, cities and
   countries appear in any text. The generator saw the training split's values and never the
   holdout's, so the share of holdout-only values the synthetic text contains is what chance and
   the domain give; the figure is the share of training-only values it contains in excess of that,
   with Newcombe's interval. Values in both splits are counted apart (they cannot tell learning from
   chance). Without holdout values to compare against, the figure is the bare training share.

Ordinary vocabulary. A value the detectors flagged in some source record but passed over in the
scrubbed text of at least `ordinary_min_records` (default 3) distinct holdout records, that is a
single word and not of an identifier type, is the domain's wording (a false alarm such as "account"),
not a person's, and is not counted anywhere; the report counts these values by type. A value found
in the clear in fewer holdout records, or of several words, may be a scrubber miss and still counts.
Parameters: `max_ngram` (default 6), `min_chars` (source values shorter than this are not counted,
default 3), `ignore_entities` (default DATE_TIME: a generic date such as "Jul 07" matches by chance;
a value also found as a counted type, e.g. DATE_OF_BIRTH, still counts), `identifier_entities`,
`ordinary_min_records`.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from audit.candidates import CHUNK_RECORDS, PARALLEL_ABOVE, WORKERS, prefixes, scan_chunk
from audit.check import Check, CheckResult, CheckSettings, NotApplicable
from audit.context import AuditContext
from audit.stats import difference_interval, difference_records_needed, wilson, wilson_records_needed
from audit.text import field_value
from privacy.fingerprint import PREFIX_FORMAT

MAX_LISTED = 50
_HEX = re.compile(r"[0-9a-f]{64}")
IGNORE_ENTITIES = ("DATE_TIME",)
IDENTIFIER_ENTITIES = (
    "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN", "IBAN_CODE", "ACCOUNT_NUMBER", "US_BANK_NUMBER",
    "US_SSN", "US_ITIN", "US_PASSPORT", "PASSPORT", "US_DRIVER_LICENSE", "UK_NHS", "MEDICAL_RECORD_NUMBER",
    "MEDICAL_LICENSE", "IP_ADDRESS", "CRYPTO", "URL", "STREET_ADDRESS",
)
FULL_NAME_TYPE, FULL_NAME_WORDS = "PERSON", 2
ORDINARY_MIN_RECORDS = 3
METHOD = (
    "Keyed fingerprints (HMAC-SHA256 under the site key, after normalization) of every token n-gram and "
    "detected span of the synthetic text, matched against the privacy manifest. Zero tolerance for "
    "identifiers and full names; for other values, the share of training-only values replayed minus the "
    "share of holdout-only values replayed (a control the generator never saw; Giomi et al., PoPETs "
    "2023), with Newcombe's hybrid Wilson interval (Newcombe 1998)."
)


@dataclass
class _Candidate:
    where: tuple[int, str, int, int]  # first occurrence: record index, field, start, end
    words: int  # whitespace-separated pieces of the matched text
    records: set[int]  # indices of the records it occurs in


def _get(finding, name: str):
    if isinstance(finding, dict):
        return finding.get(name)
    return getattr(finding, name, None)


def _source_values(manifest: list, holdout_ids: set[str], min_chars: int, ignore: set[str]):
    """(training values, holdout values, prefix digests): fingerprint → entity types, for every
    counted source value, and fingerprint → the prefix digests its findings give it, or None if a
    counted finding gives none (a version 1 manifest). A finding whose record is in no known split
    counts as training: the generator may have seen it."""
    values: dict[str, dict[str, set[str]]] = {"train": defaultdict(set), "holdout": defaultdict(set)}
    prefix_digests: dict[str, set[str]] | None = defaultdict(set)
    for finding in manifest:
        kind = _get(finding, "entity_type")
        if kind in ignore or _get(finding, "end") - _get(finding, "start") < min_chars:
            continue
        split = "holdout" if str(_get(finding, "record_id")) in holdout_ids else "train"
        values[split][_get(finding, "fingerprint")].add(kind)
        prefix = _get(finding, "prefix")
        if prefix_digests is not None and isinstance(prefix, str) and PREFIX_FORMAT.fullmatch(prefix):
            prefix_digests[_get(finding, "fingerprint")].add(prefix)
        else:
            prefix_digests = None
    return values["train"], values["holdout"], prefix_digests


def _wanted_prefixes(wanted, prefix_digests: dict[str, set[str]] | None) -> frozenset[str] | None:
    """The prefix digests of the wanted values, or None to fingerprint every candidate."""
    if prefix_digests is None:
        return None
    return frozenset(p for d in wanted for p in prefix_digests[d])


def _jobs(context: AuditContext, split: str, max_ngram: int, key: bytes, wanted: np.ndarray,
          wanted_prefixes: frozenset[str] | None):
    """One scan_chunk call's arguments per CHUNK_RECORDS records of the split."""
    records, detected = context.records(split), context.detected(split)
    for first in range(0, len(records), CHUNK_RECORDS):
        chunk = range(first, min(first + CHUNK_RECORDS, len(records)))
        items = [(i, name, field_value(records[i], name)) for i in chunk for name in context.fields.text]
        extra = [(i, s.field, s.start, s.end, field_value(records[i], s.field)) for i in chunk for s in detected.get(i, ())]
        yield items, extra, max_ngram, key, wanted, wanted_prefixes


def _candidates(context: AuditContext, split: str, max_ngram: int, key: bytes, wanted,
                prefix_digests: dict[str, set[str]] | None) -> dict[str, _Candidate]:
    """Fingerprint → candidate, for the candidates of a split whose fingerprint is in `wanted`
    (audit/candidates.py: chunked, prefix-filtered when `prefix_digests` is given, and on worker
    processes for large splits)."""
    from joblib import Parallel, delayed

    # Only well-formed digests can equal a candidate's; anything else in the manifest never matches.
    prefix = np.unique(prefixes([bytes.fromhex(d) for d in wanted if isinstance(d, str) and _HEX.fullmatch(d)]))
    jobs = _jobs(context, split, max_ngram, key, prefix, _wanted_prefixes(wanted, prefix_digests))
    if len(context.records(split)) > PARALLEL_ABOVE:
        results = Parallel(n_jobs=WORKERS, return_as="generator")(delayed(scan_chunk)(*job) for job in jobs)
    else:
        results = (scan_chunk(*job) for job in jobs)
    matched: dict[str, _Candidate] = {}
    for result in results:  # in record order, so the first occurrence stays the first
        for candidate, digest, where, in_records in result:
            if digest in wanted:
                known = matched.setdefault(digest, _Candidate(where, len(candidate.split()), set()))
                known.records |= in_records
    return matched


def _is_identifier(kinds: set[str], words: int, identifiers: set[str]) -> bool:
    return bool(kinds & identifiers) or (FULL_NAME_TYPE in kinds and words >= FULL_NAME_WORDS)


def _ordinary(clear: dict[str, _Candidate], train: dict, identifiers: set[str], min_records: int) -> set[str]:
    """The stated rule: one word, not an identifier, in the clear in ≥ min_records holdout records."""
    return {
        digest for digest, c in clear.items()
        if c.words == 1 and not train[digest] & identifiers and len(c.records) >= min_records
    }


def run(context: AuditContext, settings: CheckSettings) -> CheckResult:
    manifest = context.inputs.manifest
    if manifest is None:
        raise NotApplicable("no manifest of the source PII was provided")
    ignore = set(settings.param("ignore_entities", IGNORE_ENTITIES))
    identifiers = set(settings.param("identifier_entities", IDENTIFIER_ENTITIES))
    max_ngram, key = int(settings.param("max_ngram", 6)), context.inputs.site_key
    train, holdout, prefix_digests = _source_values(
        manifest, set(context.ids("holdout")), int(settings.param("min_chars", 3)), ignore)
    clear = _candidates(context, "holdout", max_ngram, key, train, prefix_digests)
    ordinary = _ordinary(clear, train, identifiers, int(settings.param("ordinary_min_records", ORDINARY_MIN_RECORDS)))
    ordinary_by_entity = Counter(kind for d in ordinary for kind in train[d])
    for digest in ordinary:
        train.pop(digest, None)
        holdout.pop(digest, None)
    kinds = {d: train.get(d, set()) | holdout.get(d, set()) for d in {*train, *holdout}}
    replayed = _candidates(context, "synthetic", max_ngram, key, kinds, prefix_digests)
    found = [d for d in replayed if _is_identifier(kinds[d], replayed[d].words, identifiers)]
    figure, ci, control, needed = _excess(train, holdout, replayed, settings)
    counts = {
        "ordinary_values_excluded": len(ordinary), "ordinary_by_entity": dict(sorted(ordinary_by_entity.items())),
        "clear_in_holdout_not_excused": len(clear) - len(ordinary),
        "candidate_scan": "full" if prefix_digests is None else "prefix-filtered",
    }
    details = _details(context, kinds, replayed, found, control, counts, ignore, identifiers, train, holdout)
    summary = _summary(figure, ci, control, found, kinds, replayed, counts, ignore, settings)
    blocked = (f"{len(found)} identifier or full-name value(s) of the source records reappear "
               f"({_by_type(found, kinds)}); the limit for such values is zero") if found else ""
    return settings.result(figure, ci, summary, details, METHOD, needed=needed, blocked_by=blocked)


def _excess(train: dict, holdout: dict, replayed: dict, settings: CheckSettings):
    """(figure, interval, control counts, records-needed callback) of the training-only excess."""
    train_only = [d for d in train if d not in holdout]
    holdout_only = [d for d in holdout if d not in train]
    k_train = sum(d in replayed for d in train_only)
    k_holdout = sum(d in replayed for d in holdout_only)
    shared = len(train) - len(train_only)
    control = {"train_only": len(train_only), "holdout_only": len(holdout_only), "shared": shared,
               "replayed_train_only": k_train, "replayed_holdout_only": k_holdout,
               "replayed_shared": sum(d in replayed and d in holdout for d in train)}
    unit = "distinct training-only source values"
    if not train_only:
        return 0.0, (0.0, 0.0), control, None
    if not holdout_only:
        ci = wilson(k_train, len(train_only), settings.confidence)
        n = wilson_records_needed(k_train, len(train_only), settings.threshold, settings.confidence)
        return k_train / len(train_only), ci, control, lambda: n and (n, unit)
    figure, ci = difference_interval(k_train, len(train_only), k_holdout, len(holdout_only), settings.confidence)
    n = difference_records_needed(k_train, len(train_only), k_holdout, len(holdout_only),
                                  settings.threshold, settings.confidence)
    return figure, ci, control, lambda: n and (n, unit + " (and holdout-only values in proportion)")


def _by_type(digests, kinds: dict) -> str:
    counted = Counter("/".join(sorted(kinds[d])) for d in digests)
    return ", ".join(f"{kind}: {n}" for kind, n in sorted(counted.items()))


def _summary(figure, ci, control, found, kinds, replayed, counts, ignore, settings) -> str:
    if not kinds:
        text = "The manifest lists no counted source PII values, so none can reappear."
    else:
        text = (
            f"{len(found)} identifier or full-name value(s) of the source records reappear in the synthetic "
            f"text (the limit is zero). Of other values, the synthetic text contains {control['replayed_train_only']} "
            f"of {control['train_only']} found only in training records"
        )
        if control["holdout_only"]:
            text += (f", against {control['replayed_holdout_only']} of {control['holdout_only']} found only in "
                     "holdout records, which the generator never saw (the control)")
        else:
            text += "; no holdout-only values were there to compare against"
        text += (f": an excess of {figure:+.2%} (95% interval {ci[0]:+.2%} to {ci[1]:+.2%}); the limit is "
                 f"{settings.threshold:.2%}. {len(replayed)} distinct source values reappear in all, "
                 f"{control['replayed_shared']} of them found in both splits.")
    if ignore:
        text += f" Not counted: values of type {', '.join(sorted(ignore))} (too few possible values)."
    if counts["ordinary_values_excluded"] or counts["clear_in_holdout_not_excused"]:
        text += (
            f" Not counted as ordinary vocabulary: {counts['ordinary_values_excluded']} single-word values, not "
            f"identifiers, that the scrubbed text of at least {settings.param('ordinary_min_records', ORDINARY_MIN_RECORDS)} "
            f"holdout records contains in the clear; {counts['clear_in_holdout_not_excused']} other values "
            "found in the clear in the holdout do not meet that rule and still count."
        )
    return text


def _details(context, kinds, replayed, found, control, counts, ignore, identifiers, train, holdout) -> dict:
    ids = context.ids("synthetic")
    listed = [
        {"record": ids[c.where[0]], "field": c.where[1], "start": c.where[2], "end": c.where[3],
         "entity_type": "/".join(sorted(kinds[d])), "identifier": d in found,
         "source_split": "both" if d in train and d in holdout else ("holdout" if d in holdout else "train")}
        for d, c in replayed.items()
    ][:MAX_LISTED]
    return {
        "source_values": len(train),
        "holdout_values": len(holdout),
        "source_by_entity": dict(sorted(Counter(k for d in train for k in train[d]).items())),
        "ignored_entities": sorted(ignore),
        "identifier_entities": sorted(identifiers),
        "identifiers_replayed": len(found),
        "identifiers_by_entity": dict(sorted(Counter(k for d in found for k in kinds[d]).items())),
        "replayed_values": len(replayed),
        "replayed_by_entity": dict(sorted(Counter(k for d in replayed for k in kinds[d]).items())),
        "control": control,
        **counts,
        "ordinary_rule": "one word, not an identifier type, in the clear in the scrubbed text of at least "
                         "`ordinary_min_records` distinct holdout records",
        "occurrences": listed,
    }


CHECK = Check(name="pii_replay", title="Source PII values reappearing", run=run, default_threshold=0.02, order=20)
