"""Remove the value, leaving an optional marker (default: nothing)."""

from __future__ import annotations

from presidio_anonymizer.entities import InvalidParamError

from privacy.operators.base import AirlockOperator

MARKER = "marker"


class Redact(AirlockOperator):
    name = "redact"
    params = frozenset({MARKER})

    def operate(self, text: str, params: dict | None = None) -> str:
        return params.get(MARKER, "")

    def validate(self, params: dict | None = None) -> None:
        super().validate(params)
        if not isinstance(params.get(MARKER, ""), str):
            raise InvalidParamError(f"operator redact: {MARKER} must be a string")
