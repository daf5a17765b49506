"""Mask characters of a value, optionally keeping the last few (e.g. `*******4567`)."""

from __future__ import annotations

from presidio_anonymizer.entities import InvalidParamError

from privacy.operators.base import AirlockOperator

MASKING_CHAR = "masking_char"
KEEP_LAST = "keep_last"


class Mask(AirlockOperator):
    """Every letter and digit becomes the masking character; separators keep the value's shape."""

    name = "mask"
    params = frozenset({MASKING_CHAR, KEEP_LAST})

    def operate(self, text: str, params: dict | None = None) -> str:
        char = params.get(MASKING_CHAR, "*")
        keep = params.get(KEEP_LAST, 0)
        head, tail = (text[:-keep], text[-keep:]) if keep else (text, "")
        return "".join(char if c.isalnum() else c for c in head) + tail

    def validate(self, params: dict | None = None) -> None:
        super().validate(params)
        char = params.get(MASKING_CHAR, "*")
        if not isinstance(char, str) or len(char) != 1:
            raise InvalidParamError(f"operator mask: {MASKING_CHAR} must be one character")
        keep = params.get(KEEP_LAST, 0)
        if not isinstance(keep, int) or isinstance(keep, bool) or not 0 <= keep <= 4:
            raise InvalidParamError(f"operator mask: {KEEP_LAST} must be an integer from 0 to 4")
