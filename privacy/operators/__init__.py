"""Anonymization operators, one module each, found by the name a policy uses.

Each is a Presidio operator class; `build_engine` adds them all to a Presidio AnonymizerEngine.
"""

from __future__ import annotations

from privacy.presidio_import import presidio_without_torch

with presidio_without_torch():  # presidio_anonymizer imports presidio_analyzer, which pulls in torch
    from presidio_anonymizer import AnonymizerEngine

from privacy.operators.base import CONTEXT, AirlockOperator, OperatorContext
from privacy.operators.encrypt import Encrypt, decrypt_token, encrypt_value
from privacy.operators.hash import KeyedHash
from privacy.operators.mask import Mask
from privacy.operators.placeholder import Placeholder
from privacy.operators.redact import Redact
from privacy.operators.surrogate import Surrogate

OPERATORS: dict[str, type[AirlockOperator]] = {
    op.name: op for op in (Placeholder, Mask, KeyedHash, Encrypt, Redact, Surrogate)
}


def build_engine() -> AnonymizerEngine:
    """A Presidio AnonymizerEngine that knows Airlock's operators (they shadow same-named built-ins)."""
    engine = AnonymizerEngine()
    for operator in OPERATORS.values():
        engine.add_anonymizer(operator)
    return engine


__all__ = [
    "CONTEXT", "OPERATORS", "AirlockOperator", "OperatorContext", "build_engine", "decrypt_token",
    "encrypt_value",
]
