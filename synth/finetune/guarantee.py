"""The privacy guarantee of a fine-tuning run. All differential-privacy accounting lives here.

DP-SGD (Abadi et al., CCS 2016) through Opacus: Poisson sampling of each batch, per-example
gradient clipping, Gaussian noise whose multiplier is calibrated so that the whole run spends at
most the target (ε, δ) under a recognised accountant (RDP, Mironov 2017; or PRV, Gopi et al.
2021). One privacy unit is one training sequence; records of one person are reduced to one unit
first. Configurations that would make the stated guarantee false or empty are refused here, with
what to change.
"""

from __future__ import annotations

import math
import os
import random
import re
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from privacy.errors import BadInput, PolicyError
from privacy.placeholders import PLACEHOLDER

DELTA_EXPONENT = 1.1  # default δ = 1/n^1.1, strictly below 1/n
# Std of the noise on the averaged clipped gradient, in clip norms (σ / expected batch). Above
# this, the noise drowns what the records could teach: the run is refused as too small.
MAX_EFFECTIVE_NOISE = 0.25
# For estimates only (the refusal message): integer RDP orders are ~50× faster and a bit looser.
_COARSE = {"rdp": {"epsilon_tolerance": 0.1, "alphas": list(range(2, 64))}, "prv": {"epsilon_tolerance": 0.1}}
RECORD_UNIT = "record"  # privacy_unit value saying "every record is about a different person"
_PERSON_FIELD = re.compile(
    r"^(person|patient|subject|customer|client|user|member|account|employee|student|owner|author|"
    r"individual|contact|email|e_mail|phone|ssn|mrn)([_\- ]?(id|number|no|key|ref|address))?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PrivacyPlan:
    """The run's DP parameters, fixed before the first step."""

    epsilon: float
    delta: float
    accountant: str
    noise_multiplier: float
    sample_rate: float
    clip_norm: float
    epochs: int
    steps: int
    units: int

    @property
    def effective_noise(self) -> float:
        return self.noise_multiplier / (self.sample_rate * self.units)


def steps_per_epoch(units: int, batch_size: int) -> int:
    """Opacus samples each unit with rate 1/len(loader) = 1/ceil(n/batch); one epoch is that many steps."""
    return math.ceil(units / batch_size)


def plan_privacy(
    units: int,
    *,
    epsilon: float,
    delta: float | None,
    batch_size: int,
    epochs: int,
    clip_norm: float,
    accountant: str,
) -> PrivacyPlan:
    """Calibrate the noise multiplier for (ε, δ), or refuse a configuration that breaks the guarantee."""
    if units < 2:
        raise PolicyError(f"differential privacy needs at least 2 records; got {units}")
    delta = default_delta(units) if delta is None else delta
    if delta >= 1 / units:
        raise PolicyError(
            f"δ={delta:.3g} is not below 1/n = {1 / units:.3g} for n={units} records: such a δ allows "
            f"releasing a whole record outright; use --delta below {1 / units:.3g} "
            f"(the default 1/n^{DELTA_EXPONENT} = {default_delta(units):.3g})"
        )
    plan = _calibrate(units, epsilon, delta, batch_size, epochs, clip_norm, accountant)
    if plan is None or plan.effective_noise > MAX_EFFECTIVE_NOISE:
        needed = _records_needed(epsilon, batch_size, epochs, clip_norm, accountant)
        noise = "cannot be reached" if plan is None else f"needs noise {plan.effective_noise:.2f}× the clip norm"
        raise PolicyError(
            f"too few records for ε={epsilon:g}: with {units} records, batch {batch_size} and {epochs} "
            f"epoch(s) the guarantee {noise} on every averaged gradient (limit {MAX_EFFECTIVE_NOISE}), "
            f"so the model would learn nothing; use at least {needed} records, a larger --epsilon, "
            "or a larger --batch-size"
        )
    return plan


def default_delta(units: int) -> float:
    return 1 / units**DELTA_EXPONENT


def _calibrate(units, epsilon, delta, batch_size, epochs, clip_norm, accountant, coarse=False) -> PrivacyPlan | None:
    from opacus.accountants.utils import get_noise_multiplier

    per_epoch = steps_per_epoch(units, batch_size)
    steps = epochs * per_epoch
    try:
        with _quiet_accountant():
            sigma = get_noise_multiplier(
                target_epsilon=epsilon, target_delta=delta, sample_rate=1 / per_epoch, steps=steps,
                accountant=accountant, **(_COARSE.get(accountant, {}) if coarse else {}),
            )
    except ValueError:  # "the privacy budget is too low"
        return None
    return PrivacyPlan(epsilon, delta, accountant, sigma, 1 / per_epoch, clip_norm, epochs, steps, units)


def _records_needed(epsilon, batch_size, epochs, clip_norm, accountant) -> int:
    """Smallest dataset (to ~5%) for which the same settings pass the noise limit: an estimate for
    the refusal message, so the noise search is coarse."""

    def enough(n: int) -> bool:
        plan = _calibrate(n, epsilon, default_delta(n), batch_size, epochs, clip_norm, accountant, coarse=True)
        return plan is not None and plan.effective_noise <= MAX_EFFECTIVE_NOISE

    high = max(2 * batch_size, 16)
    while not enough(high):
        high *= 2
        if high > 1e8:
            return high
    low = high // 2
    while high - low > max(1, high // 20):
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def privacy_units(records: list[dict], unit_field: str | None, id_field: str, seed: int) -> tuple[list[int], str]:
    """Indices of the records to train on — one per person — and the privacy unit in words.

    DP-SGD protects each training sequence. If several records describe one person, that person
    is protected only as much as all their records together, so a field that names people and
    repeats must be declared: its records then count once (one of them, drawn by seed, is kept).
    """
    if unit_field is None:
        for name in _person_fields(records, id_field):
            first, repeat = _first_repeat(records, name)
            if repeat is not None:
                raise PolicyError(
                    f"records {first} and {repeat} share the value of field {name!r}: if it names the "
                    f"person a record is about, pass --privacy-unit {name} so that each person counts once; "
                    f"if every record is about a different person, pass --privacy-unit {RECORD_UNIT}"
                )
        return list(range(len(records))), "one record"
    if unit_field == RECORD_UNIT:
        return list(range(len(records))), "one record"
    groups: dict[str, list[int]] = {}
    for index, record in enumerate(records):
        value = record.get(unit_field)
        if value is None:
            raise BadInput(f"record {index + 1}: privacy unit field {unit_field!r} is missing")
        groups.setdefault(repr(value), []).append(index)
    rng = random.Random(seed)
    keep = sorted(rng.choice(members) for members in groups.values())
    return keep, f"one person (field {unit_field!r}; one record per person)"


def _person_fields(records: list[dict], id_field: str) -> list[str]:
    names = dict.fromkeys(k for r in records for k in r)
    return [n for n in names if n != id_field and not n.startswith("_") and _PERSON_FIELD.match(n)]


def _first_repeat(records: list[dict], name: str) -> tuple[int | None, int | None]:
    seen: dict[str, int] = {}
    for number, record in enumerate(records, 1):
        value = record.get(name)
        if value is None or (isinstance(value, str) and PLACEHOLDER.fullmatch(value.strip())):
            continue  # placeholders are numbered per record: equal ones say nothing about people
        key = repr(value)
        if key in seen:
            return seen[key], number
        seen[key] = number
    return None, None


@contextmanager
def _quiet_accountant():
    """RDP warns that its largest order was optimal at large ε; the bound is still valid (just not tightest)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Optimal order is the largest alpha")
        yield


def secure_generator():
    """A torch generator seeded with 64 bits from the operating system's CSPRNG (os.urandom).

    Opacus's own secure mode needs torchcsprng, which has no build for this torch; this gives its
    noise and Poisson sampling an unpredictable source instead. The seed is never returned, stored,
    logged or checkpointed, and `reseed` draws a fresh one every step, so no generator state outlives
    a step (Abadi et al.'s guarantee assumes noise nobody can regenerate)."""
    import torch

    generator = torch.Generator()
    reseed(generator)
    return generator


def reseed(generator) -> None:
    generator.manual_seed(int.from_bytes(os.urandom(8), "little"))


class DPTraining:
    """Opacus attached to an ordinary model, optimizer and data loader — the one call that makes a
    training run differentially private — plus the accountant that records what was spent.

    Noise and Poisson sampling come from `secure_generator`, and the noise is drawn the way Opacus's
    secure mode draws it (robust to floating-point attacks, Holohan et al. 2021). `seeded_noise` is for
    tests only: the same seed gives the same noise, so the run is NOT differentially private and its
    provenance says so."""

    def __init__(self, plan: PrivacyPlan, seeded_noise: int | None = None):
        from opacus import PrivacyEngine

        self.plan = plan
        self.seeded = seeded_noise is not None
        with warnings.catch_warnings():  # turned off only to plug in our own secure generator below
            warnings.filterwarnings("ignore", message="Secure RNG turned off")
            self.engine = PrivacyEngine(accountant=plan.accountant)
        if self.seeded:
            import torch

            self.generator = torch.Generator().manual_seed(seeded_noise)
        else:
            # Opacus's secure mode, with our generator in place of torchcsprng's: it draws noise with
            # the floating-point-safe sum and samples batches from this generator.
            self.generator = secure_generator()
            self.engine.secure_mode, self.engine.secure_rng = True, self.generator

    def make_private(self, model, optimizer, loader):
        if not math.isclose(1 / len(loader), self.plan.sample_rate):
            raise ValueError("the data loader's sampling rate differs from the privacy plan")
        return self.engine.make_private(
            module=model,
            optimizer=optimizer,
            data_loader=loader,
            noise_multiplier=self.plan.noise_multiplier,
            max_grad_norm=self.plan.clip_norm,
            poisson_sampling=True,
            noise_generator=self.generator if self.seeded else None,
        )

    def step_done(self) -> None:
        """A fresh secret seed for the next step's sampling and noise."""
        if not self.seeded:
            reseed(self.generator)

    @staticmethod
    def noise_only(parameters) -> None:
        """An empty Poisson batch still takes its step: zero per-example gradients plus noise."""
        import torch

        for p in parameters:
            p.grad_sample = torch.zeros((0, *p.shape), dtype=p.dtype)

    def spent(self) -> float:
        """ε spent so far at the plan's δ."""
        if not self.engine.accountant.history:
            return 0.0
        with _quiet_accountant():
            return float(self.engine.accountant.get_epsilon(delta=self.plan.delta))

    def state_dict(self) -> dict:
        return dict(self.engine.accountant.state_dict())

    def load_state_dict(self, state: dict) -> None:
        self.engine.accountant.load_state_dict(state)


SECURE_NOISE = "os.urandom-seeded generator, reseeded every step, never stored; Opacus secure-mode noise"
SEEDED_NOISE = "seeded PRNG (reproducible test mode): NOT differentially private"


def provenance(
    plan: PrivacyPlan | None, unit: str, epsilon_spent: float | None, steps: int, epochs: int,
    seeded_noise: bool = False,
) -> dict:
    """What a model's record says about its privacy; `guarantee` states it in plain words. A run with
    seeded (reproducible) noise is recorded as DP-SGD but not differentially private: whoever knows
    the seed can regenerate its noise and subtract it."""
    if plan is None:
        record = {"differential_privacy": False, "epochs": epochs, "steps": steps}
    else:
        record = {
            "differential_privacy": not seeded_noise,
            "dp_sgd": True,
            **asdict(plan),
            "epsilon_spent": round(epsilon_spent, 4) if epsilon_spent is not None else None,
            "steps": steps,
            "privacy_unit": unit,
            "mechanism": "DP-SGD (Opacus): Poisson sampling, per-example clipping, Gaussian noise",
            "noise_source": SEEDED_NOISE if seeded_noise else SECURE_NOISE,
        }
    record["guarantee"] = describe_guarantee(record)
    return record


def describe_guarantee(record: dict) -> str:
    """The guarantee of a model, from its provenance, in words a compliance officer can read."""
    if record.get("dp_sgd") and not record.get("differential_privacy"):
        return (
            "fine-tuned with DP-SGD using REPRODUCIBLE, SEEDED noise (a test mode), so NOT differentially "
            "private: anyone who knows the seed can regenerate the noise and remove it, and there is no "
            "formal limit on what the model may have memorised from its training records"
        )
    if not record.get("differential_privacy"):
        return (
            "fine-tuned WITHOUT differential privacy: there is no formal limit on what the model "
            "may have memorised from its training records"
        )
    spent = record.get("epsilon_spent")
    spent_words = f" (ε actually spent: {spent:g})" if spent is not None else ""
    return (
        f"trained with differential privacy, ε={record['epsilon']:g}, δ={record['delta']:.2g}{spent_words}, "
        f"{record['accountant'].upper()} accountant, noise multiplier {record['noise_multiplier']:.3g}, "
        f"clip norm {record['clip_norm']:g}, {record['steps']} steps at sampling rate {record['sample_rate']:.3g}: "
        f"adding or removing {record.get('privacy_unit', 'one record')} changes the probability of any "
        f"outcome of training by at most a factor e^{record['epsilon']:g}, except with probability "
        f"{record['delta']:.2g}"
    )
