"""The PII detector generation filters its drafts with: the privacy stage's analyzer and policy.

The pipeline and `airlock synth` build it the same way, and ignore the same entity types as the
audit's re-scan, so generation drops what the re-scan would count — and nothing else.
"""

from __future__ import annotations

from api.policy import Policy
from synth.pii import PiiDetector


def pii_detector(analyzer, policy: Policy) -> PiiDetector:  # noqa: ANN001 - presidio AnalyzerEngine
    """text → (entity_type, start, end) of each span the privacy policy's detectors find."""
    from privacy.analyzer import detect

    def find(text: str) -> list[tuple[str, int, int]]:
        return [(r.entity_type, r.start, r.end) for r in detect(analyzer, text, policy.privacy)]

    return find


def rescan_ignored(policy: Policy) -> list[str]:
    """The entity types the audit's PII re-scan does not count, per the policy."""
    from audit.checks.pii_rescan import IGNORE_ENTITIES

    return list(policy.audit.rule("pii_rescan").params.get("ignore_entities", IGNORE_ENTITIES))
