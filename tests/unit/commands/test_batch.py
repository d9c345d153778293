"""scones.batch and `scones batch` against in-memory Step Functions and S3 clients: what the definition says, the
refusal before starting, progress, reading the ResultWriter's files and the summary (the emulator runs the real
thing in tests/e2e/test_batch.py)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from click.testing import CliRunner

from scones import batch, batch_cli

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:scones-local-classify-batch"
BUCKET = "data-bucket"
DEFINITION = {
    "StartAt": "ClassifyPrefix",
    "States": {
        "ClassifyPrefix": {
            "Type": "Map",
            "ItemReader": {"Parameters": {"Bucket": BUCKET, "Prefix.$": "$.prefix"}, "ReaderConfig": {"MaxItems": 3}},
            "ResultWriter": {"Parameters": {"Bucket": BUCKET, "Prefix": "batch-results"}},
            "End": True,
        }
    },
}


class FakeS3:
    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = dict(objects)
        self.pages_read = 0

    def get_paginator(self, name: str) -> FakeS3:
        assert name == "list_objects_v2"
        return self

    def paginate(self, Bucket: str, Prefix: str) -> Any:
        keys = sorted(key for key in self.objects if key.startswith(Prefix))
        for start in range(0, max(len(keys), 1), 2):  # pages of two
            self.pages_read += 1
            page = keys[start : start + 2]
            yield {"KeyCount": len(page), "Contents": [{"Key": key} for key in page]}

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        return {"Body": io.BytesIO(self.objects[Key])}

    def put_object(self, Bucket: str, Key: str, Body: bytes, ContentType: str) -> None:
        self.objects[Key] = Body


class FakeSfn:
    def __init__(self, definition: dict[str, Any] = DEFINITION) -> None:
        self.definition = definition
        self.started: list[dict[str, Any]] = []
        self.map_runs: list[dict[str, str]] = []
        self.counts: dict[str, int] = {}

    def describe_state_machine(self, stateMachineArn: str) -> dict[str, Any]:
        return {"definition": json.dumps(self.definition)}

    def start_execution(self, **kwargs: Any) -> dict[str, str]:
        self.started.append(kwargs)
        return {"executionArn": f"{ARN}:{kwargs['name']}".replace(":stateMachine:", ":execution:")}

    def list_map_runs(self, executionArn: str) -> dict[str, Any]:
        return {"mapRuns": self.map_runs}

    def describe_map_run(self, mapRunArn: str) -> dict[str, Any]:
        return {"itemCounts": self.counts}


def _result(key: str, status: str, **fields: Any) -> dict[str, Any]:
    return {"Input": json.dumps({"s3_bucket": BUCKET, "s3_key": key, "image_data": ""}), "Status": status, **fields}


def _output(key: str, verdict: str, inferences: list[float]) -> str:
    return json.dumps({"s3_key": key, "verdict": verdict, "inferences": inferences, "ood": None})


RESULTS = {
    "batch-results/run/manifest.json": json.dumps(
        {
            "DestinationBucket": BUCKET,
            "ResultFiles": {
                "SUCCEEDED": [{"Key": "batch-results/run/SUCCEEDED_0.json"}],
                "FAILED": [{"Key": "batch-results/run/FAILED_0.json"}],
                "PENDING": [],
            },
        }
    ).encode(),
    "batch-results/run/SUCCEEDED_0.json": json.dumps(
        [
            _result("d/bicycle/a.png", "SUCCEEDED", Output=_output("d/bicycle/a.png", "classified", [0.97, 0.03])),
            _result("d/bicycle/b.png", "SUCCEEDED", Output=_output("d/bicycle/b.png", "classified", [0.02, 0.98])),
            _result(
                "d/motorcycle/c.png", "SUCCEEDED", Output=_output("d/motorcycle/c.png", "low_confidence", [0.4, 0.6])
            ),
            _result("d/x/e.png", "SUCCEEDED", Output=_output("d/x/e.png", "out_of_distribution", [0.5, 0.5])),
        ]
    ).encode(),
    "batch-results/run/FAILED_0.json": json.dumps(
        [_result("d/bicycle/z.txt", "FAILED", Error="InvalidImageError", Cause="not a PNG or JPEG image")]
    ).encode(),
}
SUCCEEDED = {
    "status": "SUCCEEDED",
    "output": json.dumps({"ResultWriterDetails": {"Bucket": BUCKET, "Key": "batch-results/run/manifest.json"}}),
}


def test_the_machine_s_definition_gives_the_bucket_limit_and_results_prefix() -> None:
    machine = batch.BatchMachine.describe(FakeSfn(), ARN)
    assert (machine.bucket, machine.max_items, machine.results_prefix) == (BUCKET, 3, "batch-results")
    with pytest.raises(batch.BatchError, match="is not a batch state machine"):
        batch.BatchMachine.describe(FakeSfn({"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}), ARN)


def test_a_prefix_over_max_items_is_refused_after_reading_just_past_the_limit() -> None:
    machine = batch.BatchMachine.describe(FakeSfn(), ARN)
    s3 = FakeS3({f"d/{n}.png": b"" for n in range(9)})
    with pytest.raises(batch.PrefixTooLargeError, match=r"holds more than 3 objects.*nothing was started"):
        batch.check_prefix(s3, machine, "d/")
    assert s3.pages_read == 2  # four keys counted, five pages not read
    assert batch.check_prefix(FakeS3({"d/a.png": b"", "d/b.png": b"", "d/c.png": b""}), machine, "d/") == 3
    assert batch.check_prefix(FakeS3({}), machine, "d/") == 0


def test_progress_comes_from_the_map_run_s_item_counts() -> None:
    sfn = FakeSfn()
    assert batch.progress(sfn, "exec") is None  # before the Map Run exists
    sfn.map_runs = [{"mapRunArn": "run"}]
    sfn.counts = {"total": 10, "succeeded": 5, "failed": 1, "timedOut": 1, "aborted": 0, "running": 3}
    assert batch.progress(sfn, "exec") == batch.Progress(done=7, total=10, failed=2)


def test_the_summary_counts_every_item_once_with_failed_keys_and_accuracy() -> None:
    summary, items = batch.summarize_execution(FakeS3(RESULTS), SUCCEEDED)
    assert len(items) == 5
    assert summary.total == 5 == sum(summary.classified.values()) + 2 + summary.failed
    assert summary.classified == {"bicycle": 1, "motorcycle": 1}
    assert (summary.low_confidence, summary.out_of_distribution, summary.failed) == (1, 1, 1)
    assert summary.failed_items == [{"key": "d/bicycle/z.txt", "error": "InvalidImageError"}]
    # Keys in a class folder count for accuracy, whatever the verdict (a.png and c.png right, b.png wrong; e.png
    # names no class, z.txt has no answer).
    assert (summary.correct, summary.labelled) == (2, 3)
    assert summary.results == f"s3://{BUCKET}/batch-results/run/manifest.json"


def _chunk(keys: list[str], status: str, **fields: Any) -> dict[str, Any]:
    """A chunked child's result: the ItemBatcher's input, and (succeeded) classify_chunk's per-item answer."""
    items = {"Items": [{"s3_key": key} for key in keys], "BatchInput": {"s3_bucket": BUCKET}}
    return {"Input": json.dumps(items), "Status": status, **fields}


def _verdict(key: str, verdict: str, inferences: list[float]) -> dict[str, Any]:
    return {"s3_key": key, "verdict": verdict, "inferences": inferences, "ood": None}


# The same five items as RESULTS, in two chunks of the chunked design, plus a chunk the endpoint failed.
CHUNKED_RESULTS = {
    **RESULTS,
    "batch-results/run/SUCCEEDED_0.json": json.dumps(
        [
            _chunk(
                ["d/bicycle/a.png", "d/bicycle/b.png", "d/bicycle/z.txt"],
                "SUCCEEDED",
                Output=json.dumps(
                    {
                        "results": [
                            _verdict("d/bicycle/a.png", "classified", [0.97, 0.03]),
                            _verdict("d/bicycle/b.png", "classified", [0.02, 0.98]),
                            {"s3_key": "d/bicycle/z.txt", "error": "InvalidImageError", "cause": "not a PNG"},
                        ]
                    }
                ),
            ),
            _chunk(
                ["d/motorcycle/c.png", "d/x/e.png"],
                "SUCCEEDED",
                Output=json.dumps(
                    {
                        "results": [
                            _verdict("d/motorcycle/c.png", "low_confidence", [0.4, 0.6]),
                            _verdict("d/x/e.png", "out_of_distribution", [0.5, 0.5]),
                        ]
                    }
                ),
            ),
        ]
    ).encode(),
    "batch-results/run/FAILED_0.json": json.dumps(
        [_chunk(["d/motorcycle/f.png", "d/motorcycle/g.png"], "FAILED", Error="EndpointInvocationError", Cause="x")]
    ).encode(),
}


def test_a_chunked_batch_is_summarized_item_by_item_as_the_per_item_one() -> None:
    per_item, _ = batch.summarize_execution(FakeS3(RESULTS), SUCCEEDED)
    chunked, items = batch.summarize_execution(FakeS3(CHUNKED_RESULTS), SUCCEEDED)
    assert len(items) == 7
    # The same five items summarize alike; the failed chunk adds each of its items as failed with its error.
    assert (chunked.classified, chunked.low_confidence, chunked.out_of_distribution) == (
        per_item.classified,
        per_item.low_confidence,
        per_item.out_of_distribution,
    )
    assert (chunked.correct, chunked.labelled) == (per_item.correct, per_item.labelled)
    assert chunked.failed_items == [
        {"key": "d/bicycle/z.txt", "error": "InvalidImageError"},
        {"key": "d/motorcycle/f.png", "error": "EndpointInvocationError"},
        {"key": "d/motorcycle/g.png", "error": "EndpointInvocationError"},
    ]
    assert chunked.total == 7 == sum(chunked.classified.values()) + 2 + chunked.failed


def test_a_failed_batch_says_why_and_has_no_results() -> None:
    execution = {"status": "FAILED", "error": "States.ExceedToleratedFailureThreshold", "cause": "too many"}
    summary, items = batch.summarize_execution(FakeS3({}), execution)
    assert (summary.status, summary.error, summary.total, items) == ("FAILED", execution["error"], 0, [])
    assert batch.write_summary(FakeS3({}), summary) is None
    assert "error: States.ExceedToleratedFailureThreshold: too many" in "\n".join(batch.summary_lines(summary))


def test_the_summary_is_written_beside_the_manifest() -> None:
    s3 = FakeS3(RESULTS)
    summary, _ = batch.summarize_execution(s3, SUCCEEDED)
    assert batch.write_summary(s3, summary) == f"s3://{BUCKET}/batch-results/run/summary.json"
    assert json.loads(s3.objects["batch-results/run/summary.json"])["accuracy"] == pytest.approx(2 / 3)


def test_the_command_refuses_a_prefix_over_the_limit_without_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    sfn, s3 = FakeSfn(), FakeS3({f"d/{n}.png": b"" for n in range(4)})

    class Session:
        def client(self, service: str) -> Any:
            return {"stepfunctions": sfn, "s3": s3}[service]

    monkeypatch.setattr(batch_cli, "make_session", lambda **_: Session())
    result = CliRunner().invoke(batch_cli.batch_cmd, ["--prefix", "d/", "--state-machine-arn", ARN])
    assert result.exit_code == 1 and "holds more than 3 objects" in result.output
    assert sfn.started == []
    result = CliRunner().invoke(batch_cli.batch_cmd, ["--prefix", "d/0", "--state-machine-arn", ARN])
    assert result.exit_code == 0, result.output
    assert [json.loads(start["input"]) for start in sfn.started] == [{"prefix": "d/0"}]


def test_the_chunked_variant_applies_the_tolerated_percentage_to_the_items_that_failed() -> None:
    chunked = batch.BatchMachine(
        ARN, BUCKET, 1000, "batch-results", items_per_chunk=25, tolerated_failure_percentage=10
    )
    per_item = batch.BatchMachine(ARN, BUCKET, 1000, "batch-results", tolerated_failure_percentage=10)
    # 3 of 7 failed (43 %), over 10 %: the chunked variant's Map Run did not count them, the summary does.
    summary, _ = batch.summarize_execution(FakeS3(CHUNKED_RESULTS), SUCCEEDED)
    assert batch.tolerate(summary, chunked).error == batch.TOO_MANY_FAILED
    assert "3 of 7 items failed (42.9%), over the 10% the batch tolerates" in str(summary.cause)
    assert summary.status == "SUCCEEDED"  # the execution did, and its results are all there
    # The per-item design's Map Run applies the threshold itself; within it, nothing changes either way.
    summary, _ = batch.summarize_execution(FakeS3(CHUNKED_RESULTS), SUCCEEDED)
    assert batch.tolerate(summary, per_item).error is None
    lenient = batch.BatchMachine(
        ARN, BUCKET, 1000, "batch-results", items_per_chunk=25, tolerated_failure_percentage=50
    )
    assert batch.tolerate(summary, lenient).error is None


def test_the_machine_s_definition_gives_the_chunk_size_and_tolerance() -> None:
    definition = FakeSfn().definition
    step = definition["States"][batch.MAP_STATE]
    chunked = {**definition, "States": {batch.MAP_STATE: {**step, "ItemBatcher": {"MaxItemsPerBatch": 25}}}}
    machine = batch.BatchMachine.describe(FakeSfn(chunked), ARN)
    assert machine.items_per_chunk == 25
    assert batch.BatchMachine.describe(FakeSfn(), ARN).items_per_chunk == 1
