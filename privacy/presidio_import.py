"""Importing Presidio without the engines Airlock does not use (a module of its own: the analyzer,
the recognizers, the operators and the worker side of scrubbing all import Presidio through it)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

# Presidio and thinc import these whenever they are installed, only to offer engines Airlock does
# not use; importing them costs ~10 s of start-up, most of it torch.
UNUSED_BY_PRESIDIO = ("transformers", "torch")


@contextmanager
def presidio_without_torch() -> Iterator[None]:
    """Import Presidio inside this block so it skips transformers and torch.

    Only modules not yet imported are hidden, and only for the block: later `import torch`
    (fine-tuning) works as usual.
    """
    hidden = [name for name in UNUSED_BY_PRESIDIO if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # makes `import name` raise ImportError, which both catch
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
