"""Progress callbacks for long work: a rich progress bar on a terminal, silence elsewhere.

The bar redraws from the callback, not from rich's refresh thread: a process with a second thread
could not fork its detection workers (privacy.detections.pool_context) and would spawn slower ones."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

REDRAW_SECONDS = 0.1

# Stages call progress(done, total); total is None when unknown (a stream).
ProgressFn = Callable[[int, int | None], None]


@contextmanager
def cli_progress(description: str, enabled: bool | None = None) -> Iterator[ProgressFn]:
    """Yield a callback that draws a bar on stderr when it is a terminal."""
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda done, total: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True, auto_refresh=False) as bar:
        task = bar.add_task(description, total=None)
        drawn = [0.0]

        def update(done: int, total: int | None) -> None:
            now = time.monotonic()
            redraw = now - drawn[0] >= REDRAW_SECONDS or done == total
            if redraw:
                drawn[0] = now
            bar.update(task, completed=done, total=total, refresh=redraw)

        yield update
