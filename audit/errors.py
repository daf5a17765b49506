"""The audit stage's own error. Messages name checks, files and figures, never record content."""

from privacy.errors import AirlockError


class AuditError(AirlockError):
    """An audit could not be completed; the gate treats it as a failure."""
