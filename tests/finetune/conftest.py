"""Tiny fine-tuned models, trained once per session and shared by the finetune tests.

Records are short tickets whose middle is eight random words: high-entropy text a model can only
predict by having memorised it, so membership shows clearly when it is there. Two canaries from
the audit stage's canary builder are planted in the training split; their never-planted twins are
the controls. Both models train on exactly the same records.
"""

from __future__ import annotations

import shutil

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


@pytest.fixture(scope="session")
def dp_run(splits, base, store, session_dir):
    """The DP model at ε=8, trained in two sittings: interrupted after its first step, then
    resumed from the checkpoint. Returns the model and the steps each sitting reported."""
    from synth.finetune import FinetuneConfig, finetune

    config = FinetuneConfig(
        dp=True, epsilon=8.0, epochs=1, batch_size=8, lora_r=4, max_length=MAX_LENGTH, seed=0,
        checkpoint_dir=session_dir / "finetune" / "dp", checkpoint_every=100,
    )
    first: list = []

    def stop_after_first(step):
        first.append(step)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        finetune(splits["train"], base, store, config, on_step=stop_after_first, name="tiny-dp")
    checkpoint_left = (config.checkpoint_dir / "checkpoint.pt").is_file()
    second: list = []
    info = finetune(splits["train"], base, store, config, on_step=second.append, name="tiny-dp")
    return {"model": info, "first": first, "second": second, "checkpoint_left": checkpoint_left, "config": config}


@pytest.fixture(scope="session")
def overfit_model(splits, session_dir):
    """A deliberately overfit non-DP model (many steps at a high learning rate), made through the CLI."""
    from typer.testing import CliRunner

    from api.cli import app
    from privacy.records import write_records

    train = session_dir / "train.jsonl"
    write_records(train, splits["train"])
    result = CliRunner().invoke(
        app,
        ["finetune", str(train), "-o", "tiny-overfit", "--epochs", "4", "--batch-size", "8",
         "--learning-rate", "1e-2", "--lora-r", "4", "--max-length", str(MAX_LENGTH), "--threads", "1"],
        env={"AIRLOCK_DATA_DIR": str(session_dir), "HF_HUB_OFFLINE": "1"},
    )
    assert result.exit_code == 0, result.output
    from synth.store import ModelStore

    return {"model": ModelStore(session_dir / "models").get("tiny-overfit"), "output": result.output}
