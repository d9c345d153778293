"""Golden records of what each root planned before issue 14's refactor, and the normalization both sides share.

The records were generated from commit fe74125 (the Terraform of main before the refactor):

    git archive fe74125 terraform asl | tar -x -C /tmp/old
    PYTHONPATH=python .venv/bin/python -m tests.terraform.golden /tmp/old/terraform

Each environment gets `<env>.addresses` (every resource address, one a line: what an existing state holds),
`<env>.values.json` (planned values per address, normalized) and `<env>.variables` (the variables the root
declared: what a terraform.tfvars written for it may set). Regenerate only from that commit: the
point of the files is that they do not follow the code.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

GOLDEN = Path(__file__).resolve().parent / "golden"
ENVS = ("local", "dev", "prod")
# Attributes whose value says where or when the plan ran, not what it builds: the zip path (its name stays),
# the zip's hash (the Lambda code changes independently of the infrastructure).
_PATH_ATTRIBUTES = frozenset({"filename"})
_VOLATILE_ATTRIBUTES = frozenset({"source_code_hash"})
_JSON_ATTRIBUTES = frozenset({"policy", "assume_role_policy", "definition"})
# Values changed on purpose since the records were taken: (address, attribute) -> (why, the roots where it
# changes). The records stay as they were (they are what an existing deployment holds); the value comparison
# skips exactly these attributes, which an upgrade updates in place.
_FILTER_ERRORS = 'module.stack.module.alarms.aws_cloudwatch_metric_alarm.lambda["filter_low_confidence-errors"]'
_STATE_MACHINE = "module.stack.module.workflow.aws_sfn_state_machine.this"
_WORKFLOW_FAILURES = "module.stack.module.alarms.aws_cloudwatch_metric_alarm.execution_failures"
_OOD = "issue 18: out-of-distribution rejections are notified in their own words and are not failures: "
INTENDED_CHANGES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {
    (_STATE_MACHINE, "definition"): (
        "issue 16: the input is wrapped first (any JSON value ends in a named error), the low-confidence subject "
        "reads the record, and the Lambda tasks also retry Lambda.ClientExecutionTimeoutException; "
        + _OOD
        + "OutOfDistributionError is caught, notified and ends in its own Fail state",
        ENVS,
    ),
    **{
        (_WORKFLOW_FAILURES, name): (_OOD + "the alarm subtracts them (metric math)", ENVS)
        for name in ("alarm_description", "metric_query")
    },
    ('module.stack.module.lambdas.aws_lambda_function.this["classify_image"]', "environment"): (
        "issue 18: ClassifyImage asks the endpoint for the full answer (ENDPOINT_ACCEPT, from the model image)",
        ENVS,
    ),
    (_STATE_MACHINE, "logging_configuration"): (
        "issue 16: dev logs no execution data, prod only failed executions without data (no images in logs)",
        ("dev", "prod"),
    ),
    **{
        (_FILTER_ERRORS, name): (
            "issue 16: the filter's errors alarm subtracts its own low-confidence rejections (metric math); issue 18: "
            "and its out-of-distribution ones",
            ENVS,
        )
        for name in (
            "alarm_description",
            "namespace",
            "metric_name",
            "dimensions",
            "statistic",
            "period",
            "metric_query",
        )
    },
    **{
        (f'module.stack.module.lambdas.aws_lambda_function.this["{key}"]', name): (
            "issue 16: the functions deploy from their zip in the data bucket (the provider creates functions "
            "from a local file one at a time); the zip's content is unchanged",
            ENVS,
        )
        for key in ("serialize_image", "classify_image", "filter_low_confidence")
        for name in ("filename", "s3_bucket", "s3_key")
    },
}
_ENDPOINT = "module.stack.module.endpoint"
INTENDED_CHANGES |= {
    (f"{_ENDPOINT}.aws_sagemaker_endpoint.this[0]", "deployment_config"): (
        "issue 19: every update of the endpoint is a blue/green deployment with baking periods, rolled back by the "
        "endpoint's 5XX and p95-latency alarms (prod a canary; dev and local all at once); UpdateEndpoint in place",
        ENVS,
    ),
    (f"{_ENDPOINT}.aws_sagemaker_endpoint_configuration.this[0]", "production_variants"): (
        "issue 19: prod starts the variant on two instances (a canary is at most half of them); a new endpoint "
        "configuration, created before the old one is deleted, and the endpoint updated in place to it",
        ("prod",),
    ),
    ("module.stack.module.iam.aws_iam_role_policy.sagemaker", "policy"): (
        "issue 19: the SageMaker role may describe the endpoint's rollback alarms (deployment guardrails need "
        "cloudwatch:DescribeAlarms on them)",
        ENVS,
    ),
    ('module.stack.module.alarms.aws_cloudwatch_metric_alarm.share["low-confidence"]', "alarm_description"): (
        "issue 21: the share in the description is printed as 30%, not as Terraform's exact decimal "
        "(30.000...0002%), as the dashboard prints it",
        ENVS,
    ),
    ('module.stack.module.alarms.aws_cloudwatch_metric_alarm.share["low-confidence"]', "metric_query"): (
        "the share adds up every judging function's counts (the filter's and the batch's chunk function's), "
        "updated in place",
        ENVS,
    ),
    (f"{_ENDPOINT}.aws_appautoscaling_target.this[0]", "min_capacity"): (
        "issue 19: prod autoscales from two instances (the canary's half), updated in place",
        ("prod",),
    ),
}
# Resources added on purpose since the records were taken: new address -> (why, the roots that gain it).
# An upgrade creates them; the address comparison expects exactly these to be new.
INTENDED_ADDITIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    **{
        f'module.stack.module.lambdas.aws_s3_object.package["{key}"]': (
            "issue 16: each function's zip, uploaded to the data bucket for the function to deploy from",
            ENVS,
        )
        for key in ("serialize_image", "classify_image", "filter_low_confidence")
    },
    'module.stack.module.alarms.aws_cloudwatch_metric_alarm.share["out-of-distribution"]': (
        "issue 18: an alarm on the share of images the model's guard flags as out of distribution",
        ENVS,
    ),
    "module.stack.module.registry.aws_sagemaker_model_package_group.this": (
        "issue 19: the model registry, the group the release pipeline registers versions in",
        ENVS,
    ),
    "module.stack.module.registry.aws_iam_policy.release": (
        "issue 19: what the release pipeline's role may do on the model registry (register, read, approve)",
        ENVS,
    ),
    **{
        f"module.stack.module.batch.{address}": (
            "issue 20: the batch entry point (a Distributed Map over a prefix)",
            ENVS,
        )
        for address in (
            "aws_sfn_state_machine.this",
            "aws_cloudwatch_log_group.this",
            "aws_iam_role.this",
            "aws_iam_role_policy.this",
        )
    },
}
# issue 20, event-driven: the results bus (every root) and the upload entry point (ingestion: dev and prod).
_EVENTS = "module.stack.module.events"
_STARTER = "issue 20: start_classification, the function that starts the workflow for each upload on the ingest queue"
_INGESTION = "issue 20: uploads under incoming/ start the workflow (S3 -> EventBridge -> SQS -> starter); off in local"
INTENDED_ADDITIONS |= {
    **{
        address: (_STARTER, ENVS)
        for address in (
            'module.stack.module.lambdas.aws_lambda_function.this["start_classification"]',
            'module.stack.module.lambdas.aws_cloudwatch_log_group.this["start_classification"]',
            'module.stack.module.lambdas.aws_s3_object.package["start_classification"]',
            'module.stack.module.iam.aws_iam_role.lambda["start_classification"]',
            'module.stack.module.iam.aws_iam_role_policy.lambda["start_classification"]',
            'module.stack.module.alarms.aws_cloudwatch_metric_alarm.lambda["start_classification-errors"]',
            'module.stack.module.alarms.aws_cloudwatch_metric_alarm.lambda["start_classification-throttles"]',
        )
    },
    f"{_EVENTS}.aws_cloudwatch_event_bus.results": ("issue 20: the bus the workflow announces its results on", ENVS),
    f"{_EVENTS}.aws_iam_role_policy.announce_results": (
        "issue 20: the state machine may put events on its results bus (and nowhere else)",
        ENVS,
    ),
    **{
        f"{_EVENTS}.{resource}[0]": (_INGESTION, ("dev", "prod"))
        for resource in (
            "aws_s3_bucket_notification.data",
            "aws_cloudwatch_event_rule.ingest",
            "aws_cloudwatch_event_target.ingest",
            "aws_sqs_queue.dead_letters",
            "aws_sqs_queue.ingest",
            "aws_lambda_event_source_mapping.ingest",
            "aws_cloudwatch_metric_alarm.dead_letters",
        )
    },
}
INTENDED_CHANGES |= {
    ('module.stack.module.iam.aws_iam_role_policy.lambda["serialize_image"]', "policy"): (
        "issue 20: serialize_image also reads the uploads ingestion classifies (incoming/*); issue 21: and the "
        "images the API's thin function stages (api/*)",
        ENVS,
    ),
}
INTENDED_ADDITIONS |= {
    "module.stack.module.dashboard.aws_cloudwatch_dashboard.this": (
        "issue 21: one CloudWatch dashboard per environment (workflow outcomes, drift share, endpoint, Lambda "
        "errors and throttles, every alarm)",
        ENVS,
    ),
}
# issue 21: the classification API (module api) and its thin function, in every root; a key, usage plan and
# usage-plan key per consuming team (local: "local"; dev's shared plan: two teams; prod: none by default).
_API = "module.stack.module.api"
_API_WHY = "issue 21: the classification API (REST API, EXPRESS workflow, access logs, alarms, CloudWatch role)"
_API_TEAMS = {"local": ("local",), "dev": ("analytics", "mobile"), "prod": ()}
INTENDED_ADDITIONS |= {
    **{
        address: ("issue 21: classify_api, the API's thin function", ENVS)
        for address in (
            'module.stack.module.lambdas.aws_lambda_function.this["classify_api"]',
            'module.stack.module.lambdas.aws_cloudwatch_log_group.this["classify_api"]',
            'module.stack.module.lambdas.aws_s3_object.package["classify_api"]',
            'module.stack.module.iam.aws_iam_role.lambda["classify_api"]',
            'module.stack.module.iam.aws_iam_role_policy.lambda["classify_api"]',
            'module.stack.module.alarms.aws_cloudwatch_metric_alarm.lambda["classify_api-errors"]',
            'module.stack.module.alarms.aws_cloudwatch_metric_alarm.lambda["classify_api-throttles"]',
        )
    },
    **{
        f"{_API}.{resource}": (_API_WHY, ENVS)
        for resource in (
            "aws_api_gateway_rest_api.this",
            "aws_api_gateway_rest_api_policy.this",
            "aws_api_gateway_resource.classify",
            "aws_api_gateway_model.request",
            "aws_api_gateway_request_validator.body",
            "aws_api_gateway_method.classify",
            "aws_api_gateway_integration.classify",
            "aws_lambda_permission.api",
            "aws_api_gateway_deployment.this",
            "aws_api_gateway_stage.this",
            "aws_api_gateway_method_settings.all",
            "aws_cloudwatch_log_group.access",
            "aws_iam_role.cloudwatch[0]",
            "aws_iam_role_policy.cloudwatch[0]",
            "aws_api_gateway_account.this[0]",
            'aws_cloudwatch_metric_alarm.this["4xx-rate"]',
            'aws_cloudwatch_metric_alarm.this["5xx-rate"]',
            'aws_cloudwatch_metric_alarm.this["latency-p95"]',
            "module.express.aws_cloudwatch_log_group.this",
            "module.express.aws_sfn_state_machine.this",
        )
    },
    **{
        f'{_API}.{resource}["{team}"]': (_API_WHY, (env,))
        for env, teams in _API_TEAMS.items()
        for team in teams
        for resource in (
            "aws_api_gateway_api_key.team",
            "aws_api_gateway_usage_plan.team",
            "aws_api_gateway_usage_plan_key.team",
        )
    },
}
# issue 20, the batch's chunked variant: classify_chunk, deployed in every root whichever design the batch runs.
INTENDED_ADDITIONS |= {
    address: (
        "issue 20: classify_chunk, the batch's chunked variant (one call and one endpoint request per chunk)",
        ENVS,
    )
    for address in (
        'module.stack.module.lambdas.aws_lambda_function.this["classify_chunk"]',
        'module.stack.module.lambdas.aws_cloudwatch_log_group.this["classify_chunk"]',
        'module.stack.module.lambdas.aws_s3_object.package["classify_chunk"]',
        'module.stack.module.iam.aws_iam_role.lambda["classify_chunk"]',
        'module.stack.module.iam.aws_iam_role_policy.lambda["classify_chunk"]',
        'module.stack.module.alarms.aws_cloudwatch_metric_alarm.lambda["classify_chunk-errors"]',
        'module.stack.module.alarms.aws_cloudwatch_metric_alarm.lambda["classify_chunk-throttles"]',
    )
}
# Resources removed on purpose since the records were taken: old address -> (why, the roots that lose it).
# An upgrade destroys them; the address comparison expects exactly these to be gone.
_LOCAL_ONLY_FOR_COUNTING = (
    "issue 16: the demo and the tests count notifications from the emulator's record of what the topic sent; "
    "the queue and its policy cost 50 s of fixed provider waits per apply"
)
_LIFECYCLE_WAIT = "issue 16: lifecycle_rules = false in local; the provider waits a fixed 55 s per configuration"
INTENDED_REMOVALS: dict[str, tuple[str, tuple[str, ...]]] = {
    "aws_sqs_queue.notifications": (_LOCAL_ONLY_FOR_COUNTING, ("local",)),
    "aws_sqs_queue_policy.notifications": (_LOCAL_ONLY_FOR_COUNTING, ("local",)),
    "aws_sns_topic_subscription.notifications_queue": (_LOCAL_ONLY_FOR_COUNTING, ("local",)),
    "module.stack.module.storage.aws_s3_bucket_lifecycle_configuration.data": (_LIFECYCLE_WAIT, ("local",)),
    "module.stack.module.storage.aws_s3_bucket_lifecycle_configuration.capture": (_LIFECYCLE_WAIT, ("local",)),
}
_MOVED = re.compile(r"moved\s*\{\s*from\s*=\s*(\S+)\s*to\s*=\s*(\S+)\s*\}", re.MULTILINE)


def _normalize_value(name: str, value: Any) -> Any:
    if name in _PATH_ATTRIBUTES and isinstance(value, str):
        return Path(value).name
    if name in _JSON_ATTRIBUTES and isinstance(value, str):
        return json.loads(value)
    return value


def removed_on_purpose(env: str) -> set[str]:
    """Old addresses `INTENDED_REMOVALS` drops from this root."""
    return {address for address, (_why, envs) in INTENDED_REMOVALS.items() if env in envs}


def added_on_purpose(env: str) -> set[str]:
    """New addresses `INTENDED_ADDITIONS` adds to this root."""
    return {address for address, (_why, envs) in INTENDED_ADDITIONS.items() if env in envs}


def planned_values(plan: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Known planned values of every managed resource, by address, normalized (`plan`: a Plan's `raw`)."""
    found = {}
    for change in plan.get("resource_changes", []):
        if change["mode"] != "managed":
            continue
        after = change["change"].get("after") or {}
        unknown = change["change"].get("after_unknown") or {}
        found[change["address"]] = {
            name: _normalize_value(name, value)
            for name, value in sorted(after.items())
            if name not in _VOLATILE_ATTRIBUTES and unknown.get(name) is not True
        }
    return found


def load_addresses(env: str) -> list[str]:
    return (GOLDEN / f"{env}.addresses").read_text().split()


def load_variables(env: str) -> set[str]:
    """Variables the root declared (what a terraform.tfvars written for it may set)."""
    return set((GOLDEN / f"{env}.variables").read_text().split())


def load_values(env: str) -> dict[str, dict[str, Any]]:
    return json.loads((GOLDEN / f"{env}.values.json").read_text())


def moved_blocks(terraform_dir: Path, env: str) -> dict[str, str]:
    """`from` -> `to` of every moved block of one root and the modules, prefixed as the root's state addresses them.

    Moved blocks of the stack module address resources relative to module.stack; those of the stack's
    own modules relative to module.stack.module.<name>.
    """
    found: dict[str, str] = {}
    for path in sorted(terraform_dir.rglob("*.tf")):
        relative = path.relative_to(terraform_dir).parts
        if relative[0] == "modules" and relative[1] == "stack":
            prefix = "module.stack."
        elif relative[0] == "modules":
            prefix = f"module.stack.module.{relative[1]}."
        elif relative[:2] == ("envs", env):
            prefix = ""
        else:
            continue
        for source, target in _MOVED.findall(path.read_text()):
            found[prefix + source] = prefix + target
    return found


def new_address(old: str, moves: dict[str, str]) -> str:
    """Where a resource of an old state lives now: a moved block of it, or of a module or resource above it."""
    for source, target in sorted(moves.items(), key=lambda item: -len(item[0])):
        if old == source or old.startswith(source + ".") or old.startswith(source + "["):
            return target + old[len(source) :]
    return old


def generate(old_terraform: Path) -> None:
    """Plan every root of an old checkout's terraform/ (with the tests' variables) and write the records."""
    from scones.plan_testing import PlanEmulator, Planner
    from scones.toolchain import tfvars_check
    from tests.terraform import conftest

    # Planned as the tests plan: offline, through the plan-testing plugin's planner and emulator (the provider
    # validates the state machine definition at plan time: the emulator answers).
    emulator = PlanEmulator()
    with tempfile.TemporaryDirectory() as scratch:
        try:
            work = Path(scratch) / "planner"
            work.mkdir()
            planner = Planner(emulator, work)
            tree = conftest.copy_terraform(old_terraform, Path(scratch))
            for env in ENVS:
                tf_vars = golden_vars(env) | conftest.base_vars(env, with_model=False)
                values = planned_values(planner.plan(tree / "envs" / env, variables=tf_vars).raw)
                (GOLDEN / f"{env}.addresses").write_text("".join(f"{address}\n" for address in sorted(values)))
                (GOLDEN / f"{env}.values.json").write_text(json.dumps(values, indent=1, sort_keys=True) + "\n")
                variables = sorted(tfvars_check.declared_variables(old_terraform / "envs" / env))
                (GOLDEN / f"{env}.variables").write_text("".join(f"{name}\n" for name in variables))
        finally:
            emulator.stop()


def golden_vars(env: str) -> dict[str, Any]:
    """The per-environment inputs of the golden plans: a model, and for dev the KMS key and subscriptions."""
    from tests.terraform.conftest import ENV_EXTRA, ENV_SETTINGS, MODEL_IMAGE, MODEL_URL

    settings = ENV_SETTINGS[env]
    return {
        "model_data_url": MODEL_URL.format(env=env, **settings),
        "model_image_uri": MODEL_IMAGE.format(region=settings["region"]),
        **ENV_EXTRA.get(env, {}),
    }


if __name__ == "__main__":
    generate(Path(sys.argv[1]).resolve())
