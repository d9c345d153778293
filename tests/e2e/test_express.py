"""End to end on the local emulator with an EXPRESS state machine (the local root's
`state_machine_type`): Step Functions does not describe Express executions, so `scones invoke` and
the workflow client run them with StartSyncExecution. One stack, one apply (the tiny red/blue model,
no training); the STANDARD type is what test_workflow.py's stack runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from scones.cli import main as scones_main
from scones.local.notifications import sent_bodies
from scones.workflow import Outcome, run_executions
from tests.support.e2e_stacks import tiny_stack
from tests.support.local_fixtures import model_artifact, png

pytestmark = pytest.mark.e2e
pytest.importorskip("torch")
CONFIDENT = "data/test/bicycle/red.png"  # the tiny model: red is a bicycle, surely
UNSURE = "data/test/motorcycle/purple.png"  # equal red and blue: 50/50, below the threshold


def test_an_express_workflow_classifies_and_rejects_through_the_workflow_client_and_invoke(tmp_path: Path) -> None:
    with tiny_stack(tmp_path / "stack", model_artifact(), {"state_machine_type": "EXPRESS"}) as stack:
        outputs = stack.deployment.outputs
        sfn = stack.client("stepfunctions")
        machine = outputs["state_machine_arn"]
        assert sfn.describe_state_machine(stateMachineArn=machine)["type"] == "EXPRESS"
        s3 = stack.client("s3")
        s3.put_object(Bucket=stack.bucket, Key=CONFIDENT, Body=png((250, 10, 10)))
        s3.put_object(Bucket=stack.bucket, Key=UNSURE, Body=png((128, 0, 128)))

        confident, unsure = run_executions(sfn, machine, stack.bucket, [CONFIDENT, UNSURE], timeout_seconds=120)
        assert confident.outcome is Outcome.SUCCEEDED and confident.predicted_class == "bicycle"
        assert confident.duration_ms is not None and ":express:" in confident.execution_arn
        assert unsure.outcome is Outcome.LOW_CONFIDENCE and unsure.error == "ThresholdConfidenceNotMetError"
        assert unsure.details is not None and unsure.details.s3_key == UNSURE
        notified = sent_bodies(stack.deployment.url, outputs["sns_topic_arn"])
        assert [(n["event"], n["s3_key"]) for n in notified] == [("low_confidence", UNSURE)]
        with pytest.raises(sfn.exceptions.InvalidArn):  # why the client cannot poll an Express execution
            sfn.describe_execution(executionArn=confident.execution_arn)

        summary = tmp_path / "invoke.json"
        args = [
            "invoke", "--count", "2", "--seed", "1", "--state-machine-arn", machine, "--bucket", stack.bucket,
            "--endpoint-url", stack.deployment.config.url, "--json", str(summary), "--strict",
        ]  # fmt: skip
        invoked = CliRunner().invoke(scones_main, args)
        assert invoked.exit_code == 0, invoked.output
        counts = json.loads(summary.read_text())
        assert (counts["succeeded"], counts["low_confidence"], counts["failed"], counts["timed_out"]) == (1, 1, 0, 0)
