"""llama.cpp's log lines reach Python logging at their true levels: warnings stay off the terminal,
errors are no longer hidden (synth/llama_log.py)."""

from __future__ import annotations

import logging
from dataclasses import replace

import pytest

from privacy.errors import ModelError
from synth.engine import Engine
from synth.finetune.data import Tokenizer


def _lines(caplog, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "llama_cpp" and r.levelno == level]


def test_a_vocabulary_load_warns_in_the_log_not_on_the_terminal(model, capfd, caplog):
    """Fine-tuning's vocabulary-only load made llama.cpp warn `n_ctx_seq (512) > n_ctx_train (0)`;
    llama-cpp-python's own callback printed it on stderr in the middle of `airlock finetune`."""
    caplog.set_level(logging.DEBUG, logger="llama_cpp")
    tokenizer = Tokenizer(model.path)
    assert tokenizer.tokenize("hello world")
    tokenizer.close()
    engine = Engine(model)
    engine.close()
    assert "llama" not in capfd.readouterr().err
    assert any("n_ctx_train" in line for line in _lines(caplog, logging.INFO))


def test_an_engine_error_reaches_the_log(model, tmp_path, caplog):
    """llama.cpp's errors (level 4 in its ggml.h) were read as debug lines and dropped."""
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(model.path.read_bytes()[:100_000])
    caplog.set_level(logging.DEBUG, logger="llama_cpp")
    with pytest.raises(ModelError, match="could not load broken.gguf"):
        Engine(replace(model, name="broken", path=broken))
    assert any("failed to load model" in line for line in _lines(caplog, logging.ERROR))
