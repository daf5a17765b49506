"""Configurations that would break the privacy guarantee, or could not end in a usable model, are
refused before any training, with a message that says what to change and no model registered."""

from __future__ import annotations

import dataclasses

import pytest

from privacy.errors import BadInput, ModelError, PolicyError
from tests.finetune.conftest import tickets


@pytest.fixture
def setup(data_dir):
    from api.settings import Settings
    from synth.store import ModelStore

    store = ModelStore(Settings().models_dir)
    return store, store.get()


def _finetune(records, setup, **settings):
    from synth.finetune import FinetuneConfig, finetune

    store, base = setup
    return finetune(records, base, store, FinetuneConfig(**settings), name="refused")


def _assert_nothing_registered(setup):
    store, _ = setup
    assert "refused" not in {m.name for m in store.list()}
    assert not list(store.root.glob("refused*"))


def test_delta_not_below_one_over_n_is_refused(setup):
    with pytest.raises(PolicyError, match=r"δ=0\.05 is not below 1/n = 0\.0333 .* use --delta below"):
        _finetune(tickets(30, 1), setup, dp=True, delta=0.05)
    _assert_nothing_registered(setup)


def test_too_few_records_for_epsilon_is_refused_with_the_records_needed(setup):
    with pytest.raises(PolicyError, match=r"too few records for ε=0\.5: with 12 records.* use at least \d+ records"):
        _finetune(tickets(12, 1), setup, dp=True, epsilon=0.5)
    _assert_nothing_registered(setup)


def test_records_of_one_person_must_be_declared(setup):
    records = [{**r, "patient_id": f"P{i % 10}"} for i, r in enumerate(tickets(30, 1))]
    with pytest.raises(PolicyError, match=r"records 1 and 11 share the value of field 'patient_id'.*--privacy-unit patient_id"):
        _finetune(records, setup, dp=True)
    _assert_nothing_registered(setup)


def test_declared_person_field_counts_each_person_once():
    from synth.finetune.guarantee import privacy_units

    records = [{**r, "patient_id": f"P{i % 10}"} for i, r in enumerate(tickets(30, 1))]
    keep, unit = privacy_units(records, "patient_id", "id", seed=0)
    assert len(keep) == 10
    assert sorted(records[i]["patient_id"] for i in keep) == sorted(f"P{i}" for i in range(10))
    assert "one person" in unit
    # Placeholders are numbered per record: equal ones are no evidence of one person.
    scrubbed = [{**r, "email": "<EMAIL_ADDRESS_1>"} for r in tickets(30, 1)]
    assert len(privacy_units(scrubbed, None, "id", seed=0)[0]) == 30


def test_noise_is_calibrated_to_the_target_epsilon():
    from opacus.accountants import RDPAccountant

    from synth.finetune.guarantee import plan_privacy

    plan = plan_privacy(1000, epsilon=8.0, delta=None, batch_size=16, epochs=2, clip_norm=1.0, accountant="rdp")
    assert plan.delta == pytest.approx(1000**-1.1) and plan.steps == 2 * 63
    spent = RDPAccountant()
    spent.history = [(plan.noise_multiplier, plan.sample_rate, plan.steps)]
    assert 7.8 < spent.get_epsilon(plan.delta) <= 8.0
    assert 0.3 < plan.noise_multiplier < 1.0


def test_base_model_that_cannot_be_exported_is_refused_before_training(setup):
    store, base = setup
    mamba = dataclasses.replace(base, name="some-mamba", architecture="mamba")
    with pytest.raises(ModelError, match="architecture 'mamba'.*cannot export back to GGUF.*supported: llama, gemma3"):
        _finetune(tickets(30, 1), (store, mamba), dp=True)
    _assert_nothing_registered(setup)


def test_a_fine_tuned_model_is_refused_as_a_base(setup, tmp_path):
    """Its file alone is the base without the adapter: training on it would silently drop what it learned."""
    store, base = setup
    tuned = dataclasses.replace(base, name="some-ft", adapter=tmp_path / "some-ft.lora.gguf",
                                provenance={"base_model": base.name})
    with pytest.raises(ModelError, match=f"'some-ft' is itself fine-tuned .* fine-tune its base model '{base.name}'"):
        _finetune(tickets(30, 1), (store, tuned), dp=True)
    _assert_nothing_registered(setup)


def test_unscrubbed_input_and_taken_names_are_refused(setup):
    from synth.finetune import FinetuneConfig, finetune

    raw = [{"id": str(i), "text": f"Mail jane.doe{i}@gmail.com about the broken router please"} for i in range(30)]
    with pytest.raises(BadInput, match="does not look scrubbed"):
        _finetune(raw, setup)
    store, base = setup
    with pytest.raises(BadInput, match="already exists"):
        finetune(tickets(30, 1), base, store, FinetuneConfig(), name=base.name)


def test_request_longer_than_max_length_is_refused(setup):
    with pytest.raises(BadInput, match=r"record 1: the request alone takes \d+ tokens; raise --max-length"):
        _finetune(tickets(30, 1), setup, max_length=32)
    _assert_nothing_registered(setup)


def test_cli_refusal_is_one_line_and_exit_2(data_dir, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app
    from privacy.records import write_records

    train = tmp_path / "train.jsonl"
    write_records(train, tickets(30, 1))
    result = CliRunner().invoke(app, ["finetune", str(train), "-o", "refused", "--dp", "--delta", "0.5"])
    assert result.exit_code == 2
    assert result.output.strip().startswith("error: δ=0.5 is not below 1/n")
    assert "Traceback" not in result.output


def test_cli_unknown_lora_target_is_one_line_and_exit_2(data_dir, tmp_path):
    from typer.testing import CliRunner

    from api.cli import app
    from privacy.records import write_records

    train = tmp_path / "train.jsonl"
    write_records(train, tickets(30, 1))
    result = CliRunner().invoke(app, ["finetune", str(train), "-o", "refused", "--lora-targets", "q_proj,attn"])
    assert result.exit_code == 2
    assert result.output.strip() == ("error: --lora-targets: attn; choose from q_proj, k_proj, v_proj, o_proj, "
                                     "gate_proj, up_proj, down_proj")


def test_cli_lora_targets_reach_the_adapter(data_dir, tmp_path):
    """The projections named on the command line (spaces allowed) are the ones a real run trains; records
    longer than --max-length (a 91-token request and a 30-token ticket, here cut at 110) are counted and named."""
    from typer.testing import CliRunner

    from api.cli import app
    from api.settings import Settings
    from privacy.records import write_records
    from synth.store import ModelStore

    train = tmp_path / "train.jsonl"
    write_records(train, tickets(8, 1))
    result = CliRunner().invoke(app, ["finetune", str(train), "-o", "v-only", "--lora-targets", " v_proj , q_proj",
                                      "--epochs", "1", "--lora-r", "2", "--threads", "1", "--max-length", "110"])
    assert result.exit_code == 0, result.output
    provenance = ModelStore(Settings().models_dir).get("v-only").provenance
    assert provenance["lora_targets"] == ["v_proj", "q_proj"]
    assert provenance["records_cut"] == 8 and provenance["max_length"] == 110
    assert "8 of 8 records were longer than --max-length 110 tokens" in result.output


def test_an_export_that_cannot_score_the_next_token_is_refused(setup, tmp_path):
    import shutil

    import gguf

    from synth.finetune.export import check_generates

    _, base = setup
    check_generates(base.path)  # the base model answers
    broken = tmp_path / "flat.gguf"
    shutil.copyfile(base.path, broken)
    reader = gguf.GGUFReader(str(broken), "r+")
    next(t for t in reader.tensors if t.name == "output_norm.weight").data[:] = 0  # every logit becomes 0
    del reader
    with pytest.raises(ModelError, match="generates nothing"):
        check_generates(broken)
