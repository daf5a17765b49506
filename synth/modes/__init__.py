"""Synthesis modes, one module each; a module defines `MODE` and is found here by its file.

A mode plans one task per output record (`plan`), turns a task into a draft record by calling
the model (`produce`), and fills placeholders in the accepted draft (`finish`). Filtering,
retries, seeds and provenance are the same for every mode and live in synth/generate.py.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from privacy.errors import BadInput
from synth.engine import Completion
from synth.errors import Reject  # noqa: F401 - modes raise it as synth.modes.Reject
from synth.templates import template_version

if TYPE_CHECKING:
    from synth.fill import Filler
    from synth.generate import SynthContext


@dataclass
class Task:
    slot: int
    conditions: dict
    sources: list[int]  # indices of the input records the prompt shows
    data: dict = field(default_factory=dict)


@dataclass
class Draft:
    body: dict  # the record's generated fields, placeholders not yet filled
    texts: list[str]  # the free texts in it, for the quality filters
    # placeholder → the invented value repair replaced by it, where its surrogate takes that value's
    # shape (dates: synth/repair.py); kept in memory for the fill, never stored
    shapes: dict[str, str] = field(default_factory=dict)


Generate = Callable[..., Completion]  # (messages or prompt, schema=None, stop=None) -> Completion


class Mode:
    name: str = ""
    templates: tuple[str, ...] = ()
    default_label_target: str = "as-is"
    structured_output: bool = True  # False: the mode writes free text only, --schema does not apply
    # True: each record is written anew for its conditions, so a fine-tuned model's candidates may be
    # chosen among (synth/select.py); False: a record answers its source record (paraphrase, dialog, …).
    selects_candidates: bool = False

    def plan(self, ctx: SynthContext) -> list[Task]:
        raise NotImplementedError

    def produce(self, task: Task, ctx: SynthContext, generate: Generate) -> Draft:
        raise NotImplementedError

    def finish(self, draft: Draft, filler: Filler) -> dict:
        return filler.fill_all(draft.body)

    @property
    def template_version(self) -> str:
        return "+".join(template_version(t) for t in self.templates)


def _discover() -> dict[str, Mode]:
    found = {}
    for info in pkgutil.iter_modules(__path__):  # a module that defines MODE is a mode; `common` is shared code
        mode = getattr(importlib.import_module(f"{__name__}.{info.name}"), "MODE", None)
        if mode is not None:
            found[mode.name] = mode
    return found


MODES: dict[str, Mode] = _discover()


def get_mode(name: str) -> Mode:
    if name not in MODES:
        raise BadInput(f"unknown synthesis mode {name!r} (choose from {', '.join(sorted(MODES))})")
    return MODES[name]
