"""`<PERSON_1>`: a typed placeholder; the same value gets the same number within a dataset."""

from __future__ import annotations

from privacy.operators.base import ENTITY_TYPE, AirlockOperator
from privacy.placeholders import placeholder


class Placeholder(AirlockOperator):
    name = "placeholder"

    def operate(self, text: str, params: dict | None = None) -> str:
        entity_type = params[ENTITY_TYPE]
        return placeholder(entity_type, self.context(params).number(entity_type, text))
