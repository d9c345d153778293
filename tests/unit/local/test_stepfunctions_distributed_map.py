"""A Distributed Map on the emulator reads a whole S3 prefix, tolerates failures as configured and
writes its results in AWS's ResultWriter format (moto 5.2.5 read one page, failed on an empty prefix,
ignored tolerances, dropped failed items' errors and wrote an empty manifest)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from moto.s3.models import s3_backends

from scones.local.server import LocalAWS
from scones.local.services.stepfunctions import validate_definition
from tests.support.local_fixtures import ACCOUNT_ID, client

ROLE = "arn:aws:iam::123456789012:role/sfn"
BUCKET = "batch-images"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        client("s3", emulator.url).create_bucket(Bucket=BUCKET)
        yield emulator


def _put(keys: list[str]) -> None:
    # Straight into moto's backend: 1001 PutObject calls over HTTP would take most of a minute.
    backend = s3_backends[ACCOUNT_ID]["aws"]
    for key in keys:
        backend.put_object(BUCKET, key, b"x")


def _map(prefix: str, *, processor: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    """A machine whose one state is a Distributed Map over BUCKET/prefix."""
    state = {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:listObjectsV2",
            "Parameters": {"Bucket": BUCKET, "Prefix": prefix},
        },
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Item",
            "States": {"Item": {"Type": "Pass", "Parameters": {"key.$": "$.Key"}, "End": True}},
            **(processor or {}),
        },
        "End": True,
        **fields,
    }
    return {"StartAt": "Batch", "States": {"Batch": state}}


def _run(aws: LocalAWS, name: str, definition: dict[str, Any]) -> dict[str, Any]:
    sfn = client("stepfunctions", aws.url)
    machine = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    deadline = time.monotonic() + 60
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.05)
    return described


# Fails on items whose key ends in ".bad", with its own error name and cause.
FAILS_ON_BAD = {
    "StartAt": "Check",
    "States": {
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.Key", "StringMatches": "*.bad", "Next": "Bad"}],
            "Default": "Good",
        },
        "Bad": {"Type": "Fail", "Error": "NotAnImage", "Cause": "cannot decode"},
        "Good": {"Type": "Pass", "Parameters": {"key.$": "$.Key"}, "End": True},
    },
}


def test_the_item_reader_lists_every_page_of_the_prefix(aws: LocalAWS) -> None:
    keys = [f"many/{index:04d}.png" for index in range(1001)]
    _put(keys)
    described = _run(aws, "many", _map("many/"))
    assert described["status"] == "SUCCEEDED", described
    assert [item["key"] for item in json.loads(described["output"])] == keys


def test_items_have_the_shape_of_aws_s3_object_items(aws: LocalAWS) -> None:
    _put(["shape/a.png"])
    described = _run(aws, "shape", _map("shape/", processor={"States": {"Item": {"Type": "Pass", "End": True}}}))
    (item,) = json.loads(described["output"])
    assert set(item) == {"Etag", "Key", "LastModified", "Size", "StorageClass"}
    assert (item["Key"], item["Size"], item["StorageClass"]) == ("shape/a.png", 1, "STANDARD")
    assert isinstance(item["LastModified"], int)


def test_an_empty_prefix_gives_an_empty_result(aws: LocalAWS) -> None:
    described = _run(aws, "empty", _map("nothing-here/"))
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == []


def test_max_items_keeps_the_first_items(aws: LocalAWS) -> None:
    _put([f"capped/{index}.png" for index in range(5)])
    definition = _map("capped/")
    definition["States"]["Batch"]["ItemReader"]["ReaderConfig"] = {"MaxItems": 3}
    described = _run(aws, "capped", definition)
    assert described["status"] == "SUCCEEDED", described
    assert [item["key"] for item in json.loads(described["output"])] == [f"capped/{i}.png" for i in range(3)]


def test_one_failed_item_fails_the_map_run_when_no_failure_is_tolerated(aws: LocalAWS) -> None:
    _put(["strict/a.png", "strict/b.bad"])
    described = _run(aws, "strict", _map("strict/", processor=FAILS_ON_BAD))
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ExceedToleratedFailureThreshold"


def test_failures_within_the_tolerated_percentage_keep_their_error_and_cause(aws: LocalAWS) -> None:
    _put(["tolerant/a.png", "tolerant/b.png", "tolerant/c.png", "tolerant/d.bad"])
    described = _run(aws, "tolerant", _map("tolerant/", processor=FAILS_ON_BAD, ToleratedFailurePercentage=25))
    assert described["status"] == "SUCCEEDED", described
    results = json.loads(described["output"])
    assert [result.get("key") for result in results[:3]] == ["tolerant/a.png", "tolerant/b.png", "tolerant/c.png"]
    failed = results[3]
    assert (failed["Status"], failed["Error"], failed["Cause"]) == ("FAILED", "NotAnImage", "cannot decode")
    assert json.loads(failed["Input"])["Key"] == "tolerant/d.bad"


def test_failures_past_the_tolerated_count_fail_the_map_run(aws: LocalAWS) -> None:
    _put(["counted/a.bad", "counted/b.bad", "counted/c.png"])
    within = _run(aws, "counted-2", _map("counted/", processor=FAILS_ON_BAD, ToleratedFailureCount=2))
    past = _run(aws, "counted-1", _map("counted/", processor=FAILS_ON_BAD, ToleratedFailureCount=1))
    assert within["status"] == "SUCCEEDED", within
    assert (past["status"], past["error"]) == ("FAILED", "States.ExceedToleratedFailureThreshold")


def test_the_result_writer_writes_result_files_and_their_manifest(aws: LocalAWS) -> None:
    _put(["written/a.png", "written/b.bad"])
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": BUCKET, "Prefix": "results"}}
    described = _run(
        aws,
        "written",
        _map("written/", processor=FAILS_ON_BAD, ToleratedFailurePercentage=50, ResultWriter=writer),
    )
    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["MapRunArn"].startswith("arn:aws:states:us-east-1:123456789012:mapRun:written/Batch:")
    run_id = output["MapRunArn"].split(":")[-1]
    assert output["ResultWriterDetails"] == {"Bucket": BUCKET, "Key": f"results/{run_id}/manifest.json"}

    s3 = client("s3", aws.url)

    def read(key: str) -> Any:
        return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    manifest = read(f"results/{run_id}/manifest.json")
    assert manifest["DestinationBucket"] == BUCKET and manifest["MapRunArn"] == output["MapRunArn"]
    files = manifest["ResultFiles"]
    assert [entry["Key"] for entry in files["SUCCEEDED"]] == [f"results/{run_id}/SUCCEEDED_0.json"]
    assert [entry["Key"] for entry in files["FAILED"]] == [f"results/{run_id}/FAILED_0.json"]
    assert files["PENDING"] == []
    (succeeded,) = read(files["SUCCEEDED"][0]["Key"])
    assert succeeded["Status"] == "SUCCEEDED" and json.loads(succeeded["Output"]) == {"key": "written/a.png"}
    assert json.loads(succeeded["Input"])["Key"] == "written/a.png"
    assert succeeded["ExecutionArn"].startswith("arn:aws:states:us-east-1:123456789012:execution:written/Batch:")
    (failed,) = read(files["FAILED"][0]["Key"])
    assert (failed["Status"], failed["Error"], failed["Cause"]) == ("FAILED", "NotAnImage", "cannot decode")
    written = s3.get_object(Bucket=BUCKET, Key=files["SUCCEEDED"][0]["Key"])["Body"].read()
    assert files["SUCCEEDED"][0]["Size"] == len(written)


def test_a_catch_on_the_map_state_sees_the_exceeded_threshold(aws: LocalAWS) -> None:
    _put(["caught/a.bad"])
    definition = _map("caught/", processor=FAILS_ON_BAD)
    definition["States"]["Batch"].pop("End")
    definition["States"]["Batch"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Done"}]
    definition["States"]["Done"] = {"Type": "Pass", "End": True}
    described = _run(aws, "caught", definition)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"])["error"]["Error"] == "States.ExceedToleratedFailureThreshold"


def test_express_children_and_an_integer_percentage_are_valid_asl(aws: LocalAWS) -> None:
    """Both are AWS's ASL (and what Terraform's jsonencode writes); moto's grammar refused them."""
    _put(["express/a.png"])
    definition = _map("express/", ToleratedFailurePercentage=5)
    definition["States"]["Batch"]["ItemProcessor"]["ProcessorConfig"]["ExecutionType"] = "EXPRESS"
    assert validate_definition(json.dumps(definition)) == ("OK", [])
    described = _run(aws, "express", definition)
    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [{"key": "express/a.png"}]


def test_s3_errors_fail_the_map_with_the_reader_or_writer_error(aws: LocalAWS) -> None:
    reading = _map("x/")
    reading["States"]["Batch"]["ItemReader"]["Parameters"]["Bucket"] = "no-such-bucket"
    unreadable = _run(aws, "unreadable", reading)
    assert (unreadable["status"], unreadable["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert "NoSuchBucket" in unreadable["cause"]
    _put(["unwritable/a.png"])
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": "no-such-bucket", "Prefix": "r"}}
    unwritable = _run(aws, "unwritable", _map("unwritable/", ResultWriter=writer))
    assert (unwritable["status"], unwritable["error"]) == ("FAILED", "States.ResultWriterFailed")


def test_a_result_s_input_is_the_item_after_item_selector(aws: LocalAWS) -> None:
    # A child execution starts with the selected item, and its result keeps that input ("ResultWriter (Map)",
    # https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html); moto's gave the raw item.
    _put(["selected/a.png"])
    writer = {"Resource": "arn:aws:states:::s3:putObject", "Parameters": {"Bucket": BUCKET, "Prefix": "selected-out"}}
    selector = {"s3_bucket": BUCKET, "s3_key.$": "$$.Map.Item.Value.Key"}
    keep = {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}
    described = _run(aws, "selected", _map("selected/", processor=keep, ItemSelector=selector, ResultWriter=writer))
    assert described["status"] == "SUCCEEDED", described
    details = json.loads(described["output"])["ResultWriterDetails"]
    s3 = client("s3", aws.url)
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=details["Key"])["Body"].read())
    key = manifest["ResultFiles"]["SUCCEEDED"][0]["Key"]
    (result,) = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert json.loads(result["Input"]) == {"s3_bucket": BUCKET, "s3_key": "selected/a.png"}
