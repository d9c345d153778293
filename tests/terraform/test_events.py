"""The event-driven entry point and the results bus in the plan (module events): S3 → EventBridge → queue →
starter → workflow, and the bus the workflow announces on. Reads the roots' shared default plans (dev and prod
with ingestion on, local with it off) plus one refused plan."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from scones.plan_testing import Plan
from tests.terraform.conftest import ENV_EXTRA, ENV_SETTINGS

pytestmark = pytest.mark.terraform

EVENTS = "module.stack.module.events"
INGESTION_TYPES = (
    "aws_s3_bucket_notification",
    "aws_cloudwatch_event_rule",
    "aws_cloudwatch_event_target",
    "aws_sqs_queue",
    "aws_lambda_event_source_mapping",
)


def _arns(env: str) -> dict[str, str]:
    settings = ENV_SETTINGS[env]
    where = f"{settings['region']}:{settings['account']}"
    prefix = f"scones-{env}"
    return {
        "bucket": f"{prefix}-data-{settings['account']}-{settings['region']}",
        "bus": f"arn:aws:events:{where}:event-bus/{prefix}-results",
        "queue": f"arn:aws:sqs:{where}:{prefix}-ingest",
        "dlq": f"arn:aws:sqs:{where}:{prefix}-ingest-dlq",
        "rule": f"arn:aws:events:{where}:rule/{prefix}-ingest",
        "machine": f"arn:aws:states:{where}:stateMachine:{prefix}-classify-image",
        "topic": f"arn:aws:sns:{where}:{prefix}-notifications",
        "starter": f"arn:aws:lambda:{where}:function:{prefix}-start-classification",
    }


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_uploads_under_the_prefix_with_an_image_suffix_reach_the_ingest_queue(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan, arns = env_plan(env), _arns(env)
    notification = plan.one("aws_s3_bucket_notification")
    assert (notification["bucket"], notification["eventbridge"]) == (arns["bucket"], True)
    rule = plan.resources[f"{EVENTS}.aws_cloudwatch_event_rule.ingest[0]"].values
    # The default bus: S3 sends its events nowhere else.
    assert rule["name"] == f"scones-{env}-ingest" and rule["event_bus_name"] == "default"
    assert json.loads(rule["event_pattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [arns["bucket"]]},
            # Prefix and suffix together: one wildcard per image suffix.
            "object": {"key": [{"wildcard": f"incoming/*{s}"} for s in (".jpg", ".jpeg", ".png")]},
        },
    }
    target = plan.one("aws_cloudwatch_event_target")
    assert target["rule"] == rule["name"]
    # Undeliverable events are not dropped silently: the target's dead-letter queue is the ingest one's.
    config = plan.module_configuration("stack", "events")
    assert config["aws_cloudwatch_event_target.ingest"]["expressions"]["arn"]["references"][0].startswith(
        "aws_sqs_queue.ingest"
    )
    dead_letters = config["aws_cloudwatch_event_target.ingest"]["expressions"]["dead_letter_config"][0]
    assert dead_letters["arn"]["references"][0].startswith("aws_sqs_queue.dead_letters")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_queues_are_encrypted_tls_only_redriven_and_their_dead_letters_alarm(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan, arns = env_plan(env), _arns(env)
    queues = {q["name"]: q for q in plan.of_type("aws_sqs_queue").values()}
    assert set(queues) == {f"scones-{env}-ingest", f"scones-{env}-ingest-dlq"}
    # The stack's KMS key where it has one (dev), else SSE-SQS.
    kms_key = ENV_EXTRA.get(env, {}).get("kms_key_arn")
    for name, queue in queues.items():
        if kms_key:
            assert queue["kms_master_key_id"] == kms_key, name
        else:
            assert queue["sqs_managed_sse_enabled"] is True, name
        policy = json.loads(queue["policy"])
        statements = {s["Sid"]: s for s in policy["Statement"]}
        assert statements["DenyInsecureTransport"]["Effect"] == "Deny"
        assert statements["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        # Only this stack's rule may send (EventBridge as the service, on behalf of that rule).
        sends = statements["RuleSends"]
        assert sends["Principal"] == {"Service": "events.amazonaws.com"} and sends["Action"] == "sqs:SendMessage"
        assert sends["Condition"] == {"ArnEquals": {"aws:SourceArn": arns["rule"]}}
    ingest = queues[f"scones-{env}-ingest"]
    assert ingest["visibility_timeout_seconds"] == 6 * 30  # six times the starter's timeout
    redrive = plan.module_configuration("stack", "events")["aws_sqs_queue.ingest"]["expressions"]["redrive_policy"]
    assert "aws_sqs_queue.dead_letters" in " ".join(redrive["references"])
    alarm = plan.of_type("aws_cloudwatch_metric_alarm")[f"{EVENTS}.aws_cloudwatch_metric_alarm.dead_letters[0]"]
    assert (alarm["namespace"], alarm["metric_name"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["dimensions"] == {"QueueName": f"scones-{env}-ingest-dlq"}
    assert (alarm["comparison_operator"], alarm["threshold"]) == ("GreaterThanThreshold", 0)
    assert alarm["alarm_actions"] == [arns["topic"]] == alarm["ok_actions"]
    mapping = plan.one("aws_lambda_event_source_mapping")
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize("env", ["dev", "local"])
def test_the_starter_may_only_start_this_workflow_and_the_workflow_only_announce_on_its_bus(
    env_plan: Callable[[str], Plan], env: str
) -> None:
    plan, arns = env_plan(env), _arns(env)
    grants: dict[str, dict[str | None, tuple[set[str], set[str]]]] = {}
    for statement in plan.policy_statements():
        grants.setdefault(statement.address, {})[statement.sid] = (set(statement.actions), set(statement.resources))
    starter = grants['module.stack.module.iam.aws_iam_role_policy.lambda["start_classification"]']
    # Beyond its logs and traces: start this state machine, consume its own queue. Nothing on S3 or the bus.
    assert {sid: grant for sid, grant in starter.items() if sid not in ("WriteOwnLogs", "XRayTraces")} == {
        "StartClassification": ({"states:StartExecution"}, {arns["machine"]}),
        "ConsumeIngestQueue": (
            {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"},
            {arns["queue"]},
        ),
        **(
            {"DecryptIngestQueue": ({"kms:Decrypt"}, {kms})}
            if (kms := ENV_EXTRA.get(env, {}).get("kms_key_arn"))
            else {}
        ),
    }
    # Every events:PutEvents grant in the stack is the workflow's, on its results bus.
    put_events = [
        (address, grant[1])
        for address, by_sid in grants.items()
        for grant in by_sid.values()
        if any(action.startswith("events:") for action in grant[0])
    ]
    assert put_events == [(f"{EVENTS}.aws_iam_role_policy.announce_results", {arns["bus"]})]
    announce = plan.resources[f"{EVENTS}.aws_iam_role_policy.announce_results"]
    assert announce.is_unknown("role") or announce.values["role"] == f"scones-{env}-state-machine"
    # The state machine may not invoke the starter: it is not a step of the workflow.
    (invoke,) = [
        g
        for sid, g in grants["module.stack.module.iam.aws_iam_role_policy.state_machine"].items()
        if sid == "InvokeWorkflowFunctions"
    ]
    assert not any(arn.startswith(arns["starter"]) for arn in invoke[1])
    # The bus and the definition's placeholder: always, whatever ingestion is.
    assert plan.one("aws_cloudwatch_event_bus")["name"] == f"scones-{env}-results"
    definition = plan.of_type("aws_sfn_state_machine")["module.stack.module.workflow.aws_sfn_state_machine.this"][
        "definition"
    ]
    assert f'"EventBusName": "{arns["bus"]}"' in definition or f'"EventBusName":"{arns["bus"]}"' in definition
    assert plan.outputs["stack"]["results_bus_name"] == f"scones-{env}-results"


def test_the_local_root_leaves_ingestion_out(env_plan: Callable[[str], Plan]) -> None:
    """Its queues would cost every first apply ~50 s of provider waits, for uploads the demo never makes."""
    plan = env_plan("local")
    assert {t: n for t, n in plan.types().items() if t in INGESTION_TYPES} == {}
    assert plan.outputs["ingest_prefix"] is None
    # The starter is deployed anyway (cheap), with nothing to read from.
    assert "scones-local-start-classification" in {
        f["function_name"] for f in plan.of_type("aws_lambda_function").values()
    }
