"""The one place where typed errors become exit codes and HTTP problem documents (RFC 9457)."""

from __future__ import annotations

from audit.errors import AuditError
from privacy.errors import AirlockError, BadInput, ModelError, PolicyError

# (CLI exit code, HTTP status, problem title)
_MAPPING: dict[type[AirlockError], tuple[int, int, str]] = {
    BadInput: (2, 400, "Bad input"),
    PolicyError: (2, 422, "Policy error"),
    ModelError: (2, 503, "Model error"),
    AuditError: (3, 500, "Audit error"),
}


def classify(error: AirlockError) -> tuple[int, int, str]:
    for kind in type(error).__mro__:
        if kind in _MAPPING:
            return _MAPPING[kind]
    return (1, 500, "Internal error")


def exit_code(error: AirlockError) -> int:
    return classify(error)[0]


def problem(error: AirlockError, instance: str | None = None) -> dict:
    """An RFC 9457 problem document; `detail` is the error's message, which never holds record content."""
    _, status, title = classify(error)
    doc = {"type": "about:blank", "title": title, "status": status, "detail": str(error)}
    if instance:
        doc["instance"] = instance
    return doc
