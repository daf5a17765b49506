"""Draft filters, one module each; a module defines `FILTER` (a DraftFilter subclass) and is found
here by its file, like the synthesis modes.

A filter is built once per job (`for_job`, None when it does not apply to the request), gives the
reason a draft must not become a record (`reason`, counted in the run summary), and learns from
each draft that was kept (`keep`). Filters run in `order`, cheapest first; every mode's drafts pass
the same ones. Invented PII is checked after placeholders are filled, in synth/cover.py.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synth.generate import SynthContext
    from synth.modes import Task


class DraftFilter:
    name: str = ""
    order: int = 0

    @classmethod
    def for_job(cls, ctx: SynthContext) -> DraftFilter | None:
        return cls()

    def reason(self, texts: list[str], task: Task) -> str | None:
        raise NotImplementedError

    def keep(self, texts: list[str]) -> None:
        """A draft with these texts became a record."""


def _discover() -> list[type[DraftFilter]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            found.append(importlib.import_module(f"{__name__}.{info.name}").FILTER)
    return sorted(found, key=lambda f: (f.order, f.name))


FILTERS: list[type[DraftFilter]] = _discover()


def job_filters(ctx: SynthContext) -> list[DraftFilter]:
    """The filters that apply to this job, each with its own state, in order."""
    return [f for cls in FILTERS if (f := cls.for_job(ctx)) is not None]


def first_reason(filters: list[DraftFilter], texts: list[str], task: Task) -> str | None:
    for active in filters:
        if reason := active.reason(texts, task):
            return reason
    return None
