"""End to end on the local emulator: `scones release --env local` on one stack (applied once without a
model), one two-epoch model trained once by the first release (the train stage), and every later scenario
releasing an artifact by URL (issue 19's release tests).

The scenarios run in order on the same stack, each starting from what the one before left deployed: a good
candidate releases end to end; the same artifact again changes nothing; a candidate below the floors stops
at the gate; one that passes the gate but fails in serving is rolled back; bad input changes nothing.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scones.aws import make_session
from scones.cli import main
from scones.deploy import StackConfig, apply_stack
from scones.local import control
from scones.workflow import Outcome, run_executions
from tests.support.e2e_stacks import assert_nothing_left
from tests.support.local_fixtures import free_port

pytestmark = pytest.mark.e2e
STAGES = ["data", "train", "evaluate", "gate", "register", "record", "plan", "apply", "verify", "smoke"]
# Serving code that answers under `scones evaluate` and raises in the endpoint's model server, as code
# needing something the serving image lacks would: the candidate passes the gate and fails on real traffic.
FAILS_IN_SERVING = """

import sys as _sys

_evaluated_predict_fn = predict_fn


def predict_fn(data, model):
    if _sys.argv[0].endswith("model_worker.py"):
        raise RuntimeError("this candidate cannot serve in the serving container")
    return _evaluated_predict_fn(data, model)
"""


@dataclass
class ReleaseStack:
    config: StackConfig
    reports: Path
    release_config: Path  # floors a two-epoch model meets


    @property
    def session(self) -> Any:
        return make_session(endpoint_url=self.config.url)

    def release(self, *args: str) -> Result:
        return CliRunner().invoke(
            main,
            [
                "release", "--endpoint-url", self.config.url, "--state-dir", str(self.config.out),
                "--out", str(self.reports), "--data-dir", str(self.config.data_dir), "--env", "local",
                *(() if "--config" in args else ("--config", str(self.release_config))), *args,
            ],
        )  # fmt: skip

    def runs(self) -> list[Path]:
        folder = self.reports / "local"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def last_report(self) -> dict[str, Any]:
        return dict(json.loads((self.runs()[-1] / "report.json").read_text()))

    def outputs(self) -> dict[str, Any]:
        from scones.release.terraform import Terraform
        from scones.release.workspace import workspace_for
        from scones.paths import repo_root

        workspace = workspace_for(
            "local", envs_dir=repo_root() / "terraform" / "envs", out=self.reports, data_dir=self.config.data_dir,
            endpoint_url=self.config.url, state_dir=self.config.out,
        )  # fmt: skip
        return Terraform(workspace).stack()

    def serving_config(self) -> str:
        stack = self.outputs()
        described = self.session.client("sagemaker").describe_endpoint(EndpointName=stack["endpoint_name"])
        return str(described["EndpointConfigName"])

    def answers(self) -> list[Outcome]:
        stack = self.outputs()
        s3 = self.session.client("s3")
        keys = [
            obj["Key"]
            for obj in s3.list_objects_v2(Bucket=stack["data_bucket_name"], Prefix="data/test/")["Contents"][:2]
        ]
        results = run_executions(
            self.session.client("stepfunctions"), stack["state_machine_arn"], stack["data_bucket_name"], keys
        )
        return [result.outcome for result in results]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReleaseStack]:
    out = tmp_path_factory.mktemp("release")
    config = StackConfig(out=out / "stack", port=free_port(), data_dir=out / "prepared")
    config.out.mkdir()
    state, already_running = control.up(config.emulator_dir, port=config.port)
    assert not already_running
    try:
        apply_stack(config)  # the stack without a model: the first release deploys one
        # A two-epoch model is sure of few images at the stack's threshold: the repository's floors, with
        # the coverage floor lowered to what it reaches.
        floors = {"accuracy": 0.7, "coverage": 0.02, "accepted_accuracy": 0.8}
        yield ReleaseStack(config, out / "reports", _write_config(out / "release.json", floors=floors))
    finally:
        control.down(config.emulator_dir)
    assert_nothing_left(config, state.pid)


def _write_config(path: Path, **changes: Any) -> Path:
    repo_config = json.loads((Path(__file__).resolve().parents[2] / "terraform/envs/local/release.json").read_text())
    path.write_text(json.dumps({**repo_config, **changes}))
    return path


@pytest.fixture(scope="module")
def released(stack: ReleaseStack) -> dict[str, Any]:
    """The first release: trains the two-epoch model (the train stage), gates, deploys, verifies it."""
    result = stack.release("--epochs", "2")
    assert result.exit_code == 0, result.output
    return stack.last_report()


def test_a_good_candidate_releases_end_to_end_with_a_complete_report(
    stack: ReleaseStack, released: dict[str, Any]
) -> None:
    assert released["status"] == "released"
    assert list(released["stages"]) == STAGES
    assert all(stage["outcome"] in ("done", "passed", "skipped") for stage in released["stages"].values())
    assert released["stages"]["train"]["outcome"] == "done"  # trained, not given
    assert released["gate"]["passed"]
    assert released["plan"]["counts"]["create"] > 0 and released["plan"]["counts"]["delete"] == 0
    assert released["verification"]["status"] == "InService"
    assert released["smoke"]["passed"] and released["smoke"]["captured"] == released["smoke"]["captures_expected"]
    assert stack.outputs()["model_data_url"] == released["candidate"]["model_data_url"]
    summary = (stack.runs()[-1] / "summary.md").read_text()
    for part in ("**released**", "| accuracy |", "Gate: **passed**", "**Plan:**", "Verification:", "Smoke test:"):
        assert part in summary
