"""The privacy section of the policy file: what each field is, which operator each entity gets,
and the policy's own recognizers, deny lists and allow list."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRule(_Strict):
    """How one field (a dotted path for nested JSON, e.g. `patient.name`) is treated.

    text: scanned span by span; pii: the whole value is one entity of `entity`;
    label / passthrough: kept as is; drop: removed from the output.
    required: a record without this field is bad input.
    """

    kind: Literal["text", "pii", "label", "passthrough", "drop"]
    entity: str | None = None
    required: bool = False


class OperatorRule(_Strict):
    """Operator for one entity type: placeholder, mask, hash, encrypt, redact or surrogate."""

    operator: str = "placeholder"
    params: dict[str, Any] = Field(default_factory=dict)


class PatternRule(_Strict):
    """A regex recognizer added by the policy."""

    name: str
    entity: str
    regex: str
    score: float = Field(0.6, ge=0, le=1)
    context: list[str] = Field(default_factory=list)


class PrivacyPolicy(_Strict):
    language: str = "en"
    id_field: str | None = "id"  # None: records are referred to by their number
    fields: dict[str, FieldRule] = Field(default_factory=dict)
    default_operator: OperatorRule = Field(default_factory=OperatorRule)
    operators: dict[str, OperatorRule] = Field(default_factory=dict)
    entities: list[str] | None = None
    score_threshold: float = Field(0.35, ge=0, le=1)
    recognizers: list[PatternRule] = Field(default_factory=list)
    deny_lists: dict[str, list[str]] = Field(default_factory=dict)
    allow_list: list[str] = Field(default_factory=list)
    surrogate_locale: str = "en_US"
    vault: bool = False
    max_record_bytes: int = Field(1_000_000, gt=0)
