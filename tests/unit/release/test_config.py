"""The per-environment release configuration: the repository's files load, and every bad value is refused
with the file and the key named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scones.paths import repo_root
from scones.release.config import load_config, parse_config
from scones.release.errors import ReleaseConfigError

GOOD: dict[str, Any] = {
    "floors": {"accuracy": 0.85, "coverage": 0.5, "accepted_accuracy": 0.95},
    "tolerance": 0.02,
    "approval": "auto",
    "smoke": {"count": 6},
}


@pytest.mark.parametrize("env", ["local", "dev", "prod"])
def test_every_environment_has_a_valid_configuration(env: str) -> None:
    config = load_config(repo_root() / "terraform" / "envs" / env / "release.json")
    assert 0 < config.floors["accuracy"] <= 1 and config.smoke_count >= 1


def test_prod_approves_by_hand_and_dev_automatically() -> None:
    envs = repo_root() / "terraform" / "envs"
    assert load_config(envs / "prod" / "release.json").approval_status == "PendingManualApproval"
    assert load_config(envs / "dev" / "release.json").approval_status == "Approved"


def test_defaults_fill_what_is_optional(tmp_path: Path) -> None:
    config = parse_config(tmp_path / "release.json", GOOD)
    assert (config.threshold, config.epochs, config.capture_timeout_seconds) == (0.93, None, 30.0)


def _with(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "the file must be a JSON object, not list"),
        (
            _with(floor={}),
            "the file: unknown key(s) floor (known: approval, floors, smoke, threshold, tolerance, training)",
        ),
        ({k: v for k, v in GOOD.items() if k != "tolerance"}, "missing key(s) tolerance"),
        (_with(floors={"accuracy": 0.9, "coverage": 0.5}), "floors: missing accepted_accuracy"),
        (_with(floors={**GOOD["floors"], "accuracy": 1.5}), "floors.accuracy = 1.5 is outside [0.0, 1.0]"),
        (_with(floors={**GOOD["floors"], "coverage": True}), "floors.coverage must be a number, not true"),
        (_with(tolerance="0.02"), 'tolerance must be a number, not "0.02"'),
        (_with(threshold=0), "threshold = 0 is outside (0.0, 1.0]"),
        (_with(approval="yes"), 'approval = "yes": expected one of auto, manual'),
        (_with(smoke={}), "smoke: missing count"),
        (_with(smoke={"count": 0}), "smoke.count = 0 is outside [1, 100]"),
        (_with(smoke={"count": 2.5}), "smoke.count must be a whole number, not 2.5"),
        (_with(training={"epochs": 0}), "training.epochs = 0 is outside [1, 500]"),
    ],
)
def test_a_bad_value_is_refused_naming_the_file_and_the_key(tmp_path: Path, data: Any, message: str) -> None:
    path = tmp_path / "release.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ReleaseConfigError) as raised:
        load_config(path)
    assert raised.value.message == f"{path}: {message}"


def test_a_missing_or_broken_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ReleaseConfigError, match="no release configuration"):
        load_config(tmp_path / "release.json")
    (tmp_path / "release.json").write_text("{")
    with pytest.raises(ReleaseConfigError, match="not valid JSON"):
        load_config(tmp_path / "release.json")
