"""The smoke test after an apply: N workflow executions on test images through the state machine.

None may fail or time out; low confidence and out of distribution are the workflow working (a person
looks at the image), so they pass. Each execution's image goes through the endpoint, so its capture
record must appear under the capture destination: all of them when the endpoint captures every
request, at least one when it samples (InitialSamplingPercentage below 100).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain, zip_longest
from typing import Any

from scones.monitor.capture import decode_capture_line
from scones.monitor.errors import CorruptCaptureRecordError
from scones.monitor.sources import S3CaptureSource, iter_capture_lines
from scones.workflow import Outcome, run_executions, summarize, summary_line

FAILURES = (Outcome.FAILED, Outcome.TIMED_OUT)


@dataclass
class SmokeResult:
    outcomes: dict[str, int]
    failed: list[dict[str, str]]  # key, outcome, error
    captured: int
    captures_expected: int
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failed and self.captured >= self.captures_expected

    def reason(self) -> str:
        parts = []
        if self.failed:
            first = self.failed[0]
            parts.append(
                f"{len(self.failed)} of {sum(self.outcomes.values())} executions failed "
                f"(first: {first['key']}: {first['outcome']} {first['error']})"
            )
        if self.captured < self.captures_expected:
            parts.append(f"{self.captured} of {self.captures_expected} capture records appeared")
        return "; ".join(parts) or "passed"

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "outcomes": self.outcomes,
            "failed": self.failed,
            "captured": self.captured,
            "captures_expected": self.captures_expected,
            **self.details,
        }


def smoke_keys(s3: Any, bucket: str, prefix: str, count: int) -> list[str]:
    """`count` test images, taking the classes in turn (data/test/<class>/...)."""
    by_class: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix.strip('/')}/test/"):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".png"):
                by_class.setdefault(obj["Key"].rsplit("/", 2)[-2], []).append(obj["Key"])
    rounds = zip_longest(*(sorted(keys) for _, keys in sorted(by_class.items())))
    return [key for key in chain.from_iterable(rounds) if key is not None][:count]


def _captured_ids(s3: Any, capture_uri: str, since: float) -> set[str]:
    ids = set()
    for line in iter_capture_lines(S3CaptureSource(capture_uri, s3)):
        try:
            record = decode_capture_line(line.data, line.location)
        except CorruptCaptureRecordError:
            continue
        if record.inference_id and record.inference_time.timestamp() >= since:
            ids.add(record.inference_id)
    return ids


def count_captured(
    s3: Any,
    capture_uri: str,
    keys: list[str],
    since: float,
    expected: int,
    *,
    timeout_seconds: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """How many of `keys` have a capture record since `since` (epoch seconds), waiting up to the
    timeout for `expected` of them. The workflow's InferenceId is the key's tail (classify_image)."""
    deadline = clock() + timeout_seconds
    while True:
        ids = _captured_ids(s3, capture_uri, since)
        found = sum(any(key.endswith(inference_id) for inference_id in ids) for key in keys)
        if found >= expected or clock() >= deadline:
            return found
        sleep(2)


def sampling_percentage(sagemaker: Any, endpoint_name: str) -> float:
    config_name = sagemaker.describe_endpoint(EndpointName=endpoint_name)["EndpointConfigName"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)
    capture = config.get("DataCaptureConfig") or {}
    return float(capture.get("InitialSamplingPercentage", 0)) if capture.get("EnableCapture", True) else 0.0


def smoke_test(session: Any, stack: dict[str, Any], count: int, *, capture_timeout_seconds: float) -> SmokeResult:
    s3 = session.client("s3")
    bucket = stack["data_bucket_name"]
    keys = smoke_keys(s3, bucket, stack.get("data_prefix") or "data", count)
    if not keys:
        return SmokeResult({}, [{"key": f"s3://{bucket}/data/test/", "outcome": "no images", "error": ""}], 0, 0)
    started = time.time() - 1  # capture times are whole seconds on some writers
    results = run_executions(
        session.client("stepfunctions"),
        stack["state_machine_arn"],
        bucket,
        keys,
        concurrency=len(keys),
        timeout_seconds=300,
        name_prefix="release-smoke",
    )
    failed = [
        {"key": r.key, "outcome": str(r.outcome), "error": f"{r.error or ''}: {(r.cause or '')[:300]}"}
        for r in results
        if r.outcome in FAILURES
    ]
    percentage = sampling_percentage(session.client("sagemaker"), stack["endpoint_name"])
    expected = len(keys) if percentage >= 100 else (1 if percentage > 0 else 0)
    # Failed executions may never have reached the model: no use waiting for their records.
    captured = count_captured(
        s3, stack["capture_s3_uri"], keys, started, expected, timeout_seconds=0 if failed else capture_timeout_seconds
    )
    outcomes = {str(outcome): sum(r.outcome is outcome for r in results) for outcome in Outcome}
    return SmokeResult(outcomes, failed, captured, expected, {"line": summary_line(summarize(results))})
