"""The synthesis stage's own error (a module of its own: modes, filters and the placeholder filler
all raise it, and the filler must not import the modes, which name it in their types)."""


class Reject(Exception):
    """A draft that must not become a record; the message is the reason counted in the summary."""
