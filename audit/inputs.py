"""What an audit looks at, and the checks on it that must pass before any check runs.

Bad input is refused with a message naming splits, record numbers and fields — never content — so
that a malformed audit can never end in a passing verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from audit.text import field_value
from privacy.errors import BadInput

SPLITS = ("synthetic", "train", "holdout")
# Fields Airlock adds to records it produces (`_synthetic`, `_provenance`) are not part of the schema.
_INTERNAL_PREFIX = "_"
_MIN_TEXT_CHARS = 20


@dataclass(frozen=True)
class AuditInputs:
    """The released candidate and the two scrubbed splits it is judged against.

    `manifest` holds the privacy stage's findings (keyed fingerprints, never values) made with
    `site_key`; `analyzer` is a Presidio engine for the re-scan; `models` may name the fine-tuned and
    base model (`{"finetuned": path|ModelInfo, "base": path|ModelInfo}`) for model-based checks;
    `canaries` is the CanarySet inserted into `train` before synthesis; `embedder` is built once by
    the caller (see audit.embed.load_embedder), or chosen by the policy when absent.
    """

    synthetic: list[dict]
    train: list[dict]
    holdout: list[dict]
    manifest: list | None = None
    site_key: bytes | None = None
    analyzer: Any = None
    privacy_policy: Any = None
    text_fields: list[str] | None = None
    label_field: str | None = None
    models: dict[str, Any] | None = None
    canaries: Any = None
    embedder: Any = None


@dataclass(frozen=True)
class Fields:
    text: list[str]
    label: str | None
    id: str


def resolve_fields(inputs: AuditInputs) -> Fields:
    """Which fields carry free text and labels: explicit inputs, then the privacy policy, then the data."""
    policy = inputs.privacy_policy
    id_field = getattr(policy, "id_field", None) or "id"
    rules = getattr(policy, "fields", None) or {}
    label_fields = [name for name, rule in rules.items() if rule.kind == "label"]
    label = inputs.label_field
    if label is None and label_fields:
        label = "label" if "label" in label_fields else label_fields[0]
    if label is None and any("label" in r for r in inputs.train[:100]):
        label = "label"
    text = list(inputs.text_fields or [name for name, rule in rules.items() if rule.kind == "text"])
    if not text:
        text = guess_text_fields(inputs.train, exclude={id_field, label, *label_fields})
    if not text:
        raise BadInput("no free-text field found in the training split; name the text fields in the policy")
    return Fields(text=text, label=label, id=id_field)


def guess_text_fields(records: Sequence[dict], exclude: set) -> list[str]:
    lengths: dict[str, list[int]] = {}
    for record in records[:500]:
        for key, value in record.items():
            if isinstance(value, str) and key not in exclude and not key.startswith(_INTERNAL_PREFIX):
                lengths.setdefault(key, []).append(len(value))
    return [k for k, v in lengths.items() if sum(v) / len(v) >= _MIN_TEXT_CHARS]


def check_splits(inputs: AuditInputs, min_holdout: int) -> None:
    """Refuse empty splits and a holdout below the policy minimum."""
    for split in SPLITS:
        if not getattr(inputs, split):
            raise BadInput(f"the {split} split is empty")
    if len(inputs.holdout) < min_holdout:
        raise BadInput(
            f"the holdout split has {len(inputs.holdout)} records; the audit policy needs at least "
            f"{min_holdout} non-members to compare against"
        )


def check_schema(inputs: AuditInputs, fields: Fields) -> None:
    """Refuse mismatched schemas and records without their text."""
    present = {split: _fields_present(getattr(inputs, split)) for split in SPLITS}
    everywhere = _fields_everywhere(inputs.train)
    holdout_only = present["holdout"] - present["train"]
    missing_in_holdout = everywhere - present["holdout"]
    if holdout_only or missing_in_holdout:
        parts = [f"only in holdout: {', '.join(sorted(holdout_only))}"] if holdout_only else []
        if missing_in_holdout:
            parts.append(f"missing from holdout: {', '.join(sorted(missing_in_holdout))}")
        raise BadInput("the training and holdout splits have different fields (" + "; ".join(parts) + ")")
    extra = present["synthetic"] - present["train"]
    if extra:
        raise BadInput(f"the synthetic records have fields the training split lacks: {', '.join(sorted(extra))}")
    for split in SPLITS:
        for number, record in enumerate(getattr(inputs, split), 1):
            for name in fields.text:
                if not isinstance(field_value(record, name), str):
                    raise BadInput(f"{split} record {number}: text field {name!r} is missing or not text")
    if inputs.manifest is not None and inputs.site_key is None:
        raise BadInput("a manifest needs the site key it was made with")


def _fields_present(records: Sequence[dict]) -> set[str]:
    return {k for record in records for k in record if not k.startswith(_INTERNAL_PREFIX)}


def _fields_everywhere(records: Sequence[dict]) -> set[str]:
    """Fields every record has (optional JSON fields may be absent from a small holdout by chance)."""
    common = set(records[0])
    for record in records[1:]:
        common &= record.keys()
    return {k for k in common if not k.startswith(_INTERNAL_PREFIX)}


def record_id(record: dict, id_field: str, number: int) -> str:
    """The record's id, or its 1-based record number when it has none."""
    value = record.get(id_field)
    return str(value) if value is not None else f"#{number}"
