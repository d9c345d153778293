"""Wait for a training job, echoing its status transitions, then summarise the outcome."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from scones.aws import parse_s3_uri
from scones.training.errors import TrainingJobFailedError, TrainingTimeoutError

TERMINAL = {"Completed", "Failed", "Stopped"}


@dataclass
class TrainingOutcome:
    job_name: str
    status: str
    artifact_uri: str | None
    artifact_exists: bool
    metrics: dict[str, float] = field(default_factory=dict)
    training_image: str = ""
    billable_seconds: int | None = None


def wait_for_training_job(
    sagemaker: Any,
    job_name: str,
    *,
    echo: Callable[[str], None],
    poll_seconds: float = 30.0,
    timeout_seconds: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """Poll DescribeTrainingJob until the job ends; echo each new status/secondary transition."""
    started = clock()
    seen_transitions = 0
    last_status = None
    while True:
        job = sagemaker.describe_training_job(TrainingJobName=job_name)
        transitions = job.get("SecondaryStatusTransitions", [])
        for transition in transitions[seen_transitions:]:
            echo(f"  [{transition['Status']}] {transition.get('StatusMessage', '')}".rstrip())
        seen_transitions = len(transitions)
        status = job["TrainingJobStatus"]
        if status != last_status:
            echo(f"{job_name}: {status} ({job.get('SecondaryStatus', '')})")
            last_status = status
        if status in TERMINAL:
            return job
        if timeout_seconds is not None and clock() - started > timeout_seconds:
            raise TrainingTimeoutError(
                f"{job_name} still {status} after {timeout_seconds:.0f}s; it keeps running in SageMaker. "
                f"Check later with `aws sagemaker describe-training-job --training-job-name {job_name}`"
            )
        sleep(poll_seconds)


def artifact_exists(s3: Any, uri: str) -> bool:
    bucket, key = parse_s3_uri(uri)
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}:
            return False
        raise
    return True


def outcome_of(job: dict[str, Any], s3: Any) -> TrainingOutcome:
    """Raise for failed/stopped jobs; otherwise the artifact URI, whether it exists, final metrics."""
    name = job["TrainingJobName"]
    status = job["TrainingJobStatus"]
    if status in {"Failed", "Stopped"}:
        reason = job.get("FailureReason") or job.get("SecondaryStatus", "")
        raise TrainingJobFailedError(f"training job {name} ended {status}: {reason}")
    artifact_uri = job.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    return TrainingOutcome(
        job_name=name,
        status=status,
        artifact_uri=artifact_uri,
        artifact_exists=bool(artifact_uri) and artifact_exists(s3, artifact_uri),
        metrics={m["MetricName"]: float(m["Value"]) for m in job.get("FinalMetricDataList", [])},
        training_image=job.get("AlgorithmSpecification", {}).get("TrainingImage", ""),
        billable_seconds=job.get("BillableTimeInSeconds"),
    )
