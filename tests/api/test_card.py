"""The dataset card states a DP guarantee with its scope: ε bounds the fine-tuning, not the steps
after it that read the real records (selection filters, the audit whose pass released the data)."""

from __future__ import annotations

from api.card import dataset_card
from api.policy import load_policy


def _card(finetune: dict | None) -> str:
    state = {"model": {"name": "m", "sha256": "0" * 64}}
    if finetune is not None:
        state |= {"models": {"finetuned": "m", "base": "b"}, "finetune": finetune}
    checkpoint = {"counts": {"synthetic": 10, "records": 40, "train": 30, "holdout": 10}, "timings": {},
                  "state": state}
    report = {"checks": [], "report_id": "r", "created_at": "now"}
    return dataset_card("run", load_policy(), checkpoint, report)


def test_a_dp_model_s_card_says_what_epsilon_does_not_cover():
    card = _card({"differential_privacy": True, "epsilon": 8.0,
                  "guarantee": "trained with differential privacy, ε=8, δ=1e-05"})
    assert "trained with differential privacy, ε=8" in card
    assert "What ε covers: the fine-tuning only" in card and "ε does not bound what those steps reveal" in card


def test_no_scope_line_without_a_dp_guarantee():
    for finetune in (None, {"differential_privacy": False, "guarantee": "fine-tuned WITHOUT differential privacy"}):
        assert "What ε covers" not in _card(finetune)


def test_records_training_cut_short_are_counted_on_the_card():
    cut = _card({"differential_privacy": False, "guarantee": "fine-tuned WITHOUT differential privacy",
                 "records_cut": 3, "max_length": 512})
    assert "3 training records were longer than 512 tokens; the model learned their start only." in cut
    assert "learned their start only" not in _card({"differential_privacy": False, "guarantee": "g", "records_cut": 0})


def test_candidates_written_per_record_are_stated_beside_the_rejections():
    state = {"model": {"name": "m", "sha256": "0" * 64},
             "generation": {"delivered": 10, "requested": 10, "attempts": 43, "rejection_rate": 0.07,
                            "rejected": {"copies_source": 3},
                            "candidates": {"per_record": 4, "written": 40, "relabelled": 5}}}
    checkpoint = {"counts": {"synthetic": 10, "records": 40, "train": 30, "holdout": 10}, "timings": {}, "state": state}
    card = dataset_card("run", load_policy(), checkpoint, {"checks": []})
    assert "10 of 10 requested records in 43 attempts; 7% of attempts rejected (copies_source 3)." in card
    assert "4 candidates written per record (40 in all, 5 under the label the label-consistency" in card
    del state["generation"]["candidates"]
    assert "candidates written" not in dataset_card("run", load_policy(), checkpoint, {"checks": []})


def test_the_html_report_counts_the_candidates_too():
    from audit.html import render

    generation = {"mode": "classify", "model": "m", "requested": 10, "delivered": 10, "attempts": 43,
                  "attempt_budget": 120, "rejection_rate": 0.07, "rejected": {}, "repaired": {},
                  "candidates": {"per_record": 4, "written": 40, "relabelled": 5}}
    report = {"verdict": "pass", "reasons": [], "report_id": "r", "created_at": "now", "schema": "s",
              "schema_version": 1, "policy": {}, "checks": [], "generation": generation,
              "inputs": {split: {"records": 1, "sha256": "0" * 64} for split in ("synthetic", "train", "holdout")}}
    assert "Candidates per record</td><td>4 (40 written, 5 relabelled by the label judge;" in render(report)
    assert "Candidates per record" not in render({**report, "generation": {**generation, "candidates": None}})


def test_a_fine_tuned_model_s_adapter_is_named_by_its_hash():
    """The model file of a fine-tuned model is its base's weights (shared by every model tuned from it):
    the adapter's hash is what identifies the model that wrote the records."""
    state = {"model": {"name": "m", "sha256": "0" * 64, "adapter_sha256": "a" * 64}}
    checkpoint = {"counts": {"synthetic": 10, "records": 40, "train": 30, "holdout": 10}, "timings": {}, "state": state}
    card = dataset_card("run", load_policy(), checkpoint, {"checks": []})
    assert f"Model: `m`, SHA-256 `{'0' * 64}` with its LoRA adapter, SHA-256 `{'a' * 64}`." in card
    del state["model"]["adapter_sha256"]
    assert "LoRA adapter" not in dataset_card("run", load_policy(), checkpoint, {"checks": []})
