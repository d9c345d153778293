"""A Distributed Map with an ItemBatcher on the emulator gives each child a batch of items, as AWS documents
("ItemBatcher (Map)", https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html):
`{"Items": [...], "BatchInput": {...}}`; a failed child fails all the items of its batch for the tolerated
failure threshold (moto's grammar refused ItemBatcher)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from scones.local.server import LocalAWS
from scones.local.services.stepfunctions import validate_definition
from scones.local.services.stepfunctions_item_batcher import ItemBatcher
from tests.support.local_fixtures import client
from tests.unit.local.test_stepfunctions_distributed_map import BUCKET, _map, _put, _run


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        client("s3", emulator.url).create_bucket(Bucket=BUCKET)
        yield emulator


# A child's output is its input: the batch exactly as it arrived.
ECHO = {"StartAt": "Echo", "States": {"Echo": {"Type": "Pass", "End": True}}}
# Fails a batch whose first key ends in ".bad" (the tests' ".bad" keys sort first in their batch).
FAILS_A_BATCH_WITH_BAD = {
    "StartAt": "First",
    "States": {
        "First": {"Type": "Pass", "Parameters": {"first.$": "States.ArrayGetItem($.Items, 0)"}, "Next": "Decide"},
        "Decide": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.first.key", "StringMatches": "*.bad", "Next": "Bad"}],
            "Default": "Good",
        },
        "Bad": {"Type": "Fail", "Error": "NotAnImage", "Cause": "cannot decode"},
        "Good": {"Type": "Succeed"},
    },
}


def _batched(prefix: str, processor: dict[str, Any], batcher: dict[str, Any], **fields: Any) -> dict[str, Any]:
    definition = _map(prefix, processor=processor, ItemBatcher=batcher, **fields)
    definition["States"]["Batch"]["ItemSelector"] = {"key.$": "$$.Map.Item.Value.Key"}
    return definition


def test_children_get_batches_of_max_items_per_batch_and_the_last_batch_holds_the_rest(aws: LocalAWS) -> None:
    keys = [f"batched/{index:02d}.png" for index in range(7)]
    _put(keys)
    described = _run(aws, "batched", _batched("batched/", ECHO, {"MaxItemsPerBatch": 3}))
    assert described["status"] == "SUCCEEDED", described
    batches = json.loads(described["output"])
    # Each child's input is {"Items": [...]} of items after ItemSelector; no BatchInput without one.
    assert [list(batch) for batch in batches] == [["Items"]] * 3
    assert [[item["key"] for item in batch["Items"]] for batch in batches] == [keys[0:3], keys[3:6], keys[6:7]]


def test_batch_input_is_merged_into_every_child_s_input(aws: LocalAWS) -> None:
    _put([f"with-input/{index}.png" for index in range(4)])
    batcher = {"MaxItemsPerBatch": 2, "BatchInput": {"s3_bucket": BUCKET, "threshold": 0.9}}
    described = _run(aws, "with-input", _batched("with-input/", ECHO, batcher))
    assert described["status"] == "SUCCEEDED", described
    batches = json.loads(described["output"])
    assert len(batches) == 2
    for batch in batches:
        assert batch["BatchInput"] == {"s3_bucket": BUCKET, "threshold": 0.9}
        assert len(batch["Items"]) == 2


def test_max_input_bytes_per_batch_closes_a_batch_before_it_grows_past_the_limit() -> None:
    items = [{"Key": f"k/{index}", "pad": "x" * 80} for index in range(10)]
    one = len(json.dumps(items[0], separators=(",", ":"))) + 1
    batcher = ItemBatcher(max_items=None, max_bytes=len('{"Items":[]}') + 3 * one, batch_input=None)
    assert [len(batch) for batch in batcher.batches(items)] == [3, 3, 3, 1]
    both = ItemBatcher(max_items=2, max_bytes=len('{"Items":[]}') + 3 * one, batch_input=None)
    assert [len(batch) for batch in both.batches(items)] == [2, 2, 2, 2, 2]


def test_a_failed_batch_fails_all_its_items_for_the_tolerated_percentage(aws: LocalAWS) -> None:
    # 10 items in batches of 5, one ".bad" in the first: 5 of 10 items failed (50%), not 1 of 2 children.
    _put([f"tolerance/{index}.png" for index in range(9)] + ["tolerance/0.bad"])
    within = _batched("tolerance/", FAILS_A_BATCH_WITH_BAD, {"MaxItemsPerBatch": 5}, ToleratedFailurePercentage=50)
    described = _run(aws, "tolerance-within", within)
    assert described["status"] == "SUCCEEDED", described
    sfn = client("stepfunctions", aws.url)
    (run,) = sfn.list_map_runs(executionArn=described["executionArn"])["mapRuns"]
    counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"])
    assert (counts["itemCounts"]["total"], counts["itemCounts"]["failed"]) == (10, 5)
    assert (counts["executionCounts"]["total"], counts["executionCounts"]["failed"]) == (2, 1)

    # One failed child of two is 50%, but its 5 items of 10 are over a 40% tolerance.
    over = _batched("tolerance/", FAILS_A_BATCH_WITH_BAD, {"MaxItemsPerBatch": 5}, ToleratedFailurePercentage=40)
    described = _run(aws, "tolerance-over", over)
    assert described["status"] == "FAILED"
    assert described["error"] == "States.ExceedToleratedFailureThreshold"


def test_a_failed_batch_s_result_keeps_its_items_and_error(aws: LocalAWS) -> None:
    _put(["failed-batch/a.bad", "failed-batch/b.png"])
    definition = _batched(
        "failed-batch/", FAILS_A_BATCH_WITH_BAD, {"MaxItemsPerBatch": 2}, ToleratedFailurePercentage=100
    )
    described = _run(aws, "failed-batch", definition)
    (result,) = json.loads(described["output"])
    assert result["Status"] == "FAILED" and result["Error"] == "NotAnImage"
    assert [item["key"] for item in json.loads(result["Input"])["Items"]] == [
        "failed-batch/a.bad",
        "failed-batch/b.png",
    ]


@pytest.mark.parametrize(
    ("batcher", "message"),
    [
        ({}, "needs MaxItemsPerBatch or MaxInputBytesPerBatch"),
        ({"MaxItemsPerBatch": 0}, "MaxItemsPerBatch must be a whole number"),
        ({"MaxInputBytesPerBatch": 300 * 1024}, "MaxInputBytesPerBatch must be a whole number from 1 to 262144"),
        ({"MaxItemsPerBatchPath": "$.size"}, "not supported by the emulator"),
        ({"MaxItemsPerBatch": 2, "BatchInput": {"bucket.$": "$.bucket"}}, "paths (.$ keys) in BatchInput"),
    ],
)
def test_an_item_batcher_it_cannot_run_is_an_invalid_definition(batcher: dict[str, Any], message: str) -> None:
    result, diagnostics = validate_definition(json.dumps(_batched("x/", ECHO, batcher)))
    assert result == "FAIL"
    assert message in diagnostics[0]["message"]


def test_a_valid_item_batcher_is_a_valid_definition() -> None:
    assert validate_definition(json.dumps(_batched("x/", ECHO, {"MaxItemsPerBatch": 25})))[0] == "OK"
