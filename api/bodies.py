"""Reading request bodies by content type, with problem documents for anything malformed."""

from __future__ import annotations

import json

from fastapi import Request

from api.problems import HttpProblem
from api.uploads import records_of
from privacy.errors import BadInput
from privacy.records import MAX_RECORD_BYTES

DATASET_TYPES = {
    "application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "application/x-jsonlines": "jsonl",
    "application/json-lines": "jsonl", "text/csv": "csv",
}


def _media_type(request: Request) -> tuple[str, str | None]:
    raw = request.headers.get("content-type", "")
    media, _, params = raw.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset":
            charset = value.strip('"').lower()
    return media.strip().lower(), charset


def _check_charset(charset: str | None) -> None:
    if charset not in (None, "utf-8", "utf8"):
        raise HttpProblem(415, "Unsupported media type", "only UTF-8 bodies are accepted")


async def read_json(request: Request) -> dict:
    """A JSON object body; 415 for another content type, 400 for bad encoding or bad JSON."""
    media, charset = _media_type(request)
    if media != "application/json":
        raise HttpProblem(415, "Unsupported media type", "send Content-Type: application/json")
    _check_charset(charset)
    body = await request.body()
    try:
        document = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadInput("the body is not valid UTF-8") from None
    except json.JSONDecodeError as error:
        raise BadInput(f"the body is not valid JSON (line {error.lineno}, column {error.colno})") from None
    if not isinstance(document, dict):
        raise BadInput("the body must be a JSON object")
    return document


async def read_dataset(request: Request, max_record_bytes: int = MAX_RECORD_BYTES) -> tuple[bytes, str, int]:
    """A JSONL or CSV body, checked record by record: (bytes, format, record count)."""
    media, charset = _media_type(request)
    fmt = DATASET_TYPES.get(media)
    if fmt is None:
        raise HttpProblem(415, "Unsupported media type",
                          "send the dataset as application/x-ndjson (JSONL) or text/csv")
    _check_charset(charset)
    body = await request.body()
    count = sum(1 for _ in records_of(body, fmt, max_record_bytes))
    if count == 0:
        raise BadInput("the upload holds no records")
    return body, fmt, count

