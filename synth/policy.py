"""The synth section of the policy file: default mode, size, model, sampling and runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

from synth.engine import FINETUNED_MIN_P, RuntimeSettings, Sampling
from synth.select import FINETUNED_CANDIDATES

if TYPE_CHECKING:
    from privacy.policy import PrivacyPolicy
    from synth.generate import SynthRequest


class SynthPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: str = "fewshot"
    n: int = Field(100, ge=1)
    model: str | None = None  # a name in the model store; None = the default model
    k: int = Field(3, ge=0, le=16)
    max_attempts: int = Field(3, ge=1, le=20)
    label_target: Literal["balanced", "as-is"] | dict[str, float] | None = None
    sampling: Sampling = Field(default_factory=Sampling)
    # A model fine-tuned on the task without DP samples with this min-p instead of sampling's (null: sampling's own).
    finetuned_min_p: float | None = Field(FINETUNED_MIN_P, ge=0, le=1)
    # A model fine-tuned on labelled records writes this many candidates per record and
    # keeps the ones the label judge reads most surely as their label (synth/select.py); 1: no selection.
    finetuned_candidates: int = Field(FINETUNED_CANDIDATES, ge=1, le=16)
    runtime: RuntimeSettings = Field(default_factory=RuntimeSettings)
    fill_placeholders: bool = True
    balance_vocabulary: bool = True  # bias generation away from words the synthetic records overuse (synth/balance.py)
    # A classifier trained on the real records rejects drafts it reads as another label (synth/judge.py),
    # and selects among a fine-tuned model's candidates. It reads the training records outside any DP
    # budget: a DP site that wants ε to cover every use of them sets this to false (and
    # balance_vocabulary, which also reads them).
    label_check: bool = True

    def request(
        self,
        records: list[dict] | None = None,
        mode: str | None = None,
        n: int | None = None,
        seed: int = 0,
        privacy: PrivacyPolicy | None = None,
        **overrides,
    ) -> SynthRequest:
        """A SynthRequest from these defaults; the privacy policy says which fields are free text
        and which are labels (records are accepted for symmetry with the pipeline; unused)."""
        from synth.generate import SynthRequest

        values = dict(
            mode=mode or self.mode,
            n=n or self.n,
            seed=seed,
            k=self.k,
            max_attempts=self.max_attempts,
            label_target=self.label_target,
            sampling=self.sampling,
            finetuned_min_p=self.finetuned_min_p,
            finetuned_candidates=self.finetuned_candidates,
            fill_placeholders=self.fill_placeholders,
            balance_vocabulary=self.balance_vocabulary,
            label_check=self.label_check,
        )
        if privacy is not None:
            values["id_field"] = privacy.id_field
            values["locale"] = privacy.surrogate_locale
            text = [f for f, rule in privacy.fields.items() if rule.kind == "text" and "." not in f]
            labels = [f for f, rule in privacy.fields.items() if rule.kind == "label" and "." not in f]
            if text:
                values["text_fields"] = text
            if labels:
                values["label_field"] = "label" if "label" in labels else labels[0]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return SynthRequest(**values)
