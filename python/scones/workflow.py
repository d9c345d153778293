"""The workflow's client: start executions of the state machine, wait for them, say how each ended.

One client for every caller (`scones invoke`, `scones bench`, `scones demo`, the
end-to-end tests, and whatever starts executions next: S3 events, a batch, an API). Each
execution gets the seeds' input `{"image_data": "", "s3_bucket", "s3_key"}` and ends as one of
five outcomes:

- succeeded: the probabilities are the output's `body.inferences`, the out-of-distribution verdict its
  `body.ood` (`OodVerdict`; absent from records written before the guard existed);
- out of distribution: the filter raised OutOfDistributionError (the model's guard flagged the image);
  its `errorMessage` is a JSON object (message, score, inferences, s3_bucket, s3_key);
- low confidence: the filter raised ThresholdConfidenceNotMetError; the execution's cause is
  Lambda's error JSON whose `errorMessage` is itself a JSON object (message, confidence,
  threshold, inferences, s3_bucket, s3_key), read here as `ErrorDetails`;
- failed: any other error, by name; its message is prose, so there are no details;
- timed out: still running (or never started) when the caller stopped waiting.

Each state machine type is run through the API that works for it (the machine is described
once): a STANDARD execution is started with StartExecution and polled with ListExecutions and
DescribeExecution; an EXPRESS one runs with StartSyncExecution, which answers when it ends, since
Step Functions does not describe, list or keep the history of Express executions ("Choosing
workflow type in Step Functions", https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html).
Both answers carry the same fields, so both end in the same `ExecutionResult`.

The state machine's Fail states keep the failing task's Error and Cause (asl/classify_image.asl.json:
`ErrorPath`/`CausePath` `$.error`), so the cause is what the Lambda reported, unchanged.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from botocore.exceptions import ReadTimeoutError

from scones import CLASS_NAMES
from scones.data.layout import class_from_key

LOW_CONFIDENCE_ERROR = "ThresholdConfidenceNotMetError"
OUT_OF_DISTRIBUTION_ERROR = "OutOfDistributionError"
NOT_STARTED = "NOT_STARTED"  # our status for an execution the deadline came before
NO_ANSWER = "NO_ANSWER"  # our status for a synchronous execution the client stopped waiting for
EXPRESS = "EXPRESS"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    OUT_OF_DISTRIBUTION = "out_of_distribution"
    LOW_CONFIDENCE = "low_confidence"
    FAILED = "failed"
    TIMED_OUT = "timed_out"


# The two rejections: the workflow worked and a person should look at the image. Neither is a failure.
REJECTIONS = (Outcome.OUT_OF_DISTRIBUTION, Outcome.LOW_CONFIDENCE)
_OUTCOME_OF_ERROR = {
    LOW_CONFIDENCE_ERROR: Outcome.LOW_CONFIDENCE,
    OUT_OF_DISTRIBUTION_ERROR: Outcome.OUT_OF_DISTRIBUTION,
}


@dataclass(frozen=True)
class OodVerdict:
    """A record's `ood`: the model's out-of-distribution score (None: the endpoint gave none), whether it
    flagged the image, and whether it checked at all."""

    score: float | None
    flagged: bool
    checked: bool

    @classmethod
    def from_json(cls, value: Any) -> OodVerdict | None:
        """The verdict of a record's `ood` object; None when absent or not of that shape."""
        if not isinstance(value, dict):
            return None
        flagged, checked = value.get("flagged"), value.get("checked")
        if not isinstance(flagged, bool) or not isinstance(checked, bool):
            return None
        return cls(score=_number(value.get("score")), flagged=flagged, checked=checked)

    def describe(self) -> str:
        """A few words for a table: "flagged (-3.20)", "ok (1.50)", "not checked"."""
        if not self.checked:
            return "not checked"
        score = "" if self.score is None else f" ({self.score:.2f})"
        return f"{'flagged' if self.flagged else 'ok'}{score}"


@dataclass(frozen=True)
class ErrorDetails:
    """What a failing step put in its error message as a JSON object (the filter does)."""

    message: str
    score: float | None = None  # OutOfDistributionError's
    confidence: float | None = None
    threshold: float | None = None
    inferences: list[float] | None = None
    s3_bucket: str | None = None
    s3_key: str | None = None


@dataclass(frozen=True)
class ExecutionResult:
    key: str
    execution_arn: str  # "" when it was never started
    status: str  # Step Functions' status (RUNNING: we stopped waiting), or NOT_STARTED
    outcome: Outcome
    error: str | None = None
    cause: str | None = None
    details: ErrorDetails | None = None
    probabilities: list[float] | None = None
    ood: OodVerdict | None = None
    started_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def true_class(self) -> str | None:
        """The class the key's folder names (data/test/<class>/...), if it names one."""
        index = class_from_key(self.key)
        return None if index is None else CLASS_NAMES[index]

    @property
    def predicted_class(self) -> str | None:
        if not self.probabilities or len(self.probabilities) != len(CLASS_NAMES):
            return None
        return CLASS_NAMES[max(range(len(CLASS_NAMES)), key=self.probabilities.__getitem__)]

    @property
    def correct(self) -> bool | None:
        """Whether a succeeded prediction names the key's class (None: nothing to judge)."""
        if self.outcome is not Outcome.SUCCEEDED or self.true_class is None or self.predicted_class is None:
            return None
        return self.true_class == self.predicted_class

    @property
    def duration_ms(self) -> float | None:
        """Step Functions' own start-to-stop time, unblurred by our polling."""
        if self.started_at is None or self.stopped_at is None:
            return None
        return (self.stopped_at - self.started_at).total_seconds() * 1000


def _floats(values: Any) -> list[float] | None:
    if isinstance(values, list) and values and all(isinstance(v, int | float) for v in values):
        return [float(v) for v in values]
    return None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _output_body(output: str | None) -> dict[str, Any] | None:
    """The record of a succeeded execution's output (bare, {"body": ...} or body as a JSON string)."""
    try:
        data = json.loads(output or "null")
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    body = data.get("body", data)
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except json.JSONDecodeError:
            return None
    return body if isinstance(body, dict) else None


def probabilities_from_output(output: str | None) -> list[float] | None:
    """body.inferences of a succeeded execution's output."""
    body = _output_body(output)
    return _floats(body.get("inferences")) if body else None


def ood_from_output(output: str | None) -> OodVerdict | None:
    """body.ood of a succeeded execution's output (None for a record without one)."""
    body = _output_body(output)
    return OodVerdict.from_json(body.get("ood")) if body else None


def error_details(cause: str | None) -> ErrorDetails | None:
    """The details of a failure whose cause is Lambda's error JSON with a JSON-object errorMessage;
    None for a prose message, a cause that is not Lambda's error JSON, or no cause."""
    try:
        error = json.loads(cause or "null")
        message = json.loads(error["errorMessage"]) if isinstance(error, dict) else None
    except (json.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(message, dict):
        return None
    return ErrorDetails(
        message=_text(message.get("message")) or "",
        score=_number(message.get("score")),
        confidence=_number(message.get("confidence")),
        threshold=_number(message.get("threshold")),
        inferences=_floats(message.get("inferences")),
        s3_bucket=_text(message.get("s3_bucket")),
        s3_key=_text(message.get("s3_key")),
    )


def classify(key: str, execution: dict[str, Any]) -> ExecutionResult:
    """How one execution ended, from describe_execution's or start_sync_execution's answer."""
    status = execution["status"]
    common = {
        "key": key,
        "execution_arn": execution["executionArn"],
        "status": status,
        "started_at": execution.get("startDate"),
        "stopped_at": execution.get("stopDate"),
    }
    if status == "SUCCEEDED":
        output = execution.get("output")
        return ExecutionResult(
            **common,
            outcome=Outcome.SUCCEEDED,
            probabilities=probabilities_from_output(output),
            ood=ood_from_output(output),
        )
    if status == "RUNNING":
        return ExecutionResult(**common, outcome=Outcome.TIMED_OUT, error="still RUNNING when the wait ended")
    error = execution.get("error") or status
    cause = execution.get("cause")
    details = error_details(cause)
    outcome = _OUTCOME_OF_ERROR.get(error, Outcome.FAILED)
    return ExecutionResult(
        **common,
        outcome=outcome,
        error=error,
        cause=cause,
        details=details,
        probabilities=details.inferences if details else None,
        # The filter raises OutOfDistributionError only for a flagged image, so its verdict is known.
        ood=OodVerdict(details.score if details else None, True, True)
        if outcome is Outcome.OUT_OF_DISTRIBUTION
        else None,
    )


def execution_input(bucket: str, key: str) -> str:
    """The seeds' input: the image is read from S3 by the first step, so image_data stays empty."""
    return json.dumps({"image_data": "", "s3_bucket": bucket, "s3_key": key})


def _running_arns(sfn: Any, state_machine_arn: str) -> set[str]:
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn, statusFilter="RUNNING")
    return {execution["executionArn"] for page in pages for execution in page["executions"]}


def state_machine_type(sfn: Any, state_machine_arn: str) -> str:
    """STANDARD or EXPRESS."""
    return str(sfn.describe_state_machine(stateMachineArn=state_machine_arn)["type"])


def run_executions(
    sfn: Any,
    state_machine_arn: str,
    bucket: str,
    keys: Sequence[str],
    *,
    concurrency: int = 8,
    poll_interval: float = 0.2,
    max_poll_interval: float = 5.0,
    timeout_seconds: float = 300.0,
    name_prefix: str = "scones",
    on_done: Callable[[ExecutionResult], None] = lambda result: None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[ExecutionResult]:
    """One execution per key, at most `concurrency` at once, results in the keys' order.

    After `timeout_seconds` the running ones are reported as they stand (timed out) and the rest
    as not started. `on_done` hears of each execution as it ends. The polling parameters only
    apply to a STANDARD machine (see `_run_standard`); an EXPRESS one answers each start when the
    execution ends.
    """
    names = _execution_names(name_prefix)
    if state_machine_type(sfn, state_machine_arn) == EXPRESS:
        return _run_express(sfn, state_machine_arn, bucket, keys, names, concurrency, timeout_seconds, on_done, clock)
    return _run_standard(
        sfn,
        state_machine_arn,
        bucket,
        keys,
        names,
        concurrency=concurrency,
        poll_interval=poll_interval,
        max_poll_interval=max_poll_interval,
        timeout_seconds=timeout_seconds,
        on_done=on_done,
        sleep=sleep,
        clock=clock,
    )


def _execution_names(name_prefix: str) -> Callable[[int], str]:
    # Explicit names: unique per run, and moto's generated names collide on a second call.
    run_id = uuid.uuid4().hex[:8]
    return lambda index: f"{name_prefix}-{run_id}-{index:05d}"


def _not_started(key: str) -> ExecutionResult:
    return ExecutionResult(key, "", NOT_STARTED, Outcome.TIMED_OUT, error="not started before the timeout")


def _run_express(
    sfn: Any,
    state_machine_arn: str,
    bucket: str,
    keys: Sequence[str],
    names: Callable[[int], str],
    concurrency: int,
    timeout_seconds: float,
    on_done: Callable[[ExecutionResult], None],
    clock: Callable[[], float],
) -> list[ExecutionResult]:
    """StartSyncExecution per key from `concurrency` threads; each call returns when its execution
    has ended. A key whose turn comes after the deadline is not started; a call the client stops
    waiting for (its read timeout) is reported timed out, with no ARN: none was answered."""
    deadline = clock() + timeout_seconds

    def run(index: int, key: str) -> ExecutionResult:
        if clock() >= deadline:
            return _not_started(key)
        try:
            answer = sfn.start_sync_execution(
                stateMachineArn=state_machine_arn, name=names(index), input=execution_input(bucket, key)
            )
        except ReadTimeoutError as exc:
            return ExecutionResult(key, "", NO_ANSWER, Outcome.TIMED_OUT, error=f"no answer: {exc}")
        return classify(key, answer)

    results: dict[int, ExecutionResult] = {}
    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        futures = {pool.submit(run, index, key): index for index, key in enumerate(keys)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            on_done(results[futures[future]])
    return [results[index] for index in sorted(results)]


def _running_arns(sfn: Any, state_machine_arn: str) -> set[str]:
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn, statusFilter="RUNNING")
    return {execution["executionArn"] for page in pages for execution in page["executions"]}


def _run_standard(
    sfn: Any,
    state_machine_arn: str,
    bucket: str,
    keys: Sequence[str],
    names: Callable[[int], str],
    *,
    concurrency: int,
    poll_interval: float,
    max_poll_interval: float,
    timeout_seconds: float,
    on_done: Callable[[ExecutionResult], None],
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> list[ExecutionResult]:
    """StartExecution per key, then polls every `poll_interval` seconds while executions end,
    backing off to `max_poll_interval` while none does. A poll is one listing of the machine's
    running executions plus one describe per execution that ended, so many executions in flight
    do not load the service (or the emulator a benchmark measures); the listing includes other
    callers' running executions, a page per thousand."""
    pending = list(enumerate(keys))
    running: dict[str, tuple[int, str]] = {}
    results: dict[int, ExecutionResult] = {}
    deadline = clock() + timeout_seconds
    delay = poll_interval

    def finish(index: int, result: ExecutionResult) -> None:
        results[index] = result
        on_done(result)

    while pending or running:
        while pending and len(running) < concurrency:
            index, key = pending.pop(0)
            started = sfn.start_execution(
                stateMachineArn=state_machine_arn, name=names(index), input=execution_input(bucket, key)
            )
            running[started["executionArn"]] = (index, key)
        still_running = _running_arns(sfn, state_machine_arn)
        progressed = False
        for arn in [arn for arn in running if arn not in still_running]:
            execution = sfn.describe_execution(executionArn=arn)
            if execution["status"] == "RUNNING":  # the listing lagged behind its start
                continue
            index, key = running.pop(arn)
            finish(index, classify(key, execution))
            progressed = True
        if not pending and not running:
            break
        if clock() >= deadline:
            for arn, (index, key) in running.items():
                finish(index, classify(key, sfn.describe_execution(executionArn=arn)))
            for index, key in pending:  # report them rather than drop them
                finish(index, _not_started(key))
            break
        delay = poll_interval if progressed else min(delay * 1.5, max_poll_interval)
        sleep(delay)
    return [results[index] for index in sorted(results)]


def result_row(result: ExecutionResult) -> dict[str, Any]:
    """One execution as a JSON object (a row of `scones invoke --json` and the demo's invoke.json)."""
    return {
        "key": result.key,
        "true_class": result.true_class,
        "execution_arn": result.execution_arn,
        "status": result.status,
        "outcome": str(result.outcome),
        "error": result.error,
        "probabilities": result.probabilities,
        "ood": None
        if result.ood is None
        else {"score": result.ood.score, "flagged": result.ood.flagged, "checked": result.ood.checked},
        "predicted_class": result.predicted_class,
        "correct": result.correct,
    }


def summarize(results: Sequence[ExecutionResult]) -> dict[str, Any]:
    """Counts per outcome, the accuracy of the succeeded predictions, and one row per execution."""
    judged = [result.correct for result in results if result.correct is not None]
    return {
        "executions": len(results),
        **{str(outcome): sum(result.outcome is outcome for result in results) for outcome in Outcome},
        "succeeded_accuracy": (sum(judged) / len(judged)) if judged else None,
        "rows": [result_row(result) for result in results],
    }


def summary_line(summary: dict[str, Any]) -> str:
    """One line of what `summarize` counted."""
    accuracy = summary["succeeded_accuracy"]
    shown = f"{accuracy:.1%}" if accuracy is not None else "n/a"
    return (
        f"{summary['executions']} executions: {summary['succeeded']} succeeded, "
        f"{summary['out_of_distribution']} out of distribution, "
        f"{summary['low_confidence']} low confidence, {summary['failed']} failed, "
        f"{summary['timed_out']} timed out; accuracy of succeeded predictions: {shown}"
    )
