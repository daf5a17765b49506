"""Structured records: JSON Schema checks, and pulling one JSON object out of a model's reply.

The fast path generates without a grammar and validates strictly; a reply that does not parse or
validate is rejected and retried, and only the last attempt uses the (slow) grammar sampler.
"""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import exceptions as schema_errors
from jsonschema import validators

from privacy.errors import BadInput


class SchemaViolation(ValueError):
    """A reply that is not one JSON object valid under the schema; the message is a reject reason."""


def load_schema(path: Path | str) -> dict:
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path.name}: no such schema file")
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise BadInput(f"{path.name}: not valid JSON") from None
    return check_schema(schema, path.name)


def check_schema(schema: object, where: str = "schema") -> dict:
    """The schema if it is a valid JSON Schema for an object record, else BadInput."""
    if not isinstance(schema, dict):
        raise BadInput(f"{where}: not a valid JSON Schema (must be an object)")
    try:
        validators.validator_for(schema).check_schema(schema)
    except schema_errors.SchemaError as error:
        place = "/".join(str(p) for p in error.path) or "top level"
        raise BadInput(f"{where}: not a valid JSON Schema ({place}: {error.validator} is invalid)") from None
    if schema.get("type", "object") != "object":
        raise BadInput(f"{where}: the schema must describe an object (type: object)")
    return schema


def text_schema(fields: list[str]) -> dict:
    """The schema of a record made of free-text fields only."""
    return {
        "type": "object",
        "properties": {f: {"type": "string", "minLength": 1} for f in fields},
        "required": list(fields),
        "additionalProperties": False,
    }


def schema_fields(schema: dict) -> list[str]:
    return list(schema.get("properties", {}))


def parse_record(reply: str, schema: dict) -> dict:
    """The first JSON object in `reply`, validated against `schema`; SchemaViolation otherwise."""
    start = reply.find("{")
    if start < 0:
        raise SchemaViolation("invalid_json")
    try:
        value, _ = json.JSONDecoder().raw_decode(reply[start:])
    except ValueError:
        raise SchemaViolation("invalid_json") from None
    if not isinstance(value, dict):
        raise SchemaViolation("invalid_json")
    validator = validators.validator_for(schema)(schema)
    if next(validator.iter_errors(value), None) is not None:
        raise SchemaViolation("schema_mismatch")
    return value
