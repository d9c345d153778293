"""Submit a SageMaker training job through the SageMaker SDK v3 (`sagemaker.train.ModelTrainer`).

ModelTrainer works under moto and the local emulator as long as its boto3 session carries the
endpoint (scones.aws.EndpointSession): it creates every client from that session. We submit
with wait=False and poll ourselves (scones.training.waiting) to show status transitions and to
tell "no artifact was written" apart from a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scones.aws import EndpointSession

# Where ModelTrainer stages source code and its drivers: s3://<bucket>/<STAGING_PREFIX>/<base>/<job>/input/
# when iam:SimulatePrincipalPolicy is unavailable to the caller (as in the emulator); on AWS, where it
# finds the role may not s3:PutObject to <bucket>/*, under the output path instead (<output>/<STAGING_PREFIX>/...).
# The SageMaker role may read both (terraform/modules/iam, ReadTrainingCode and ReadTrainingDataAndArtifacts).
STAGING_PREFIX = "training"


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    s3_uri: str
    content_type: str | None = None


@dataclass(frozen=True)
class MetricSpec:
    name: str
    regex: str


@dataclass(frozen=True)
class JobSpec:
    base_job_name: str
    role_arn: str
    training_image: str
    instance_type: str
    output_path: str
    bucket: str
    hyperparameters: dict[str, str]
    channels: list[ChannelSpec]
    tags: dict[str, str] = field(default_factory=dict)
    metrics: list[MetricSpec] = field(default_factory=list)
    source_dir: Path | None = None
    entry_script: str | None = None
    instance_count: int = 1
    volume_size_gb: int = 30
    max_runtime_s: int = 4 * 3600


def submit_training_job(session: EndpointSession, spec: JobSpec) -> str:
    """CreateTrainingJob for `spec`; returns the job name (ModelTrainer adds a timestamp)."""
    from sagemaker.core.helper.session_helper import Session
    from sagemaker.core.training.configs import (
        Compute,
        InputData,
        MetricDefinition,
        OutputDataConfig,
        SourceCode,
        StoppingCondition,
        Tag,
    )
    from sagemaker.train import ModelTrainer

    sagemaker_session = Session(
        boto_session=session,
        sagemaker_client=session.client("sagemaker"),
        default_bucket=spec.bucket,
        default_bucket_prefix=STAGING_PREFIX,
    )
    source_code = None
    if spec.source_dir is not None:
        source_code = SourceCode(source_dir=str(spec.source_dir), entry_script=spec.entry_script)
    trainer = ModelTrainer(
        sagemaker_session=sagemaker_session,
        role=spec.role_arn,
        base_job_name=spec.base_job_name,
        training_image=spec.training_image,
        source_code=source_code,
        compute=Compute(
            instance_type=spec.instance_type,
            instance_count=spec.instance_count,
            volume_size_in_gb=spec.volume_size_gb,
        ),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=spec.max_runtime_s),
        output_data_config=OutputDataConfig(s3_output_path=spec.output_path),
        hyperparameters=dict(spec.hyperparameters),
        tags=[Tag(key=key, value=value) for key, value in spec.tags.items()] or None,
    )
    if spec.metrics:
        trainer = trainer.with_metric_definitions(
            [MetricDefinition(name=metric.name, regex=metric.regex) for metric in spec.metrics]
        )
    channels = [
        InputData(
            channel_name=channel.name,
            data_source=channel.s3_uri,
            **({"content_type": channel.content_type} if channel.content_type else {}),
        )
        for channel in spec.channels
    ]
    trainer.train(input_data_config=channels, wait=False, logs=False)
    return trainer._latest_training_job.training_job_name
