"""One real llama.cpp engine on the bundled SmolLM2 model for the whole synth test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy.records import read_records

SCRUBBED = Path(__file__).parent / "scrubbed.jsonl"


@pytest.fixture(scope="session")
def model():
    from api.settings import Settings
    from synth.store import ModelStore

    return ModelStore(Settings().models_dir).get()  # pulled by `make setup`


@pytest.fixture(scope="session")
def engine(model):
    from synth.engine import Engine

    engine = Engine(model)
    yield engine
    engine.close()


@pytest.fixture(scope="session")
def records() -> list[dict]:
    return list(read_records(SCRUBBED))


@pytest.fixture
def short():
    """Short, cheap sampling for tests."""
    from synth.engine import Sampling

    return Sampling(max_tokens=40)
