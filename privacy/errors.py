"""Typed errors shared by every stage (the audit's own lives in audit/errors.py).

Messages name record numbers, fields and file names, never record content. `api/` maps each type
once to an exit code and an HTTP problem document.
"""


class AirlockError(Exception):
    """Base of every error Airlock reports to a caller."""


class BadInput(AirlockError):
    """The caller's data or arguments cannot be processed as given."""


class PolicyError(AirlockError):
    """The policy file is malformed, names an unknown key, or forbids the request."""


class ModelError(AirlockError):
    """A model is missing, corrupt, fails its hash check, or fails while running."""
