"""The audit section of the policy file: which checks the gate requires, and their thresholds.

Every check reports a figure where lower is safer (a leak rate, an attack AUC, a discriminator AUC).
A privacy check passes only when the top of its confidence interval is at or below its threshold
(`gate_on: upper_bound`, the default): too little evidence that a risk is below its limit is a
quarantine, not a pass. Utility is a quality floor, not a risk, and is judged on its estimate
(`utility_gate_on: estimate`). A policy may set `gate_on: estimate`; the report then says that
privacy checks were judged on point estimates.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_REQUIRED = ["pii_rescan", "pii_replay", "memorization", "membership_inference", "utility"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CheckRule(_Strict):
    """Threshold and parameters of one check (each check documents its own parameters)."""

    threshold: float | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class AuditPolicy(_Strict):
    # Fail-closed: a required check that fails, errors, is skipped, does not apply or does not exist
    # means quarantine. Checks that are not required still run when they apply, and block when they fail.
    required: list[str] = Field(default_factory=lambda: list(DEFAULT_REQUIRED))
    skip: list[str] = Field(default_factory=list)
    checks: dict[str, CheckRule] = Field(default_factory=dict)
    min_holdout: int = Field(20, ge=1)
    embedder: Literal["auto", "minilm", "tfidf"] = "auto"
    gate_on: Literal["estimate", "upper_bound"] = "upper_bound"  # privacy checks
    utility_gate_on: Literal["estimate", "upper_bound"] = "estimate"
    confidence: float = Field(0.95, gt=0.5, lt=1)
    bootstrap: int = Field(1000, ge=50)
    seed: int = 0

    def rule(self, name: str) -> CheckRule:
        return self.checks.get(name) or CheckRule()
