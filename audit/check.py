"""What an audit check is: a named function from the audit context to a small immutable result.

A check lives in its own module under audit/checks/ and exposes `CHECK = Check(...)`; the registry
finds it there. A check that does not apply to the inputs (no fine-tuned model, no canaries) raises
NotApplicable; the gate then treats it as missing only if the policy requires it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from audit.context import AuditContext


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict. `figure` is a rate or an AUC where lower is safer; `ci` its interval;
    `details` holds record ids, fields, spans and counts — never record content.

    `gated_on` names the statistic compared with the threshold (`upper_bound` or `estimate`).
    `evidence` is "insufficient" when the estimate is within the limit but the interval is not: the
    sample cannot show the risk is below its limit, and `records_needed` (in `records_unit`) says
    about how large it would have to be if the observed rate held. `blocked_by` names a
    zero-tolerance rule that failed the check whatever its figure.
    """

    name: str
    figure: float
    ci: tuple[float, float]
    threshold: float
    passed: bool
    summary: str
    details: dict = field(default_factory=dict)
    method: str = ""
    gated_on: str = "estimate"
    evidence: str = "sufficient"
    records_needed: int | None = None
    records_unit: str = ""
    blocked_by: str = ""


class NotApplicable(Exception):
    """The check has nothing to judge for these inputs; the message says why, in plain words."""


# What a check's `needed` callback returns: (records, unit), or None when no sample size would do.
Needed = Callable[[], "tuple[int, str] | None"]


@dataclass(frozen=True)
class CheckSettings:
    """The policy's threshold and parameters for one check, and the gate's rule for passing."""

    name: str
    threshold: float
    params: dict[str, Any]
    gate_on: str = "upper_bound"
    confidence: float = 0.95

    def param(self, key: str, default: Any) -> Any:
        return self.params.get(key, default)

    def passes(self, figure: float, ci: tuple[float, float]) -> bool:
        """Lower is safer; with `gate_on: upper_bound` the whole interval must sit at or below."""
        statistic = ci[1] if self.gate_on == "upper_bound" else figure
        return not math.isnan(statistic) and statistic <= self.threshold

    def result(
        self, figure: float, ci: tuple[float, float], summary: str, details: dict, method: str,
        *, needed: Needed | None = None, blocked_by: str = "",
    ) -> CheckResult:
        """The verdict. `needed` estimates the sample that would bound the risk below the limit; it
        is asked only when the estimate passes and the interval does not. `blocked_by` fails the
        check whatever the figure (a zero-tolerance rule), and is stated in the summary."""
        figure, ci = float(figure), (float(ci[0]), float(ci[1]))
        passed = self.passes(figure, ci) and not blocked_by
        insufficient = not passed and not blocked_by and self.gate_on == "upper_bound" and figure <= self.threshold
        records, unit = (needed() if insufficient and needed else None) or (None, "")
        if blocked_by:
            summary += f" Failed whatever the figure: {blocked_by}."
        if insufficient:
            summary += " " + too_little_evidence(ci, self.threshold, self.confidence, records, unit)
        return CheckResult(
            name=self.name, figure=figure, ci=ci, threshold=self.threshold, passed=passed, summary=summary,
            details=details, method=method, gated_on=self.gate_on,
            evidence="insufficient" if insufficient else "sufficient",
            records_needed=records, records_unit=unit, blocked_by=blocked_by,
        )


def too_little_evidence(ci: tuple[float, float], threshold: float, confidence: float,
                        records: int | None, unit: str) -> str:
    """The sentence a report shows when a sample is too small to bound a risk below its limit."""
    needed = (f"about {records:,} {unit} would be needed (if the observed rate held)" if records
              else "no sample size would do at the observed rate")
    return (
        f"Too little evidence: the estimate is within the limit, but the {confidence:.0%} interval "
        f"reaches {ci[1]:.4g}, above the limit of {threshold:.4g}, so this sample cannot show the risk "
        f"is below it; {needed}."
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
    # "privacy" checks gate on the policy's `gate_on` (the interval's upper bound by default);
    # "utility" checks on `utility_gate_on` (the estimate by default): a quality floor, not a risk.
    kind: Literal["privacy", "utility"] = "privacy"
