"""Batch classification of an S3 prefix: start the batch state machine, follow its Map Run, summarize its results.

The batch state machine (terraform/modules/batch) is one Distributed Map over the objects under a prefix of the
data bucket; each item runs the classification workflow's three functions in an EXPRESS child workflow and ends
as one of:

- a result (the child succeeded): `classified`, `low_confidence` or `out_of_distribution`, with the model's
  probabilities (the child's output: `s3_key`, `verdict`, `inferences`, `ood`);
- a failure (the child failed): a missing or unreadable object, a non-image, an endpoint error, by error name.

In the chunked variant (the stack's `batch_items_per_chunk` > 1) a child classifies a chunk of objects with one
function, lambdas/classify_chunk, and answers one of the above per object (`{"results": [...]}`, an error name
in place of a failed child); a chunk that fails as a whole (the endpoint's error) fails each of its objects with
that error. `read_items` reads either design's results into the same items, so the summary is the same.

The Map's `ResultWriter` writes every child's result under `<results prefix>/<map run id>/` with a
`manifest.json` that lists the files ("ResultWriter (Map)",
https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html); `read_items` reads them back
and `summarize` counts them. Failures do not stop the batch until more than the Map's
`ToleratedFailurePercentage` of the items failed: then the Map Run, and the execution, fail with
`States.ExceedToleratedFailureThreshold` ("Tolerated failure threshold for Distributed Map state",
https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).

The machine's own definition says what a batch may do (its bucket, `ReaderConfig.MaxItems`, results prefix), so
a caller needs only its ARN: `check_prefix` counts the prefix's objects before anything starts and refuses one
over MaxItems, which the Map would otherwise silently cut to its first MaxItems objects.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from scones import CLASS_NAMES
from scones.data.layout import class_from_key

MAP_STATE = "ClassifyPrefix"
RESULT_STATUSES = ("SUCCEEDED", "FAILED", "PENDING")
VERDICTS = ("classified", "low_confidence", "out_of_distribution")
SUMMARY_FILE = "summary.json"


class BatchError(Exception):
    """A batch that cannot be started or did not end as a batch should (the message says why)."""


class PrefixTooLargeError(BatchError):
    """The prefix holds more objects than the batch's MaxItems."""


# The summary's error when, in the chunked variant, more items failed than the batch tolerates (see tolerate).
TOO_MANY_FAILED = "TooManyFailedItems"


@dataclass(frozen=True)
class BatchMachine:
    """What the batch state machine's definition says about every batch it runs."""

    arn: str
    bucket: str
    max_items: int
    results_prefix: str
    items_per_chunk: int = 1  # the chunked variant's ItemBatcher.MaxItemsPerBatch; 1 without one
    tolerated_failure_percentage: float = 0.0  # the Map's ToleratedFailurePercentage

    @classmethod
    def describe(cls, sfn: Any, arn: str) -> BatchMachine:
        definition = json.loads(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
        try:
            step = definition["States"][MAP_STATE]
            return cls(
                arn=arn,
                bucket=step["ItemReader"]["Parameters"]["Bucket"],
                max_items=int(step["ItemReader"]["ReaderConfig"]["MaxItems"]),
                results_prefix=step["ResultWriter"]["Parameters"]["Prefix"],
                items_per_chunk=int(step.get("ItemBatcher", {}).get("MaxItemsPerBatch", 1)),
                tolerated_failure_percentage=float(step.get("ToleratedFailurePercentage", 0)),
            )
        except (KeyError, TypeError) as exc:
            raise BatchError(f"{arn} is not a batch state machine (its {MAP_STATE} state has no {exc})") from None


@dataclass(frozen=True)
class Progress:
    done: int  # items that succeeded, failed, timed out or were aborted
    total: int
    failed: int


@dataclass(frozen=True)
class Item:
    """One object of the batch, as its child workflow ended."""

    key: str
    verdict: str | None  # one of VERDICTS; None for a failed item
    probabilities: list[float] | None = None
    error: str | None = None  # the failed child's error name
    cause: str | None = None

    @property
    def predicted_class(self) -> str | None:
        if not self.probabilities:
            return None
        return CLASS_NAMES[max(range(len(self.probabilities)), key=self.probabilities.__getitem__)]

    @property
    def confidence(self) -> float | None:
        return max(self.probabilities) if self.probabilities else None

    @property
    def true_class(self) -> str | None:
        index = class_from_key(self.key)
        return None if index is None else CLASS_NAMES[index]


@dataclass
class Summary:
    status: str  # the batch execution's
    total: int = 0
    classified: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CLASS_NAMES, 0))
    low_confidence: int = 0
    out_of_distribution: int = 0
    failed: int = 0
    failed_items: list[dict[str, str | None]] = field(default_factory=list)  # key, error
    labelled: int = 0  # results whose key names their class (a class folder), for accuracy
    correct: int = 0
    results: str | None = None  # s3://bucket/key of the manifest
    error: str | None = None  # the execution's error when it failed
    cause: str | None = None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.labelled if self.labelled else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "accuracy": self.accuracy}


def count_objects(s3: Any, bucket: str, prefix: str, limit: int) -> int:
    """The objects under the prefix, counting at most limit + 1 (enough to say the prefix is over limit)."""
    count = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        count += page.get("KeyCount", len(page.get("Contents", [])))
        if count > limit:
            return count
    return count


def check_prefix(s3: Any, machine: BatchMachine, prefix: str) -> int:
    """The prefix's object count, or PrefixTooLargeError when the Map would not reach all of them."""
    count = count_objects(s3, machine.bucket, prefix, machine.max_items)
    if count > machine.max_items:
        raise PrefixTooLargeError(
            f"s3://{machine.bucket}/{prefix} holds more than {machine.max_items} objects, the batch's limit "
            f"(batch_max_items): nothing was started. Split it into smaller prefixes or raise batch_max_items."
        )
    return count


def start(sfn: Any, machine: BatchMachine, prefix: str, name: str | None = None) -> str:
    name = name or f"batch-{uuid.uuid4().hex[:12]}"
    return str(
        sfn.start_execution(stateMachineArn=machine.arn, name=name, input=json.dumps({"prefix": prefix}))[
            "executionArn"
        ]
    )


def progress(sfn: Any, execution_arn: str) -> Progress | None:
    """The Map Run's item counts (ListMapRuns, DescribeMapRun); None before the Map Run exists."""
    runs = sfn.list_map_runs(executionArn=execution_arn).get("mapRuns", [])
    if not runs:
        return None
    counts = sfn.describe_map_run(mapRunArn=runs[-1]["mapRunArn"])["itemCounts"]
    done = sum(counts.get(status, 0) for status in ("succeeded", "failed", "timedOut", "aborted"))
    return Progress(done=done, total=counts.get("total", 0), failed=counts.get("failed", 0) + counts.get("timedOut", 0))


def wait(
    sfn: Any,
    execution_arn: str,
    *,
    timeout_seconds: float,
    on_progress: Callable[[Progress], None] | None = None,
    poll_seconds: float = 0.5,
) -> dict[str, Any]:
    """describe_execution's answer once the batch has ended; BatchError if it has not within the timeout."""
    deadline = time.monotonic() + timeout_seconds
    last: Progress | None = None
    while True:
        execution = sfn.describe_execution(executionArn=execution_arn)
        if on_progress is not None:
            current = progress(sfn, execution_arn)
            if current is not None and current != last:
                on_progress(current)
                last = current
        if execution["status"] != "RUNNING":
            return dict(execution)
        if time.monotonic() > deadline:
            raise BatchError(f"the batch {execution_arn} was still running after {timeout_seconds:.0f}s")
        time.sleep(poll_seconds)


def _items(entry: dict[str, Any]) -> list[Item]:
    """The items of one child's result: one item, or, in the chunked design, every item of its chunk (the
    child's input is `{"Items": [...], "BatchInput": ...}` and its output `{"results": [...]}`, one per item:
    lambdas/classify_chunk). A failed chunk fails each of its items with the chunk's error, as the Map Run
    counts them."""
    child_input = json.loads(entry.get("Input") or "{}")
    chunk = child_input.get("Items") if isinstance(child_input, dict) else None
    if not isinstance(chunk, list):
        return [_item(entry, str(child_input.get("s3_key", "?")))]
    if entry.get("Status") != "SUCCEEDED":
        return [_item(entry, str(item.get("s3_key", "?"))) for item in chunk]
    return [_result(result) for result in json.loads(entry.get("Output") or "{}").get("results", [])]


def _item(entry: dict[str, Any], key: str) -> Item:
    if entry.get("Status") == "SUCCEEDED":
        return _result({"s3_key": key, **json.loads(entry.get("Output") or "{}")})
    return Item(key=key, verdict=None, error=entry.get("Error") or entry.get("Status"), cause=entry.get("Cause"))


def _result(result: dict[str, Any]) -> Item:
    """An item from what its child (or its chunk) answered: a verdict, or an error of its own."""
    key = str(result.get("s3_key", "?"))
    if result.get("error"):
        return Item(key=key, verdict=None, error=str(result["error"]), cause=result.get("cause"))
    return Item(key=key, verdict=result.get("verdict"), probabilities=result.get("inferences") or None)


def read_items(s3: Any, bucket: str, manifest_key: str) -> list[Item]:
    """Every item the ResultWriter wrote for one Map Run, from its manifest's result files."""
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    items = []
    for status in RESULT_STATUSES:
        for result_file in manifest.get("ResultFiles", {}).get(status, []):
            body = s3.get_object(Bucket=manifest["DestinationBucket"], Key=result_file["Key"])["Body"].read()
            for entry in json.loads(body):
                items.extend(_items(entry))
    return items


def summarize(status: str, items: Iterable[Item], results: str | None = None) -> Summary:
    summary = Summary(status=status, results=results)
    for item in items:
        summary.total += 1
        if item.verdict is None:
            summary.failed += 1
            summary.failed_items.append({"key": item.key, "error": item.error})
            continue
        if item.verdict == "classified" and item.predicted_class is not None:
            summary.classified[item.predicted_class] += 1
        elif item.verdict == "low_confidence":
            summary.low_confidence += 1
        elif item.verdict == "out_of_distribution":
            summary.out_of_distribution += 1
        if item.true_class is not None and item.predicted_class is not None:
            summary.labelled += 1
            summary.correct += item.true_class == item.predicted_class
    summary.failed_items.sort(key=lambda failed: str(failed["key"]))
    return summary


def summarize_execution(s3: Any, execution: dict[str, Any]) -> tuple[Summary, list[Item]]:
    """The summary of an ended batch execution, from the results its Map Run wrote (none when it failed)."""
    if execution["status"] != "SUCCEEDED":
        summary = Summary(status=execution["status"], error=execution.get("error"), cause=execution.get("cause"))
        return summary, []
    details = json.loads(execution["output"])["ResultWriterDetails"]
    items = read_items(s3, details["Bucket"], details["Key"])
    return summarize("SUCCEEDED", items, f"s3://{details['Bucket']}/{details['Key']}"), items


def tolerate(summary: Summary, machine: BatchMachine) -> Summary:
    """The chunked variant's tolerated failure threshold, applied to the summary.

    The Map Run's ToleratedFailurePercentage counts the items of failed children ("Tolerated failure threshold
    for Distributed Map state", https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).
    In the chunked variant an image's own failure (a non-image, a missing object) is a result of a chunk that
    succeeded, so the Map counts only whole chunks that failed (the endpoint's error): the same percentage is
    applied here to the items the summary counts as failed. Past it, the summary says TooManyFailedItems (the
    execution itself succeeded, and its results are all there) and `scones batch` exits 1."""
    if machine.items_per_chunk <= 1 or summary.status != "SUCCEEDED" or not summary.total:
        return summary
    share = summary.failed * 100.0 / summary.total
    if share > machine.tolerated_failure_percentage:
        summary.error = TOO_MANY_FAILED
        summary.cause = (
            f"{summary.failed} of {summary.total} items failed ({share:.1f}%), over the "
            f"{machine.tolerated_failure_percentage:g}% the batch tolerates (batch_tolerated_failure_percentage)"
        )
    return summary


def write_summary(s3: Any, summary: Summary) -> str | None:
    """summary.json beside the manifest; its s3:// URI (None when the batch wrote no results)."""
    if summary.results is None:
        return None
    bucket, manifest_key = summary.results.removeprefix("s3://").split("/", 1)
    key = f"{manifest_key.rsplit('/', 1)[0]}/{SUMMARY_FILE}"
    s3.put_object(
        Bucket=bucket, Key=key, Body=json.dumps(summary.as_dict(), indent=2).encode(), ContentType="application/json"
    )
    return f"s3://{bucket}/{key}"


def summary_lines(summary: Summary) -> list[str]:
    """The summary for a person."""
    lines = [f"batch {summary.status}: {summary.total} item(s)"]
    if summary.error:
        lines.append(f"  error: {summary.error}: {summary.cause or ''}".rstrip(": "))
    if summary.total:
        lines.append("  classified: " + ", ".join(f"{name} {count}" for name, count in summary.classified.items()))
        lines.append(f"  low confidence: {summary.low_confidence}, out of distribution: {summary.out_of_distribution}")
        lines.append(f"  failed: {summary.failed}")
        lines.extend(f"    {failed['key']}: {failed['error']}" for failed in summary.failed_items)
    if summary.accuracy is not None:
        lines.append(
            f"  accuracy against the class folders: {summary.accuracy:.1%} ({summary.correct}/{summary.labelled})"
        )
    if summary.results:
        lines.append(f"  results: {summary.results}")
    return lines
