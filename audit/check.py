"""What an audit check is: a named function from the audit context to a small immutable result.

A check lives in its own module under audit/checks/ and exposes `CHECK = Check(...)`; the registry
finds it there. A check that does not apply to the inputs (no fine-tuned model, no canaries) raises
NotApplicable; the gate then treats it as missing only if the policy requires it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.context import AuditContext


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict. `figure` is a rate or an AUC where lower is safer; `ci` its interval;
    `details` holds record ids, fields, spans and counts — never record content."""

    name: str
    figure: float
    ci: tuple[float, float]
    threshold: float
    passed: bool
    summary: str
    details: dict = field(default_factory=dict)
    method: str = ""


class NotApplicable(Exception):
    """The check has nothing to judge for these inputs; the message says why, in plain words."""


@dataclass(frozen=True)
class CheckSettings:
    """The policy's threshold and parameters for one check, and the gate's rule for passing."""

    name: str
    threshold: float
    params: dict[str, Any]
    gate_on: str = "estimate"
    confidence: float = 0.95

    def param(self, key: str, default: Any) -> Any:
        return self.params.get(key, default)

    def passes(self, figure: float, ci: tuple[float, float]) -> bool:
        """Lower is safer; with `gate_on: upper_bound` the whole interval must sit at or below."""
        statistic = ci[1] if self.gate_on == "upper_bound" else figure
        return not math.isnan(statistic) and statistic <= self.threshold

    def result(self, figure: float, ci: tuple[float, float], summary: str, details: dict, method: str) -> CheckResult:
        ci = (float(ci[0]), float(ci[1]))
        return CheckResult(
            name=self.name, figure=float(figure), ci=ci, threshold=self.threshold,
            passed=self.passes(float(figure), ci), summary=summary, details=details, method=method,
        )


@dataclass(frozen=True)
class Check:
    """A registered check: `run(context, settings)` returns a CheckResult or raises NotApplicable.

    `title` heads the check's section in the report; `order` places it there (lower first);
    `default_threshold` applies when the policy names none.
    """

    name: str
    title: str
    run: Callable[[AuditContext, CheckSettings], CheckResult]
    default_threshold: float
    order: int = 100
