"""The release gate: is the candidate good enough to replace what is deployed?

Three figures of the candidate's evaluation on the test split (`candidate_metrics`): accuracy, coverage
(the share the workflow's gate accepts at the environment's threshold, out-of-distribution guard
included: what the workflow does) and the accuracy of those accepted predictions. Each must reach the
environment's floor, and must not be more than the tolerance below the deployed model's registered
figure. Pure: the decision and its numbers, for the terminal and the report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from scones.release.config import METRICS, ReleaseConfig


@dataclass(frozen=True)
class Check:
    metric: str
    kind: str  # "floor" | "tolerance"
    value: float | None  # the candidate's (None: it accepted nothing, so no accepted accuracy)
    required: float
    passed: bool

    def line(self) -> str:
        value = "none" if self.value is None else f"{self.value:.4f}"
        verdict = "ok" if self.passed else "REFUSED"
        relation = ">=" if self.kind == "floor" else ">= deployed - tolerance ="
        return f"{self.metric:<18} {value} {relation} {self.required:.4f}  {verdict}"


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    checks: list[Check]
    compared_with_deployed: bool

    @property
    def failures(self) -> list[Check]:
        return [check for check in self.checks if not check.passed]

    def reason(self) -> str:
        return "; ".join(check.line() for check in self.failures) or "every floor and tolerance met"

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "compared_with_deployed": self.compared_with_deployed,
            "checks": [asdict(check) for check in self.checks],
        }


def candidate_metrics(evaluation: dict[str, Any]) -> dict[str, float | None]:
    """The gate's figures from a `scones evaluate` report (scones.evaluation.evaluate_artifact)."""
    served = evaluation["gate"]["in_distribution"]["with_guard"]
    return {
        "accuracy": float(evaluation["accuracy"]),
        "coverage": float(served["coverage"]),
        "accepted_accuracy": None if served["accepted_accuracy"] is None else float(served["accepted_accuracy"]),
        "threshold": float(evaluation["gate"]["threshold"]),
        "count": int(evaluation["count"]),
    }


def _passes(value: float | None, required: float) -> bool:
    # A tiny epsilon: figures read back from JSON or registered metadata round-trip through text.
    return value is not None and value >= required - 1e-9


def decide(candidate: dict[str, Any], deployed: dict[str, Any] | None, config: ReleaseConfig) -> GateDecision:
    """`deployed`: the deployed model's registered figures (None or {}: nothing to compare with)."""
    checks = [
        Check(
            name, "floor", candidate.get(name), config.floors[name], _passes(candidate.get(name), config.floors[name])
        )
        for name in METRICS
    ]
    compared = False
    for name in METRICS:
        reference = (deployed or {}).get(name)
        if isinstance(reference, int | float) and not isinstance(reference, bool):
            compared = True
            required = round(float(reference) - config.tolerance, 6)
            checks.append(
                Check(name, "tolerance", candidate.get(name), required, _passes(candidate.get(name), required))
            )
    return GateDecision(passed=all(check.passed for check in checks), checks=checks, compared_with_deployed=compared)
