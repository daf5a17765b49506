"""Reading and writing datasets: JSONL, CSV or a pandas DataFrame, streamed, written atomically."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from privacy.errors import BadInput

Record = dict[str, Any]
MAX_RECORD_BYTES = 1_000_000


def dataset_format(path: str | Path) -> str:
    """'jsonl' or 'csv', from the file name; '-' (stdin/stdout) is JSONL."""
    name = str(path).lower()
    if name == "-" or name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    raise BadInput(f"{Path(name).name}: unknown dataset format (use .jsonl or .csv)")


def read_records(path: str | Path, max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[Record]:
    """Yield records one at a time, so a file of any size is never held in memory.

    Errors name the record number (1-based line or row), never the content.
    """
    fmt = dataset_format(path)
    if str(path) == "-":
        yield from read_records_from(sys.stdin.buffer, fmt, max_record_bytes)
        return
    p = Path(path)
    if not p.is_file():
        raise BadInput(f"{p.name}: no such file")
    with p.open("rb") as raw:
        n = 0
        for n, record in enumerate(read_records_from(raw, fmt, max_record_bytes), 1):
            yield record
    if n == 0:
        raise BadInput(f"{p.name}: the file holds no records")


def read_records_from(stream: IO[bytes], fmt: str, max_record_bytes: int = MAX_RECORD_BYTES) -> Iterator[Record]:
    """Yield records from an open binary stream of JSONL or CSV (`fmt`: 'jsonl' or 'csv'), for
    inputs that are not files: stdin, an upload decrypted in memory.

    Errors name the record number, never the content.
    """
    if fmt not in ("jsonl", "csv"):
        raise BadInput(f"unknown dataset format {fmt!r} (use jsonl or csv)")
    yield from (_read_jsonl if fmt == "jsonl" else _read_csv)(stream, max_record_bytes)


def _decode(line: bytes, number: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(f"record {number}: not valid UTF-8") from None


def _read_jsonl(raw: IO[bytes], max_record_bytes: int) -> Iterator[Record]:
    for number, line in enumerate(raw, 1):
        if len(line) > max_record_bytes:
            raise BadInput(f"record {number}: larger than the {max_record_bytes}-byte limit")
        text = _decode(line, number).strip()
        if not text:
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError:
            raise BadInput(f"record {number}: not valid JSON") from None
        if not isinstance(record, dict):
            raise BadInput(f"record {number}: not a JSON object")
        yield record


def _read_csv(raw: IO[bytes], max_record_bytes: int) -> Iterator[Record]:
    text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
    rows = csv.DictReader(text)
    number = 0
    try:
        for number, row in enumerate(rows, 1):
            if None in row:
                raise BadInput(f"record {number}: more cells than header columns")
            if sum(len(v or "") for v in row.values()) > max_record_bytes:
                raise BadInput(f"record {number}: larger than the {max_record_bytes}-byte limit")
            yield dict(row)
    except UnicodeDecodeError:
        raise BadInput(f"record {number + 1}: not valid UTF-8") from None
    except csv.Error:
        raise BadInput(f"record {number + 1}: malformed CSV") from None


def records_from_dataframe(frame: "Any") -> Iterator[Record]:
    """Records from a pandas DataFrame (NaN becomes None)."""
    for row in frame.to_dict(orient="records"):
        yield {k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}


@contextmanager
def atomic_output(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside `path`; rename it into place only if the block succeeds.

    A failure part-way leaves no partial output behind.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8", newline="" if "b" not in mode else None) as out:
            yield out
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class JsonlWriter:
    """A JSONL file that starts with a header line and appears only when its block ends without error
    (the manifest and the vault are written this way)."""

    def __init__(self, path: str | Path, header: dict[str, Any]):
        self._header = header
        self._atomic = atomic_output(path)
        self._out: IO[str] | None = None

    def __enter__(self):
        self._out = self._atomic.__enter__()
        self.write_line(self._header)
        return self

    def __exit__(self, *exc_info) -> bool | None:
        return self._atomic.__exit__(*exc_info)

    def write_line(self, obj: dict[str, Any]) -> None:
        self._out.write(json.dumps(obj, ensure_ascii=False) + "\n")


def write_records(path: str | Path, records: Iterable[Record]) -> int:
    """Write records as JSONL or CSV (by extension), atomically; '-' writes JSONL to stdout."""
    fmt = dataset_format(path)
    if str(path) == "-":
        return _write_jsonl(sys.stdout, records)
    with atomic_output(path) as out:
        return _write_jsonl(out, records) if fmt == "jsonl" else _write_csv(out, records)


def _write_jsonl(out: IO[str], records: Iterable[Record]) -> int:
    n = 0
    for n, record in enumerate(records, 1):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return n


def _write_csv(out: IO[str], records: Iterable[Record]) -> int:
    writer = None
    n = 0
    for n, record in enumerate(records, 1):
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(record), extrasaction="ignore")
            writer.writeheader()
        writer.writerow({k: _csv_cell(v) for k, v in record.items()})
    return n


def _csv_cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list)) else value
