"""Keyed hash: HMAC-SHA256 of the normalized value under the site key (linkable, not reversible)."""

from __future__ import annotations

from presidio_anonymizer.entities import InvalidParamError

from privacy.operators.base import AirlockOperator

LENGTH = "length"


class KeyedHash(AirlockOperator):
    """Unlike Presidio's `hash`, the key is the site secret, so equal values hash equally across jobs."""

    name = "hash"
    params = frozenset({LENGTH})

    def operate(self, text: str, params: dict | None = None) -> str:
        return self.context(params).fingerprint(text)[: params.get(LENGTH, 16)]

    def validate(self, params: dict | None = None) -> None:
        super().validate(params)
        length = params.get(LENGTH, 16)
        if not isinstance(length, int) or isinstance(length, bool) or not 8 <= length <= 64:
            raise InvalidParamError(f"operator hash: {LENGTH} must be an integer from 8 to 64")
