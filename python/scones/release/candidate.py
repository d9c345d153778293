"""Stages 2 and 3: the candidate (trained here, on SageMaker, or given) and its evaluation.

Training runs the existing training code: `scones train --local` in its own process for `local`
(its memory and thread settings stay its own, as in scones.deploy), a SageMaker PyTorch job for
dev and prod whose name is recorded before waiting, so a resumed release waits on that job instead
of paying for a second one. Evaluation is `scones evaluate`'s: the artifact's own serving code on
the test split. Artifacts of the built-in image-classification algorithm have no serving code to run
here, so a release refuses them (docs/releasing.md).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scones.aws import InvalidS3UriError
from scones.release.errors import CandidateArtifactError
from scones.tfvars import TfvarsError, artifact_exists, validate_image_uri, validate_model_data_url, write_atomically
from scones.training import images


def default_image_uri(region: str) -> str:
    """The inference image `scones train` names for a PyTorch model in `region`."""
    return images.pytorch_inference_image(region, images.DEFAULT_INFERENCE_INSTANCE_TYPE)


def check_given_artifact(session: Any, model_data_url: str, model_image_uri: str | None) -> None:
    """A --model-data-url candidate: well formed and present in S3, before anything runs."""
    try:
        validate_model_data_url(model_data_url)
        if model_image_uri is not None:
            validate_image_uri(model_image_uri)
        exists = artifact_exists(session, model_data_url)
    except (TfvarsError, InvalidS3UriError) as exc:
        raise CandidateArtifactError(str(exc.message if isinstance(exc, TfvarsError) else exc)) from None
    if not exists:
        raise CandidateArtifactError(f"the candidate artifact {model_data_url} does not exist")


def scones_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "scones.cli", *args]


def run_command(cmd: list[str], what: str) -> None:
    result = subprocess.run(cmd, text=True, capture_output=True, check=False)
    if result.returncode != 0:
        raise CandidateArtifactError(
            f"{what} failed (exit {result.returncode}): {(result.stderr or result.stdout).strip()[-2000:]}"
        )


def train_local(
    *, bucket: str, data_dir: Path, run_dir: Path, aws_args: list[str], epochs: int | None, seed: int = 0
) -> dict[str, Any]:
    result_json = run_dir / "train.json"
    epoch_args = ["--epochs", str(epochs)] if epochs else []
    run_command(
        scones_command(
            "train", "--local", "--bucket", bucket, "--data-dir", str(data_dir), "--result-json", str(result_json),
            "--keep-artifact", str(run_dir / "model.tar.gz"), "--seed", str(seed), *epoch_args, *aws_args,
        ),
        "scones train --local",
    )  # fmt: skip
    trained = json.loads(result_json.read_text())
    return {
        "model_data_url": trained["model_data_url"],
        "model_image_uri": trained["model_image_uri"],
        "source": f"local training ({result_json})",
        "training_metrics": trained.get("metrics") or {},
    }


def train_on_sagemaker(
    session: Any,
    stack: dict[str, Any],
    *,
    epochs: int | None,
    job_name: str | None,
    remember_job: Callable[[str], None],
    echo: Callable[[str], None],
) -> dict[str, Any]:
    """Submit a PyTorch job (unless `job_name` is one submitted by an earlier attempt) and wait for it."""
    from scones.training.sagemaker_train import DEFAULT_INSTANCE_TYPE, TrainRequest, submit, wait_and_report

    if job_name is None:
        bucket = stack["data_bucket_name"]
        request = TrainRequest(
            algorithm="pytorch",
            role_arn=stack["sagemaker_role_arn"],
            bucket=bucket,
            prefix=stack.get("data_prefix") or "data",
            output_path=f"s3://{bucket}/{stack.get('models_prefix') or 'models'}/",
            instance_type=DEFAULT_INSTANCE_TYPE,
            region=session.region_name,
            epochs=epochs,
        )
        job_name = submit(session, request, echo=echo).job_name
        remember_job(job_name)
    outcome = wait_and_report(session, job_name, echo=echo)
    if outcome.status != "Completed" or not outcome.artifact_exists or not outcome.artifact_uri:
        raise CandidateArtifactError(f"training job {job_name} ended {outcome.status} without a model artifact")
    return {
        "model_data_url": outcome.artifact_uri,
        "model_image_uri": default_image_uri(session.region_name),
        "source": f"SageMaker training job {job_name}",
        "training_job": job_name,
        "training_metrics": outcome.metrics,
    }


def _split_fingerprint(data_dir: Path, split: str) -> str:
    """The split's list of images and labels: what an evaluation of it depends on besides the artifact."""
    listing = sorted(str(path.relative_to(data_dir)) for path in (data_dir / split).rglob("*.png"))
    return hashlib.sha256("\n".join(listing).encode()).hexdigest()[:16]


def evaluate(
    model_data_url: str, data_dir: Path, threshold: float, session: Any, out: Path, cache: Path
) -> dict[str, Any]:
    """`scones evaluate`'s report of the candidate, written to out/evaluation.json. An artifact evaluated
    before (same content, threshold and test split) is read from `cache`: evaluation is deterministic,
    and a release of an artifact already evaluated (a re-release, a promotion) need not pay for it again."""
    from scones.release.registry import artifact_sha256

    key = f"{artifact_sha256(session, model_data_url)}-{threshold}-{_split_fingerprint(data_dir, 'test')}.json"
    cached = cache / key
    if cached.is_file():
        report = dict(json.loads(cached.read_text()))
    else:
        report = _evaluate(model_data_url, data_dir, threshold, session)
        cache.mkdir(parents=True, exist_ok=True)
        write_atomically(cached, report)
    report["model"] = model_data_url
    (out / "evaluation.json").write_text(json.dumps(report, indent=2) + "\n")
    return report


def _evaluate(model_data_url: str, data_dir: Path, threshold: float, session: Any) -> dict[str, Any]:
    from scones.evaluation.evaluate import evaluate_artifact
    from scones.evaluation.served_model import ArtifactError

    try:
        report = evaluate_artifact(model_data_url, data_dir, threshold=threshold, session=session)
    except ArtifactError as exc:
        hint = (
            " (a built-in image-classification artifact has no serving code to evaluate: "
            'releases take PyTorch artifacts, see docs/releasing.md)'
            if "code/inference.py" in str(exc)
            else ""
        )
        raise CandidateArtifactError(f"cannot evaluate {model_data_url}: {exc}{hint}") from None
    return report
