"""Recognizers the policy file adds: its own regexes and its deny lists."""

from __future__ import annotations

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

from privacy.errors import PolicyError
from privacy.policy import PrivacyPolicy


def policy_recognizers(policy: PrivacyPolicy, supported_language: str = "en") -> list[EntityRecognizer]:
    """One PatternRecognizer per policy regex and one per deny-listed entity type."""
    built: list[EntityRecognizer] = []
    for rule in policy.recognizers:
        try:
            regex.compile(rule.regex)
        except regex.error as exc:
            raise PolicyError(f"privacy.recognizers: regex of {rule.name!r} is invalid ({exc.msg})") from exc
        built.append(PatternRecognizer(
            supported_entity=rule.entity,
            name=f"policy:{rule.name}",
            supported_language=supported_language,
            patterns=[Pattern(rule.name, rule.regex, rule.score)],
            context=rule.context or None,
        ))
    for entity, terms in policy.deny_lists.items():
        terms = [t for t in terms if t and t.strip()]
        if terms:
            built.append(PatternRecognizer(
                supported_entity=entity,
                name=f"policy:deny_list:{entity}",
                supported_language=supported_language,
                deny_list=terms,
            ))
    return built
