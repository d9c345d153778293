"""`scones train --algorithm image-classification|pytorch`: build the job, submit, wait, report."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scones.aws import EndpointSession
from scones.model.artifact import shipped_modules
from scones.model.dataset import DEFAULT_VAL_FRACTION
from scones.quotas import advice, refusal
from scones.training import images
from scones.training.errors import InvalidInstanceTypeError, MissingRoleError, QuotaExceededError
from scones.training.hyperparameters import (
    DEFAULT_SEED,
    image_classification_hyperparameters,
    pytorch_hyperparameters,
    pytorch_run,
)
from scones.training.s3_data import load_prepared, stage_split
from scones.training.sagemaker_job import ChannelSpec, JobSpec, MetricSpec, submit_training_job
from scones.training.splits import carve_validation
from scones.training.waiting import TrainingOutcome, outcome_of, wait_for_training_job

ALGORITHMS = ("image-classification", "pytorch")
IMAGE_CONTENT_TYPE = "application/x-image"
DEFAULT_INSTANCE_TYPE = "ml.g5.xlarge"  # one A10G: a current, widely available GPU training type
MODEL_IMAGE_TAG = "scones:model-image-uri"  # read back by `scones tfvars --training-job`
ALGORITHM_TAG = "scones:algorithm"
PYTORCH_ENTRY_SCRIPT = "sagemaker_entry.py"
# Training-job names are "<base>-<timestamp>" as ModelTrainer makes them (sagemaker.train.utils._get_unique_name),
# e.g. scones-image-classification-20261122100000: what `scones tfvars --training-job` takes.
BASE_JOB_NAMES = {"image-classification": "scones-image-classification", "pytorch": "scones-pytorch"}
JOB_NAME = re.compile(r"^(?:" + "|".join(BASE_JOB_NAMES.values()) + r")-\d{14}$")

# What the entry point prints once per epoch, e.g. "epoch=3 train_loss=0.41 val_accuracy=0.91".
PYTORCH_METRICS = [
    MetricSpec("train:loss", r"train_loss=([0-9.eE+-]+)"),
    MetricSpec("validation:accuracy", r"val_accuracy=([0-9.eE+-]+)"),
]

_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_INSTANCE_TYPE = re.compile(r"^ml\.[a-z0-9-]+\.[a-z0-9]+$")


@dataclass(frozen=True)
class TrainRequest:
    algorithm: str
    role_arn: str | None
    bucket: str
    prefix: str
    output_path: str
    instance_type: str
    region: str
    seed: int | None = None  # None: -H seed, else DEFAULT_SEED
    val_fraction: float | None = None  # None: -H val_fraction (pytorch), else DEFAULT_VAL_FRACTION
    recipe: str | None = None  # pytorch: a name in scones.model.recipes; None: the default recipe
    epochs: int | None = None
    learning_rate: float | None = None
    mini_batch_size: int | None = None
    overrides: dict[str, str] | None = None
    max_runtime_s: int = 4 * 3600
    inference_instance_type: str = images.DEFAULT_INFERENCE_INSTANCE_TYPE


def check_role_arn(role_arn: str | None) -> str:
    if not role_arn:
        raise MissingRoleError(
            "a SageMaker execution role is required: pass --role-arn or set SCONES_ROLE_ARN "
            "(terraform output of the iam module)"
        )
    if not _ROLE_ARN.match(role_arn):
        raise MissingRoleError(f"{role_arn!r} is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)")
    return role_arn


def check_instance_type(instance_type: str) -> str:
    if not _INSTANCE_TYPE.match(instance_type):
        raise InvalidInstanceTypeError(
            f"{instance_type!r} is not a SageMaker instance type (expected ml.<family>.<size>, "
            f"e.g. {DEFAULT_INSTANCE_TYPE})"
        )
    return instance_type


def build_job_spec(
    session: EndpointSession,
    request: TrainRequest,
    *,
    echo: Callable[[str], None],
    source_dir: Path | None = None,
) -> JobSpec:
    """Validate, stage the carved split in S3 and describe the job; submits nothing."""
    role_arn = check_role_arn(request.role_arn)
    instance_type = check_instance_type(request.instance_type)
    # Pytorch's hyperparameters are checked before anything is read or staged (a bad -H name costs
    # nothing), and their seed and val_fraction carve the split, so `-H seed=3` means what it says.
    if request.algorithm == "pytorch":
        if source_dir is None:
            raise ValueError("the pytorch algorithm needs the assembled source_dir")
        hyperparameters = pytorch_hyperparameters(
            recipe=request.recipe,
            epochs=request.epochs,
            seed=request.seed,
            learning_rate=request.learning_rate,
            mini_batch_size=request.mini_batch_size,
            val_fraction=request.val_fraction,
            overrides=request.overrides,
        )
        run = pytorch_run(hyperparameters)
        seed, val_fraction = run.seed, run.val_fraction
    elif request.algorithm == "image-classification":
        seed = DEFAULT_SEED if request.seed is None else request.seed
        val_fraction = DEFAULT_VAL_FRACTION if request.val_fraction is None else request.val_fraction
    else:
        raise ValueError(f"unknown algorithm {request.algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    s3 = session.client("s3")
    data = load_prepared(s3, request.bucket, request.prefix)
    split = carve_validation(data.entries, val_fraction=val_fraction, seed=seed)
    if request.algorithm == "image-classification":
        # Needs the split's size, so checked after the carve but still before anything is staged.
        hyperparameters = image_classification_hyperparameters(
            num_training_samples=len(split.train),
            epochs=request.epochs,
            learning_rate=request.learning_rate,
            mini_batch_size=request.mini_batch_size,
            overrides=request.overrides,
        )
    staged = stage_split(s3, data, split)
    echo(
        f"data: {len(staged.split.train)} train / {len(staged.split.validation)} validation images "
        f"carved from {data.train_lst_uri} (seed {seed}); test split untouched"
    )
    common = {
        "role_arn": role_arn,
        "instance_type": instance_type,
        "output_path": request.output_path,
        "bucket": request.bucket,
        "max_runtime_s": request.max_runtime_s,
    }
    if request.algorithm == "image-classification":
        image = images.image_classification_image(request.region)
        return JobSpec(
            base_job_name=BASE_JOB_NAMES["image-classification"],
            training_image=image,
            hyperparameters=hyperparameters,
            channels=[
                ChannelSpec("train", data.train_images_uri, IMAGE_CONTENT_TYPE),
                ChannelSpec("validation", data.train_images_uri, IMAGE_CONTENT_TYPE),
                ChannelSpec("train_lst", staged.train_lst_uri, IMAGE_CONTENT_TYPE),
                ChannelSpec("validation_lst", staged.validation_lst_uri, IMAGE_CONTENT_TYPE),
            ],
            tags={ALGORITHM_TAG: request.algorithm, MODEL_IMAGE_TAG: image},
            **common,
        )
    return JobSpec(
        base_job_name=BASE_JOB_NAMES["pytorch"],
        training_image=images.pytorch_training_image(request.region, instance_type),
        hyperparameters=hyperparameters,
        # Script mode: images of both lists under one channel, the carved lists beside it.
        channels=[
            ChannelSpec("train", data.train_images_uri),
            ChannelSpec("train_lst", staged.train_lst_uri),
            ChannelSpec("validation_lst", staged.validation_lst_uri),
        ],
        tags={
            ALGORITHM_TAG: request.algorithm,
            MODEL_IMAGE_TAG: images.pytorch_inference_image(request.region, request.inference_instance_type),
        },
        metrics=PYTORCH_METRICS,
        source_dir=source_dir,
        entry_script=PYTORCH_ENTRY_SCRIPT,
        **common,
    )


def build_source_dir(dest: Path) -> Path:
    """A script-mode source_dir: every module scones/model ships, the entry point among them."""
    dest.mkdir(parents=True, exist_ok=True)
    for module in shipped_modules():
        shutil.copy2(module, dest / module.name)
    # The training container has torch and numpy; pillow is in the SageMaker PyTorch images too,
    # but say so explicitly so the toolkit installs it if an image ever lacks it.
    (dest / "requirements.txt").write_text("pillow\n")
    return dest


@dataclass(frozen=True)
class Submitted:
    job_name: str
    model_image_uri: str


def submit(session: EndpointSession, request: TrainRequest, *, echo: Callable[[str], None]) -> Submitted:
    """Build and submit the job; returns its name and the image that will serve the model."""
    if request.algorithm != "pytorch":
        spec = build_job_spec(session, request, echo=echo)
        return _submit(session, spec, echo)
    with tempfile.TemporaryDirectory(prefix="scones-source-") as tmp:
        source_dir = build_source_dir(Path(tmp) / "source")
        spec = build_job_spec(session, request, echo=echo, source_dir=source_dir)
        return _submit(session, spec, echo)  # ModelTrainer uploads source_dir before returning


def _submit(session: EndpointSession, spec: JobSpec, echo: Callable[[str], None]) -> Submitted:
    echo(f"image: {spec.training_image}")
    echo(f"instance: {spec.instance_type}; output: {spec.output_path}")
    echo("hyperparameters: " + ", ".join(f"{k}={v}" for k, v in sorted(spec.hyperparameters.items())))
    try:
        job_name = submit_training_job(session, spec)
    except Exception as exc:
        refused = refusal(exc)
        if refused is None:
            raise
        message = refused.response.get("Error", {}).get("Message", "")
        raise QuotaExceededError(advice(message, instance_type=spec.instance_type, usage="training job")) from None
    echo(f"submitted training job {job_name}")
    return Submitted(job_name=job_name, model_image_uri=spec.tags[MODEL_IMAGE_TAG])


def wait_and_report(
    session: EndpointSession,
    job_name: str,
    *,
    echo: Callable[[str], None],
    poll_seconds: float = 30.0,
    timeout_seconds: float | None = None,
) -> TrainingOutcome:
    job = wait_for_training_job(
        session.client("sagemaker"),
        job_name,
        echo=echo,
        poll_seconds=poll_seconds,
        timeout_seconds=timeout_seconds,
    )
    return outcome_of(job, session.client("s3"))
