"""An environment's release configuration: terraform/envs/<env>/release.json.

Floors, tolerance, approval mode and smoke test are configuration, not code: each environment keeps
its own file next to its Terraform root, reviewed like the root. Every key is checked, and a bad file
is refused as a whole with the file and the key named (`ReleaseConfigError`), before anything runs.

    {
      "floors": {"accuracy": 0.85, "coverage": 0.5, "accepted_accuracy": 0.95},
      "tolerance": 0.02,
      "threshold": 0.93,
      "approval": "auto",
      "training": {"epochs": null},
      "smoke": {"count": 6, "capture_timeout_seconds": 30}
    }

`floors`: the candidate's accuracy on the test split, its coverage (share of test images the workflow's
gate accepts at `threshold`, guard included) and the accuracy of those accepted predictions must reach
them. `tolerance`: none of the three may be more than this below the deployed model's registered
figure. `approval`: "auto" registers versions Approved, "manual" PendingManualApproval (a release stops
until `scones approve`). `training.epochs`: null keeps the recipe's. `smoke.count`: workflow executions
after the apply; `smoke.capture_timeout_seconds`: how long their capture records may take to appear
(SageMaker writes capture files within minutes; the emulator at once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scones import DEFAULT_THRESHOLD
from scones.release.errors import ReleaseConfigError

CONFIG_FILE = "release.json"
APPROVAL_MODES = {"auto": "Approved", "manual": "PendingManualApproval"}
METRICS = ("accuracy", "coverage", "accepted_accuracy")
_KEYS = {"floors", "tolerance", "threshold", "approval", "training", "smoke"}


@dataclass(frozen=True)
class ReleaseConfig:
    path: Path
    floors: dict[str, float]  # METRICS -> floor
    tolerance: float
    threshold: float
    approval: str  # "auto" | "manual"
    epochs: int | None
    smoke_count: int
    capture_timeout_seconds: float

    @property
    def approval_status(self) -> str:
        """The ModelApprovalStatus a new version is registered with."""
        return APPROVAL_MODES[self.approval]

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "floors": self.floors,
            "tolerance": self.tolerance,
            "threshold": self.threshold,
            "approval": self.approval,
            "epochs": self.epochs,
            "smoke": {"count": self.smoke_count, "capture_timeout_seconds": self.capture_timeout_seconds},
        }


def _fail(path: Path, message: str) -> ReleaseConfigError:
    return ReleaseConfigError(f"{path}: {message}")


def _object(path: Path, value: Any, where: str, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(path, f"{where} must be a JSON object, not {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise _fail(path, f"{where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(allowed))})")
    return value


def _number(path: Path, value: Any, where: str, low: float, high: float, *, low_open: bool = False) -> float:
    # bool is an int in Python; `true` is no number in a floors file.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(path, f"{where} must be a number, not {json.dumps(value)}")
    if value < low or value > high or (low_open and value == low):
        bounds = f"{'(' if low_open else '['}{low}, {high}]"
        raise _fail(path, f"{where} = {value} is outside {bounds}")
    return float(value)


def _integer(path: Path, value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(path, f"{where} must be a whole number, not {json.dumps(value)}")
    if not low <= value <= high:
        raise _fail(path, f"{where} = {value} is outside [{low}, {high}]")
    return value


def parse_config(path: Path, data: Any) -> ReleaseConfig:
    """The checked configuration of `data` (read from `path`, named in every error)."""
    data = _object(path, data, "the file", _KEYS)
    missing = sorted({"floors", "tolerance", "approval", "smoke"} - set(data))
    if missing:
        raise _fail(path, f"missing key(s) {', '.join(missing)}")
    floors_in = _object(path, data["floors"], "floors", set(METRICS))
    absent = [name for name in METRICS if name not in floors_in]
    if absent:
        raise _fail(path, f"floors: missing {', '.join(absent)}")
    floors = {name: _number(path, floors_in[name], f"floors.{name}", 0.0, 1.0) for name in METRICS}
    approval = data["approval"]
    if approval not in APPROVAL_MODES:
        raise _fail(path, f"approval = {json.dumps(approval)}: expected one of {', '.join(APPROVAL_MODES)}")
    training = _object(path, data.get("training", {}), "training", {"epochs"})
    epochs = training.get("epochs")
    smoke = _object(path, data["smoke"], "smoke", {"count", "capture_timeout_seconds"})
    if "count" not in smoke:
        raise _fail(path, "smoke: missing count")
    return ReleaseConfig(
        path=path,
        floors=floors,
        tolerance=_number(path, data["tolerance"], "tolerance", 0.0, 1.0),
        threshold=_number(path, data.get("threshold", DEFAULT_THRESHOLD), "threshold", 0.0, 1.0, low_open=True),
        approval=approval,
        epochs=None if epochs is None else _integer(path, epochs, "training.epochs", 1, 500),
        smoke_count=_integer(path, smoke["count"], "smoke.count", 1, 100),
        capture_timeout_seconds=_number(
            path, smoke.get("capture_timeout_seconds", 30), "smoke.capture_timeout_seconds", 0.0, 3600.0
        ),
    )


def load_config(path: Path) -> ReleaseConfig:
    if not path.is_file():
        raise _fail(path, f"no release configuration (each environment keeps one: terraform/envs/<env>/{CONFIG_FILE})")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise _fail(path, f"not valid JSON ({exc})") from None
    return parse_config(path, data)
