"""IAM enforced by the emulator (`LocalAWS(enforce_iam=True)`): roles act as themselves.

Each covered call, made as a role whose policy has or lacks the statement it needs: allowed, or
refused the way the service refuses it. The admin's keys (the suite's `testing`) always pass.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from scones.local.server import LocalAWS
from tests.support.local_fixtures import (
    ACCOUNT_ID,
    client,
    deploy_endpoint,
    invoke,
    lambda_zip,
    model_artifact,
    png,
    wait_for_execution,
)

BUCKET = "iam-images"
TRUST_LAMBDA = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS(enforce_iam=True) as emulator:
        s3 = client("s3", emulator.url)
        s3.create_bucket(Bucket=BUCKET)
        s3.put_object(Bucket=BUCKET, Key="data/a.png", Body=b"image")
        s3.put_object(Bucket=BUCKET, Key="other/b.png", Body=b"image")
        yield emulator


def _statement(action: str | list[str], resource: str | list[str], effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Action": action, "Resource": resource}


def _role(url: str, *statements: dict[str, Any], managed: list[dict[str, Any]] | None = None) -> str:
    """A new role with `statements` inline and `managed` in an attached managed policy; its ARN."""
    iam = client("iam", url)
    name = f"role-{uuid.uuid4().hex[:8]}"
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))["Role"]["Arn"])
    if statements:
        document = {"Version": "2012-10-17", "Statement": list(statements)}
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(document))
    if managed:
        document = {"Version": "2012-10-17", "Statement": managed}
        policy = iam.create_policy(PolicyName=f"{name}-managed", PolicyDocument=json.dumps(document))
        iam.attach_role_policy(RoleName=name, PolicyArn=policy["Policy"]["Arn"])
    return arn


def _as_role(url: str, role_arn: str, service: str) -> Any:
    keys = client("sts", url).assume_role(RoleArn=role_arn, RoleSessionName="tester")["Credentials"]
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )


def _denied(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return dict(raised.value.response)


def _role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


# -- S3 ------------------------------------------------------------------------------------------


def test_s3_get_object_needs_the_roles_allow(aws: LocalAWS) -> None:
    allowed = _role(aws.url, _statement("s3:GetObject", f"arn:aws:s3:::{BUCKET}/data/*"))
    s3 = _as_role(aws.url, allowed, "s3")
    assert s3.get_object(Bucket=BUCKET, Key="data/a.png")["Body"].read() == b"image"
    response = _denied(s3.get_object, Bucket=BUCKET, Key="other/b.png")
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/{_role_name(allowed)}/tester is not authorized to perform: "
        f's3:GetObject on resource: "arn:aws:s3:::{BUCKET}/other/b.png" because no identity-based policy allows '
        "the s3:GetObject action"
    )
    # HEAD is a GetObject too, answered without a body.
    assert _denied(s3.head_object, Bucket=BUCKET, Key="other/b.png")["Error"]["Code"] == "403"


def test_s3_put_object_is_checked_and_reads_are_not_writes(aws: LocalAWS) -> None:
    s3 = _as_role(aws.url, _role(aws.url, _statement("s3:GetObject", "*")), "s3")
    assert _denied(s3.put_object, Bucket=BUCKET, Key="data/new.png", Body=b"x")["Error"]["Code"] == "AccessDenied"
    writer = _as_role(aws.url, _role(aws.url, _statement("s3:PutObject", f"arn:aws:s3:::{BUCKET}/*")), "s3")
    writer.put_object(Bucket=BUCKET, Key="data/new.png", Body=b"x")


def test_a_role_without_policies_is_denied_and_the_admin_is_not(aws: LocalAWS) -> None:
    bare = _as_role(aws.url, _role(aws.url), "s3")
    assert _denied(bare.get_object, Bucket=BUCKET, Key="data/a.png")["Error"]["Code"] == "AccessDenied"
    assert client("s3", aws.url).get_object(Bucket=BUCKET, Key="data/a.png")["Body"].read() == b"image"


def test_explicit_deny_wins_over_an_allow_in_another_policy(aws: LocalAWS) -> None:
    role = _role(
        aws.url,
        _statement("s3:GetObject", f"arn:aws:s3:::{BUCKET}/data/a.png", effect="Deny"),
        managed=[_statement("s3:*", "*")],
    )
    s3 = _as_role(aws.url, role, "s3")
    message = _denied(s3.get_object, Bucket=BUCKET, Key="data/a.png")["Error"]["Message"]
    assert message.endswith("with an explicit deny in an identity-based policy")
    assert s3.get_object(Bucket=BUCKET, Key="other/b.png")["Body"].read() == b"image"  # the managed Allow


def test_wildcards_and_case_insensitive_actions(aws: LocalAWS) -> None:
    s3 = _as_role(aws.url, _role(aws.url, _statement("S3:Get*", f"arn:aws:s3:::{BUCKET}/*/a.png")), "s3")
    assert s3.get_object(Bucket=BUCKET, Key="data/a.png")["Body"].read() == b"image"
    assert _denied(s3.get_object, Bucket=BUCKET, Key="other/b.png")["Error"]["Code"] == "AccessDenied"


def test_not_resource_and_unmet_conditions(aws: LocalAWS) -> None:
    role = _role(
        aws.url,
        {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"arn:aws:s3:::{BUCKET}/other/*"},
        {
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-1"}},
        },
    )
    s3 = _as_role(aws.url, role, "s3")
    assert s3.get_object(Bucket=BUCKET, Key="data/a.png")["Body"].read() == b"image"
    # The conditional Allow does not apply (moto alone would turn it into a Deny of data/a.png too).
    assert _denied(s3.get_object, Bucket=BUCKET, Key="other/b.png")["Error"]["Code"] == "AccessDenied"


def test_calls_the_emulator_does_not_check_pass(aws: LocalAWS) -> None:
    s3 = _as_role(aws.url, _role(aws.url), "s3")
    assert "LocationConstraint" in s3.get_bucket_location(Bucket=BUCKET)  # s3:GetBucketLocation is not enforced


# The batch role's statement (terraform/modules/batch, ListInputPrefix): list only under data/.
LIST_DATA = {
    "Effect": "Allow",
    "Action": "s3:ListBucket",
    "Resource": f"arn:aws:s3:::{BUCKET}",
    "Condition": {"StringLike": {"s3:prefix": "data/*"}},
}


def test_a_listing_is_checked_on_the_bucket_with_its_prefix(aws: LocalAWS) -> None:
    role = _role(aws.url, LIST_DATA)
    s3 = _as_role(aws.url, role, "s3")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="data/a")["Contents"]] == ["data/a.png"]
    assert [o["Key"] for o in s3.list_objects(Bucket=BUCKET, Prefix="data/a")["Contents"]] == ["data/a.png"]
    refused = _denied(s3.list_objects_v2, Bucket=BUCKET, Prefix="other/")
    assert (refused["Error"]["Code"], refused["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    assert refused["Error"]["Message"] == (
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/{_role_name(role)}/tester is not authorized to perform: "
        f's3:ListBucket on resource: "arn:aws:s3:::{BUCKET}" because no identity-based policy allows '
        "the s3:ListBucket action"
    )
    # No prefix parameter: the request context has no s3:prefix, so StringLike does not hold.
    assert _denied(s3.list_objects_v2, Bucket=BUCKET)["Error"]["Code"] == "AccessDenied"
    assert _denied(s3.list_objects, Bucket=BUCKET)["Error"]["Code"] == "AccessDenied"
    assert "Contents" in client("s3", aws.url).list_objects_v2(Bucket=BUCKET)  # the admin lists anything


def test_head_bucket_delete_object_and_listing_versions_are_checked_as_s3_names_them(aws: LocalAWS) -> None:
    """HeadBucket is s3:ListBucket, ListObjectVersions s3:ListBucketVersions (with the listing's condition
    keys), DeleteObject s3:DeleteObject and, of a given version, s3:DeleteObjectVersion; a GET of a given
    version is s3:GetObjectVersion (calls.py cites each page)."""
    admin = client("s3", aws.url)
    admin.put_object(Bucket=BUCKET, Key="data/gone.png", Body=b"image")
    objects = f"arn:aws:s3:::{BUCKET}/data/*"
    role = _role(
        aws.url,
        _statement(["s3:ListBucket", "s3:GetObject", "s3:DeleteObject"], [f"arn:aws:s3:::{BUCKET}", objects]),
        {**LIST_DATA, "Action": "s3:ListBucketVersions"},
    )
    s3 = _as_role(aws.url, role, "s3")
    s3.head_bucket(Bucket=BUCKET)
    assert [v["Key"] for v in s3.list_object_versions(Bucket=BUCKET, Prefix="data/a")["Versions"]] == ["data/a.png"]
    versions = _denied(s3.list_object_versions, Bucket=BUCKET, Prefix="other/")["Error"]["Message"]
    assert f'not authorized to perform: s3:ListBucketVersions on resource: "arn:aws:s3:::{BUCKET}"' in versions
    s3.delete_object(Bucket=BUCKET, Key="data/gone.png")
    assert "Contents" not in admin.list_objects_v2(Bucket=BUCKET, Prefix="data/gone")
    deleting = _denied(s3.delete_object, Bucket=BUCKET, Key="other/b.png")["Error"]["Message"]
    assert f's3:DeleteObject on resource: "arn:aws:s3:::{BUCKET}/other/b.png"' in deleting
    version = _denied(s3.delete_object, Bucket=BUCKET, Key="data/a.png", VersionId="null")["Error"]["Message"]
    assert "s3:DeleteObjectVersion" in version
    assert (
        "s3:GetObjectVersion"
        in _denied(s3.get_object, Bucket=BUCKET, Key="data/a.png", VersionId="null")["Error"]["Message"]
    )
    # Without s3:ListBucket, HeadBucket is a bodiless 403, as S3 answers it.
    unlisted = _as_role(aws.url, _role(aws.url, _statement("s3:GetObject", objects)), "s3")
    head = _denied(unlisted.head_bucket, Bucket=BUCKET)
    assert (head["Error"]["Code"], head["ResponseMetadata"]["HTTPStatusCode"]) == ("403", 403)
    assert admin.get_object(Bucket=BUCKET, Key="data/a.png")["Body"].read() == b"image"  # nothing else changed


def test_a_listings_delimiter_and_max_keys_and_a_negated_condition_on_a_missing_prefix(aws: LocalAWS) -> None:
    bucket = f"arn:aws:s3:::{BUCKET}"
    role = _role(
        aws.url,
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringEquals": {"s3:delimiter": "/"}, "NumericLessThanEquals": {"s3:max-keys": "10"}},
        },
        {
            "Effect": "Deny",
            "Action": "s3:ListBucket",
            "Resource": bucket,
            "Condition": {"StringNotLike": {"s3:prefix": "data/*"}},
        },
    )
    s3 = _as_role(aws.url, role, "s3")
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="data/", Delimiter="/", MaxKeys=10)["KeyCount"] >= 1
    too_many = _denied(s3.list_objects_v2, Bucket=BUCKET, Prefix="data/", Delimiter="/", MaxKeys=11)
    assert too_many["Error"]["Message"].endswith("because no identity-based policy allows the s3:ListBucket action")
    assert _denied(s3.list_objects_v2, Bucket=BUCKET, Prefix="data/", MaxKeys=10)["Error"]["Code"] == "AccessDenied"
    explicit = "with an explicit deny in an identity-based policy"
    other = _denied(s3.list_objects_v2, Bucket=BUCKET, Prefix="other/", Delimiter="/", MaxKeys=5)
    assert other["Error"]["Message"].endswith(explicit)
    # A negated operator on a key the request lacks holds, so the Deny applies to a listing without a prefix.
    assert _denied(s3.list_objects_v2, Bucket=BUCKET, Delimiter="/", MaxKeys=5)["Error"]["Message"].endswith(explicit)


def _create_machine(url: str, role_arn: str, definition: dict[str, Any]) -> str:
    """A new state machine of `definition` that runs as `role_arn`; its ARN."""
    sfn = client("stepfunctions", url)
    name = f"sm-{uuid.uuid4().hex[:8]}"
    return str(
        sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=role_arn)["stateMachineArn"]
    )


def _listing_map(url: str, role_arn: str) -> str:
    """A machine whose one state is a Distributed Map over BUCKET/<the input's prefix>, as the batch's."""
    definition = {
        "StartAt": "Batch",
        "States": {
            "Batch": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": "arn:aws:states:::s3:listObjectsV2",
                    "Parameters": {"Bucket": BUCKET, "Prefix.$": "$.prefix"},
                },
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Item",
                    "States": {"Item": {"Type": "Pass", "Parameters": {"key.$": "$.Key"}, "End": True}},
                },
                "End": True,
            }
        },
    }
    return _create_machine(url, role_arn, definition)


def test_a_distributed_maps_item_reader_lists_as_the_role_only_under_its_prefix(aws: LocalAWS) -> None:
    role = _role(aws.url, LIST_DATA)
    machine = _listing_map(aws.url, role)
    sfn = client("stepfunctions", aws.url)

    def run(prefix: str) -> dict[str, Any]:
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"prefix": prefix}))["executionArn"]
        return wait_for_execution(aws.url, arn)

    allowed = run("data/a")
    assert allowed["status"] == "SUCCEEDED", allowed
    assert json.loads(allowed["output"]) == [{"key": "data/a.png"}]
    refused = run("other/")
    assert (refused["status"], refused["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert "An error occurred (AccessDenied) when calling the ListObjectsV2 operation" in refused["cause"]
    assert (
        f"assumed-role/{_role_name(role)}/StepFunctions is not authorized to perform: s3:ListBucket on resource: "
        f'"arn:aws:s3:::{BUCKET}"'
    ) in refused["cause"]


# -- Lambda: its own calls as its execution role -----------------------------------------------

READ_AND_REPORT = """
import boto3
from botocore.exceptions import ClientError


def handler(event, context):
    identity = boto3.client("sts").get_caller_identity()["Arn"]
    try:
        body = boto3.client("s3").get_object(Bucket=event["bucket"], Key=event["key"])["Body"].read()
        return {"identity": identity, "read": body.decode()}
    except ClientError as exc:
        error = exc.response["Error"]
        return {"identity": identity, "error": error["Code"], "message": error["Message"]}
"""


def _function(url: str, role_arn: str, source: str) -> str:
    name = f"fn-{uuid.uuid4().hex[:8]}"
    return str(
        client("lambda", url).create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler="app.handler",
            Code={"ZipFile": lambda_zip({"app.py": source})},
            Timeout=30,
        )["FunctionArn"]
    )


def test_a_function_calls_with_its_execution_roles_keys(aws: LocalAWS) -> None:
    role = _role(aws.url, _statement("s3:GetObject", f"arn:aws:s3:::{BUCKET}/data/*"))
    function = _function(aws.url, role, READ_AND_REPORT)
    name = function.rsplit(":", 1)[-1]
    _, allowed = invoke(aws.url, name, {"bucket": BUCKET, "key": "data/a.png"})
    assert allowed == {"identity": f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{_role_name(role)}/{name}", "read": "image"}
    _, denied = invoke(aws.url, name, {"bucket": BUCKET, "key": "other/b.png"})
    assert denied["error"] == "AccessDenied"
    assert f"assumed-role/{_role_name(role)}/{name} is not authorized to perform: s3:GetObject" in denied["message"]


def _log_events(url: str, function_name: str) -> list[str]:
    logs = client("logs", url)
    try:
        return [e["message"] for e in logs.filter_log_events(logGroupName=f"/aws/lambda/{function_name}")["events"]]
    except logs.exceptions.ResourceNotFoundException:
        return []


def test_a_functions_logs_are_delivered_only_if_its_role_may_write_them(aws: LocalAWS) -> None:
    log_group = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/aws/lambda/"
    writes = _statement(["logs:CreateLogStream", "logs:PutLogEvents"], f"{log_group}*")
    silent = _function(aws.url, _role(aws.url), ECHO).rsplit(":", 1)[-1]
    logged = _function(aws.url, _role(aws.url, writes), ECHO).rsplit(":", 1)[-1]
    for name in (silent, logged):
        response, answer = invoke(aws.url, name, {"n": 1}, LogType="Tail")
        assert answer == {"echo": {"n": 1}}
        assert response["LogResult"]  # the tail comes back either way
    assert _log_events(aws.url, silent) == []
    assert any(line.startswith("REPORT RequestId") for line in _log_events(aws.url, logged))


def test_invoke_endpoint_is_checked_on_the_endpoint_arn(aws: LocalAWS) -> None:
    endpoint_arn = f"arn:aws:sagemaker:us-east-1:{ACCOUNT_ID}:endpoint/scones-endpoint"
    allowed = _as_role(
        aws.url, _role(aws.url, _statement("sagemaker:InvokeEndpoint", endpoint_arn)), "sagemaker-runtime"
    )
    other = _as_role(
        aws.url,
        _role(aws.url, _statement("sagemaker:InvokeEndpoint", "arn:aws:sagemaker:*:*:endpoint/other")),
        "sagemaker-runtime",
    )
    body = {"ContentType": "image/png", "Body": b"x"}
    # Past the authorizer, the endpoint does not exist: SageMaker's ValidationError, not AccessDenied.
    assert (
        _denied(allowed.invoke_endpoint, EndpointName="Scones-Endpoint", **body)["Error"]["Code"] == "ValidationError"
    )
    response = _denied(other.invoke_endpoint, EndpointName="Scones-Endpoint", **body)
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert f"sagemaker:InvokeEndpoint on resource: {endpoint_arn} because" in response["Error"]["Message"]


def test_lambda_invoke_is_checked_on_the_function_arn_whatever_names_it(aws: LocalAWS) -> None:
    function = _function(aws.url, _role(aws.url), ECHO)
    name = function.rsplit(":", 1)[-1]
    caller = _as_role(aws.url, _role(aws.url, _statement("lambda:InvokeFunction", function)), "lambda")
    for named in (name, function):  # (moto itself answers 500 to a partial ARN)
        assert json.loads(caller.invoke(FunctionName=named, Payload=b"{}")["Payload"].read()) == {"echo": {}}
    # A qualified call is a resource of its own: function:NAME:QUALIFIER.
    response = _denied(caller.invoke, FunctionName=name, Qualifier="$LATEST", Payload=b"{}")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert f"lambda:InvokeFunction on resource: {function}:$LATEST because" in response["Error"]["Message"]


# -- Step Functions: Task states call as the state machine's role ------------------------------

ECHO = """
def handler(event, context):
    return {"echo": event}
"""


def _machine(url: str, role_arn: str, function_arn: str, topic_arn: str, *, over_http: bool = False) -> str:
    parameters: dict[str, Any] = {"FunctionName": function_arn, "Payload.$": "$"}
    if over_http:  # not the in-process shortcut's plain case: the call goes to the server over HTTP
        parameters["InvocationType"] = "RequestResponse"
    definition = {
        "StartAt": "Invoke",
        "States": {
            "Invoke": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": parameters,
                "Next": "Notify",
            },
            "Notify": {
                "Type": "Task",
                "Resource": "arn:aws:states:::sns:publish",
                "Parameters": {"TopicArn": topic_arn, "Message": "done"},
                "End": True,
            },
        },
    }
    return _create_machine(url, role_arn, definition)


def _run(url: str, machine: str) -> tuple[dict[str, Any], list[tuple[str, str, str]]]:
    """The execution and its failed Tasks: (state, error, cause)."""
    sfn = client("stepfunctions", url)
    arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    execution = wait_for_execution(url, arn)
    state, failed = "", []
    for event in sfn.get_execution_history(executionArn=arn)["events"]:
        state = event.get("stateEnteredEventDetails", {}).get("name", state)
        if "taskFailedEventDetails" in event:
            details = event["taskFailedEventDetails"]
            failed.append((state, details["error"], details["cause"]))
    return execution, failed


@pytest.fixture(scope="module")
def workflow_parts(aws: LocalAWS) -> tuple[str, str]:
    function = _function(aws.url, _role(aws.url), ECHO)
    topic = client("sns", aws.url).create_topic(Name="iam-notifications")["TopicArn"]
    return function, topic


@pytest.mark.parametrize("over_http", [False, True], ids=["in-process", "over-http"])
def test_task_states_act_as_the_state_machines_role(
    aws: LocalAWS, workflow_parts: tuple[str, str], over_http: bool
) -> None:
    function, topic = workflow_parts
    both = _role(aws.url, _statement("lambda:InvokeFunction", function), _statement("sns:Publish", topic))
    execution, failed = _run(aws.url, _machine(aws.url, both, function, topic, over_http=over_http))
    assert execution["status"] == "SUCCEEDED" and failed == []

    invoke_only = _role(aws.url, _statement("lambda:InvokeFunction", f"{function}*"))
    execution, failed = _run(aws.url, _machine(aws.url, invoke_only, function, topic, over_http=over_http))
    assert execution["status"] == "FAILED"
    [(state, error, cause)] = failed
    assert (state, error) == ("Notify", "SNS.AuthorizationErrorException")
    assert cause.startswith(
        f"User: arn:aws:sts::{ACCOUNT_ID}:assumed-role/{_role_name(invoke_only)}/StepFunctions is not authorized to "
        f"perform: SNS:Publish on resource: {topic} because no identity-based policy allows the SNS:Publish action"
    )

    publish_only = _role(aws.url, _statement("sns:Publish", topic))
    execution, failed = _run(aws.url, _machine(aws.url, publish_only, function, topic, over_http=over_http))
    [(state, error, cause)] = failed
    assert (state, error) == ("Invoke", "Lambda.AWSLambdaException")
    assert f"is not authorized to perform: lambda:InvokeFunction on resource: {function} because" in cause
    assert "Status Code: 403; Error Code: AccessDeniedException" in cause


def test_starting_an_execution_is_checked_on_the_state_machine_arn(aws: LocalAWS) -> None:
    sfn = client("stepfunctions", aws.url)
    definition = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    role = "arn:aws:iam::123456789012:role/any"
    allowed_machine, other_machine = (
        sfn.create_state_machine(name=f"m-{uuid.uuid4().hex[:8]}", definition=definition, roleArn=role)[
            "stateMachineArn"
        ]
        for _ in range(2)
    )
    starter = _as_role(aws.url, _role(aws.url, _statement("states:StartExecution", allowed_machine)), "stepfunctions")
    assert starter.start_execution(stateMachineArn=allowed_machine, input="{}")["executionArn"]
    response = _denied(starter.start_execution, stateMachineArn=other_machine, input="{}")
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert f"states:StartExecution on resource: {other_machine}" in response["Error"]["Message"]


def test_put_events_is_checked_on_each_entrys_bus(aws: LocalAWS) -> None:
    bus = client("events", aws.url).create_event_bus(Name=f"bus-{uuid.uuid4().hex[:8]}")["EventBusArn"]
    events = _as_role(aws.url, _role(aws.url, _statement("events:PutEvents", bus)), "events")
    entry = {"Source": "scones", "DetailType": "VehicleClassified", "Detail": "{}"}
    assert events.put_events(Entries=[{**entry, "EventBusName": bus}])["FailedEntryCount"] == 0
    response = _denied(events.put_events, Entries=[{**entry, "EventBusName": bus}, entry])
    assert response["Error"]["Code"] == "AccessDeniedException"
    default_bus = "arn:aws:events:us-east-1:123456789012:event-bus/default"
    assert f"events:PutEvents on resource: {default_bus}" in response["Error"]["Message"]


# -- SageMaker: the model's execution role reads the artifact and writes capture ------------------


def _sagemaker_role(url: str, *statements: dict[str, Any]) -> None:
    """deploy_endpoint's models use role/sagemaker; (re)write its one inline policy."""
    iam = client("iam", url)
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName="sagemaker", AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
    document = {"Version": "2012-10-17", "Statement": list(statements)}
    iam.put_role_policy(RoleName="sagemaker", PolicyName="inline", PolicyDocument=json.dumps(document))


def test_endpoint_reads_its_artifact_and_writes_capture_as_the_models_role(aws: LocalAWS) -> None:
    capture = {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": "s3://iam-capture/c",
        "CaptureOptions": [{"CaptureMode": "Input"}],
    }
    client("s3", aws.url).create_bucket(Bucket="iam-capture")
    runtime = client("sagemaker-runtime", aws.url)
    artifact = model_artifact()

    # May read the artifact, may not write capture: served, and the record dropped with a log line.
    _sagemaker_role(aws.url, _statement("s3:GetObject", "arn:aws:s3:::iam-models/readable/*"))
    deploy_endpoint(aws.url, "iam-models", "iam-served", artifact, capture, artifact_key="readable/model.tar.gz")
    answer = runtime.invoke_endpoint(EndpointName="iam-served", ContentType="image/png", Body=png((255, 0, 0)))
    assert json.loads(answer["Body"].read())[0] > 0.5
    assert "Contents" not in client("s3", aws.url).list_objects_v2(Bucket="iam-capture")
    logs = client("logs", aws.url).filter_log_events(logGroupName="/aws/sagemaker/Endpoints/iam-served")["events"]
    assert any("data capture: User: arn:aws:sts" in e["message"] and "s3:PutObject" in e["message"] for e in logs)

    # With the capture statement, the next invocation is captured.
    _sagemaker_role(
        aws.url,
        _statement("s3:GetObject", "arn:aws:s3:::iam-models/readable/*"),
        _statement("s3:PutObject", "arn:aws:s3:::iam-capture/*"),
    )
    runtime.invoke_endpoint(EndpointName="iam-served", ContentType="image/png", Body=png((255, 0, 0)))
    assert len(client("s3", aws.url).list_objects_v2(Bucket="iam-capture")["Contents"]) == 1

    # An artifact the role may not read never loads.
    deploy_endpoint(aws.url, "iam-models", "iam-unreadable", artifact, None, artifact_key="secret/model.tar.gz")
    response = _denied(runtime.invoke_endpoint, EndpointName="iam-unreadable", ContentType="image/png", Body=b"x")
    assert response["Error"]["Code"] == "ValidationError"
    message = response["Error"]["Message"]
    assert "Could not access model data at s3://iam-models/secret/model.tar.gz" in message
    assert "assumed-role/sagemaker/SageMaker is not authorized to perform: s3:GetObject" in message


# -- Step Functions: events:putEvents as the state machine's role, delivered to the bus's rules -----


def _announcing_machine(url: str, role_arn: str, bus_arn: str) -> str:
    definition = {
        "StartAt": "Announce",
        "States": {
            "Announce": {
                "Type": "Task",
                "Resource": "arn:aws:states:::events:putEvents",
                "Parameters": {
                    "Entries": [
                        {
                            "EventBusName": bus_arn,
                            "Source": "scones.classification",
                            "DetailType": "VehicleClassified",
                            "Detail": {"key.$": "$.key", "execution_arn.$": "$$.Execution.Id"},
                        }
                    ]
                },
                "End": True,
            }
        },
    }
    return _create_machine(url, role_arn, definition)


def test_a_put_events_task_acts_as_the_role_and_reaches_the_buss_rules(aws: LocalAWS) -> None:
    events, sqs = client("events", aws.url), client("sqs", aws.url)
    bus_name = f"results-{uuid.uuid4().hex[:8]}"
    bus = events.create_event_bus(Name=bus_name)["EventBusArn"]
    queue = sqs.create_queue(QueueName=f"q-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(
        Name="classified", EventBusName=bus_name, EventPattern=json.dumps({"detail-type": ["VehicleClassified"]})
    )
    events.put_targets(Rule="classified", EventBusName=bus_name, Targets=[{"Id": "q", "Arn": queue_arn}])

    allowed = _announcing_machine(aws.url, _role(aws.url, _statement("events:PutEvents", bus)), bus)
    sfn = client("stepfunctions", aws.url)
    arn = sfn.start_execution(stateMachineArn=allowed, input=json.dumps({"key": "incoming/a.png"}))["executionArn"]
    assert wait_for_execution(aws.url, arn)["status"] == "SUCCEEDED"
    (message,) = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    event = json.loads(message["Body"])
    # The optimised integration sends Detail as JSON text and adds the machine and execution to Resources
    # ("Call EventBridge with Step Functions", https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html).
    assert (event["source"], event["detail-type"]) == ("scones.classification", "VehicleClassified")
    assert event["detail"] == {"key": "incoming/a.png", "execution_arn": arn}
    assert event["resources"] == [allowed, arn]

    other_bus = events.create_event_bus(Name=f"other-{uuid.uuid4().hex[:8]}")["EventBusArn"]
    denied = _announcing_machine(aws.url, _role(aws.url, _statement("events:PutEvents", other_bus)), bus)
    arn = sfn.start_execution(stateMachineArn=denied, input=json.dumps({"key": "incoming/b.png"}))["executionArn"]
    execution = wait_for_execution(aws.url, arn)
    # A named error a Retry or Catch sees (moto raised States.Runtime, which none does).
    assert (execution["status"], execution["error"]) == ("FAILED", "EventBridge.AccessDeniedException")
    assert f"is not authorized to perform: events:PutEvents on resource: {bus}" in execution["cause"]
    assert "(Service: EventBridge; Status Code: 400; Error Code: AccessDeniedException;" in execution["cause"]
    assert "Messages" not in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)


def test_an_sqs_mapping_is_refused_while_its_functions_role_may_not_poll_the_queue(aws: LocalAWS) -> None:
    """CreateEventSourceMapping checks the function's role for the poller's three SQS actions, as Lambda does
    (sqs_lambda.py cites the page); the AWS provider retries this refusal while IAM propagates."""
    sqs, lambda_ = client("sqs", aws.url), client("lambda", aws.url)
    queue_url = sqs.create_queue(QueueName=f"ingest-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    poll = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
    for granted, refused in ((poll[1:], "ReceiveMessage"), (poll[:2], "GetQueueAttributes")):
        function = _function(
            aws.url, _role(aws.url, _statement(granted, queue)), "def handler(event, context):\n    pass\n"
        )
        error = _denied(lambda_.create_event_source_mapping, EventSourceArn=queue, FunctionName=function)["Error"]
        assert error == {
            "Code": "InvalidParameterValueException",
            "Message": f"The provided execution role does not have permissions to call {refused} on SQS",
        }
    assert lambda_.list_event_source_mappings(EventSourceArn=queue)["EventSourceMappings"] == []
    function = _function(aws.url, _role(aws.url, _statement(poll, queue)), "def handler(event, context):\n    pass\n")
    mapping = lambda_.create_event_source_mapping(EventSourceArn=queue, FunctionName=function)
    assert mapping["EventSourceArn"] == queue
    lambda_.delete_event_source_mapping(UUID=mapping["UUID"])
