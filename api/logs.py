"""Structured JSON logs (structlog) with a request id bound per request.

Log events carry ids, counts, stages and timings — never record content, request bodies or keys.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import structlog

_configured: tuple | None = None


def configure_logging(level: str = "info", log_file: Path | None = None) -> None:
    """Route structlog (and stdlib logging, e.g. uvicorn's) to JSON lines on stderr or a file."""
    global _configured
    if _configured == (level, log_file):
        return
    _configured = (level, log_file)
    stream = open(log_file, "a", encoding="utf-8", buffering=1) if log_file else sys.stderr  # noqa: SIM115
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream)
    handler.addFilter(_without_tracebacks)
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({"logger": record.name, "level": record.levelname.lower(), "event": record.getMessage()})


def _without_tracebacks(record: logging.LogRecord) -> bool:
    """Library log records (uvicorn's 'Exception in ASGI application') lose their traceback: an
    exception's message or locals may quote the record being processed."""
    record.exc_info, record.exc_text, record.stack_info = None, None, None
    return True


def get_logger(name: str = "airlock"):
    return structlog.get_logger(name)
