"""Airlock's recognizers: one module per recognizer, each registering its class here.

Adding a recognizer means adding a module that decorates its class with `@register`; every
module of this package is imported on first use, so nothing else needs editing.
"""

from __future__ import annotations

import importlib
import pkgutil

from privacy.presidio_import import presidio_without_torch
from privacy.policy import PrivacyPolicy

with presidio_without_torch():
    from presidio_analyzer import EntityRecognizer, RecognizerRegistry

REGISTRY: dict[str, type[EntityRecognizer]] = {}


def register(cls: type[EntityRecognizer]) -> type[EntityRecognizer]:
    """Make `cls` part of every analyzer; it is built as `cls(supported_language=...)`."""
    REGISTRY[cls.__name__] = cls
    return cls


def _load_modules() -> None:
    with presidio_without_torch():
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")


def build_recognizers(policy: PrivacyPolicy, supported_language: str = "en") -> list[EntityRecognizer]:
    """Every registered recognizer plus the policy's regex recognizers and deny lists."""
    from privacy.recognizers.policy_rules import policy_recognizers

    _load_modules()
    built = [cls(supported_language=supported_language) for cls in REGISTRY.values()]
    return built + policy_recognizers(policy, supported_language)


def build_registry(policy: PrivacyPolicy, supported_language: str = "en") -> RecognizerRegistry:
    return RecognizerRegistry(recognizers=build_recognizers(policy, supported_language),
                              supported_languages=[supported_language])
