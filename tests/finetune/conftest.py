"""Tiny fine-tuned models, trained once per session and shared by the finetune tests.

Records are short tickets whose middle is eight random words: high-entropy text a model can only
predict by having memorised it, so membership shows clearly when it is there. Two canaries from
the audit stage's canary builder are planted in the training split; their never-planted twins are
the controls. Both models train on exactly the same records with the same settings; only DP differs.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
from contextlib import contextmanager, redirect_stderr, redirect_stdout

import pytest
import torch

from api.settings import Settings

MEMBERS = 22  # regular training records; the two planted canaries make 24
HOLDOUT = 48
CANARIES = 2
CONTROLS = 30
MAX_LENGTH = 128


def tickets(n: int, seed: int) -> list[dict]:
    from faker import Faker

    fake = Faker("en_US")
    fake.seed_instance(seed)
    out = []
    for i in range(n):
        words = " ".join(fake.words(8))
        label = ("billing", "access")[i % 2]
        text = f"<PERSON_1> asks about {words}; call back on <PHONE_NUMBER_1>."
        out.append({"id": f"T{seed}-{i:03d}", "kind": "ticket", "label": label, "text": text})
    return out


@pytest.fixture(scope="session")
def splits():
    """Training records (with planted canaries), holdout records, and the canary set."""
    from audit.canaries import make_canaries

    members = tickets(MEMBERS, seed=1)
    holdout = tickets(HOLDOUT, seed=2)
    canaries = make_canaries(members, seed=3, n=CONTROLS, prefix_words=3, suffix_words=8)
    planted = canaries.inserted[:CANARIES]
    return {"train": members + list(planted), "holdout": holdout, "planted": list(planted),
            "controls": list(canaries.control), "canaries": canaries}


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory):
    """A data directory for the session's models, with the shared base model linked in."""
    root = tmp_path_factory.mktemp("finetune-data")
    models = root / "models"
    models.mkdir()
    for item in Settings().models_dir.iterdir():
        if item.suffix == ".gguf":
            (models / item.name).symlink_to(item)
        elif item.is_file():
            shutil.copy2(item, models / item.name)
    return root


@pytest.fixture(scope="session")
def store(session_dir):
    from synth.store import ModelStore

    return ModelStore(session_dir / "models")


@pytest.fixture(scope="session")
def base(store):
    return store.get()


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """The machine is small and shared: one torch thread keeps timings sane."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# One setting for both models, so that a difference between them is DP's and nothing else's.
SETTINGS = {"epochs": 4, "batch_size": 8, "learning_rate": 1e-2, "lora_r": 4, "max_length": MAX_LENGTH, "seed": 0}


@contextmanager
def watched_entropy_and_output():
    """Every os.urandom draw (the real one, recorded) and everything logged or printed meanwhile."""
    draws: list[bytes] = []
    real = os.urandom

    def recording(n: int) -> bytes:
        value = real(n)
        draws.append(value)
        return value

    handler = logging.StreamHandler(io.StringIO())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    before = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    printed = io.StringIO()
    try:
        with pytest.MonkeyPatch.context() as patch, redirect_stdout(printed), redirect_stderr(printed):
            patch.setattr(os, "urandom", recording)
            yield {"draws": draws, "log": handler.stream, "printed": printed}
    finally:
        root.removeHandler(handler)
        root.setLevel(before)


@pytest.fixture(scope="session")
def dp_run(splits, base, store, session_dir):
    """The DP model at ε=8, trained in two sittings: interrupted after its first step, then resumed
    from the checkpoint. Returns the model, the steps each sitting reported, the checkpoint as it was
    left between the sittings, and every os.urandom draw, log line and print of both sittings."""
    from synth.finetune import FinetuneConfig, finetune

    config = FinetuneConfig(dp=True, epsilon=8.0, checkpoint_dir=session_dir / "finetune" / "dp",
                            checkpoint_every=100, **SETTINGS)
    first: list = []

    def stop_after_first(step):
        first.append(step)
        raise KeyboardInterrupt

    with watched_entropy_and_output() as watched:
        with pytest.raises(KeyboardInterrupt):
            finetune(splits["train"], base, store, config, on_step=stop_after_first, name="tiny-dp")
        checkpoint = config.checkpoint_dir / "checkpoint.pt"
        checkpoint_bytes = checkpoint.read_bytes() if checkpoint.is_file() else None
        second: list = []
        info = finetune(splits["train"], base, store, config, on_step=second.append, name="tiny-dp")
    return {"model": info, "first": first, "second": second, "checkpoint": checkpoint_bytes, "config": config,
            "draws": watched["draws"], "output": watched["log"].getvalue() + watched["printed"].getvalue()}


@pytest.fixture(scope="session")
def overfit_model(splits, session_dir):
    """The non-DP model at the DP model's settings (many steps at a high learning rate: it overfits),
    made through the CLI."""
    from typer.testing import CliRunner

    from api.cli import app
    from privacy.records import write_records

    train = session_dir / "train.jsonl"
    write_records(train, splits["train"])
    result = CliRunner().invoke(
        app,
        ["finetune", str(train), "-o", "tiny-overfit", "--epochs", str(SETTINGS["epochs"]),
         "--batch-size", str(SETTINGS["batch_size"]), "--learning-rate", str(SETTINGS["learning_rate"]),
         "--lora-r", str(SETTINGS["lora_r"]), "--max-length", str(MAX_LENGTH), "--seed", str(SETTINGS["seed"]),
         "--threads", "1"],
        env={"AIRLOCK_DATA_DIR": str(session_dir), "HF_HUB_OFFLINE": "1"},
    )
    assert result.exit_code == 0, result.output
    from synth.store import ModelStore

    return {"model": ModelStore(session_dir / "models").get("tiny-overfit"), "output": result.output}
