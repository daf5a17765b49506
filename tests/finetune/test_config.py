"""Which projections a LoRA adapter sits on is a setting; a name that is not one is refused before any
training (tests/finetune/test_validation.py trains an adapter on one projection)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.policy import Policy
from synth.finetune import FinetuneConfig
from synth.finetune.config import LORA_MODULES


def test_the_adapter_sits_on_every_projection_unless_the_policy_names_some():
    assert FinetuneConfig().targets == LORA_MODULES == FinetuneConfig(dp=True).targets
    policy = Policy.model_validate({"finetune": {"lora_targets": ["q_proj", "v_proj"]}})
    assert policy.finetune.targets == ("q_proj", "v_proj")


def test_an_unknown_or_empty_lora_target_list_is_refused():
    with pytest.raises(ValidationError, match="lora_targets"):
        FinetuneConfig(lora_targets=["attn_qkv"])
    with pytest.raises(ValidationError, match="lora_targets"):
        FinetuneConfig(lora_targets=[])


def test_training_sees_whole_records_up_to_512_tokens_and_the_first_128_under_dp():
    assert FinetuneConfig().length_cap == 512 and FinetuneConfig(dp=True).length_cap == 128
    # `airlock run --dp` turns DP on over the policy's settings: the cap follows it.
    assert Policy().finetune.model_copy(update={"dp": True}).length_cap == 128
    assert FinetuneConfig(dp=True, max_length=300).length_cap == 300 == FinetuneConfig(max_length=300).length_cap
    with pytest.raises(ValidationError, match="max_length"):
        FinetuneConfig(max_length=8)
