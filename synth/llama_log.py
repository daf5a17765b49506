"""llama.cpp's log lines, routed to Python logging at their true levels.

llama-cpp-python 0.3.36 installs a log callback that reads llama.cpp's levels in an old numbering
(its `_logger.py`: 2 → warning, 3 → error, 4 → debug) while the ggml it vendors numbers them
DEBUG 1, INFO 2, WARN 3, ERROR 4, CONT 5. With `verbose=False` that prints llama.cpp's warnings
on stderr (`n_ctx_seq (512) > n_ctx_train (0)` on every vocabulary-only load, `using full-size SWA
cache` on every Gemma 3 load) and hides its errors (`failed to load model`, `failed to decode`).

`binding()` imports the binding and, once per process, replaces that callback: each whole line
goes to the `llama_cpp` logger — errors at ERROR (the CLI and the service write them as JSON log
lines), warnings at INFO (they are about sizes and cache layouts Airlock chose, nothing a user can
act on), the rest at DEBUG. Every loader imports the binding through it.
"""

from __future__ import annotations

import ctypes
import logging
import threading
from types import ModuleType

LOGGER = logging.getLogger("llama_cpp")
# ggml_log_level (ggml.h of the vendored llama.cpp) → Python logging level; 5 (CONT) continues a line.
LEVELS = {0: logging.DEBUG, 1: logging.DEBUG, 2: logging.DEBUG, 3: logging.INFO, 4: logging.ERROR}
CONTINUE = 5

_lock = threading.Lock()
_state = {"callback": None, "level": logging.DEBUG, "pending": ""}


def binding() -> ModuleType:
    """The `llama_cpp` module, with llama.cpp's log routed to Python logging."""
    import llama_cpp

    with _lock:
        if _state["callback"] is None:
            # Kept in _state: llama.cpp holds only a raw pointer to the ctypes callback.
            _state["callback"] = llama_cpp.llama_log_callback(_on_log)
            llama_cpp.llama_log_set(_state["callback"], ctypes.c_void_p(0))
    return llama_cpp


def _on_log(level: int, text: bytes, _user_data) -> None:
    """llama.cpp calls this with fragments; a line is logged once its newline (or another message) arrives."""
    lines = []
    with _lock:
        if level != CONTINUE:
            lines.append((_state["level"], _state["pending"]))  # a message left without its newline
            _state["level"], _state["pending"] = LEVELS.get(level, logging.DEBUG), ""
        *whole, _state["pending"] = (_state["pending"] + text.decode("utf-8", errors="replace")).split("\n")
        lines += [(_state["level"], line) for line in whole]
    for line_level, line in lines:
        if line.strip():
            LOGGER.log(line_level, "llama.cpp: %s", line.strip())
