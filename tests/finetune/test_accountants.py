"""Both accountants Airlock offers (RDP, Mironov 2017; PRV, Gopi et al. 2021) reproduce Opacus's own
published results for the setting of its test suite (`opacus/tests/accountants_test.py`: sampling
rate 0.04, 90 epochs, δ=1e-5), through Airlock's own planning and spending code; and a target ε that
the data cannot meet is refused, under either, before any training."""

from __future__ import annotations

import pytest

from privacy.errors import PolicyError
from tests.finetune.conftest import tickets

# Opacus 1.6, opacus/tests/accountants_test.py: noise for ε=8 over 90 epochs at rate 0.04, and ε spent
# by 2,250 steps at noise 1.5.
OPACUS_NOISE_FOR_EPSILON_8 = {"rdp": 1.416, "prv": 1.34765625}
OPACUS_EPSILON_AT_NOISE_1_5 = {"rdp": 7.32911117143, "prv": 6.777395712150674}
UNITS, BATCH, EPOCHS = 2500, 100, 90  # sampling rate 100/2500 = 0.04, 2,250 steps


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_noise_calibration_matches_opacus_published_values(accountant):
    from synth.finetune.guarantee import plan_privacy

    plan = plan_privacy(UNITS, epsilon=8.0, delta=1e-5, batch_size=BATCH, epochs=EPOCHS, clip_norm=1.0,
                        accountant=accountant)
    assert plan.sample_rate == pytest.approx(0.04) and plan.steps == 2250
    assert plan.noise_multiplier == pytest.approx(OPACUS_NOISE_FOR_EPSILON_8[accountant], abs=1e-4)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_epsilon_spent_matches_opacus_published_values(accountant):
    from synth.finetune.guarantee import DPTraining, plan_privacy

    plan = plan_privacy(UNITS, epsilon=8.0, delta=1e-5, batch_size=BATCH, epochs=EPOCHS, clip_norm=1.0,
                        accountant=accountant)
    dp = DPTraining(plan)
    assert dp.spent() == 0.0
    state = dp.state_dict()
    state["history"] = [(1.5, 0.04, 2250)]  # what a checkpoint restores: the accountant's history
    dp.load_state_dict(state)
    # RDP is exact; PRV is a numerical bound with Opacus's default error eps_error=0.01.
    tolerance = {"rdp": 1e-6, "prv": 0.01}[accountant]
    assert dp.spent() == pytest.approx(OPACUS_EPSILON_AT_NOISE_1_5[accountant], abs=tolerance)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_an_epsilon_the_data_cannot_meet_is_refused_with_the_records_needed(accountant):
    from synth.finetune.guarantee import plan_privacy

    with pytest.raises(PolicyError, match=r"too few records for ε=0\.3: with 40 records.* use at least (\d+) records") as refused:
        plan_privacy(40, epsilon=0.3, delta=None, batch_size=8, epochs=2, clip_norm=1.0, accountant=accountant)
    needed = int(refused.value.args[0].split("use at least ")[1].split()[0])
    # The estimate is honest: at that size the same settings are accepted, at half of it they are not.
    plan = plan_privacy(needed, epsilon=0.3, delta=None, batch_size=8, epochs=2, clip_norm=1.0, accountant=accountant)
    assert plan.effective_noise <= 0.25
    with pytest.raises(PolicyError):
        plan_privacy(needed // 2, epsilon=0.3, delta=None, batch_size=8, epochs=2, clip_norm=1.0, accountant=accountant)


@pytest.mark.parametrize("accountant", ["rdp", "prv"])
def test_an_unreachable_epsilon_is_refused_before_training(data_dir, accountant):
    from api.settings import Settings
    from synth.finetune import FinetuneConfig, finetune
    from synth.store import ModelStore

    store = ModelStore(Settings().models_dir)
    with pytest.raises(PolicyError, match=r"too few records for ε=0\.01"):
        finetune(tickets(30, 1), store.get(), store, FinetuneConfig(dp=True, epsilon=0.01, accountant=accountant),
                 name="refused")
    assert "refused" not in {m.name for m in store.list()}
