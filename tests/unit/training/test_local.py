"""`scones train --local`: the command around `train_and_package` (upload, URIs, errors, recipes).

Training itself has its own tests (tests/unit/model); here, but for one test that trains the
fast recipe for real, a stand-in for `train_and_package` writes the tarball so they run in a second.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws

from scones.cli import main
from scones.data.errors import PreparedDataError
from scones.model.recipes import DEFAULT, FAST, RECIPES
from scones.training import local
from scones.training.local import artifact_uri, check_prepared
from tests.support.model_fixtures import make_prepared

BUCKET = "scones-local-test"


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def train_and_package(data_dir: Path, output_tar: Path, **kwargs: Any) -> dict:
        seen.append({"data_dir": data_dir, **kwargs})
        model = output_tar.parent / "model.pt"
        model.write_bytes(b"weights")
        with tarfile.open(output_tar, "w:gz") as tar:
            tar.add(model, arcname="model.pt")
        return {"val_accuracy": 0.95, "epochs": kwargs.get("epochs")}

    monkeypatch.setattr(local, "train_and_package", train_and_package)
    return seen


@pytest.fixture
def s3() -> Iterator[boto3.client]:
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    root = tmp_path / "prepared"
    (root / "train" / "bicycle").mkdir(parents=True)
    (root / "train.lst").write_text("0\t0\tbicycle/a.png\n")
    return root


def test_trains_uploads_and_prints_both_uris(
    calls: list[dict[str, Any]], s3: boto3.client, data_dir: Path, tmp_path: Path
) -> None:
    result_file = tmp_path / "result.json"
    args = ["train", "--local", "--recipe", "fast", "--seed", "3", "--bucket", BUCKET, "--data-dir", str(data_dir)]
    result = CliRunner().invoke(main, [*args, "--result-json", str(result_file)])
    assert result.exit_code == 0, result.output

    assert calls == [
        {
            "data_dir": data_dir,
            "recipe": FAST,
            "seed": 3,
            "epochs": None,
            "val_fraction": 0.1,
            "progress": True,
            "time_budget_s": None,
        }
    ]
    assert "(recipe fast, seed 3, epochs 2)" in result.output
    written = json.loads(result_file.read_text())
    assert written["model_data_url"].startswith(f"s3://{BUCKET}/models/local-")
    assert written["model_data_url"].endswith("/model.tar.gz")
    assert written["model_image_uri"].startswith("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:")
    assert written["model_image_uri"].endswith("-cpu-" + written["model_image_uri"].rsplit("-", 1)[-1])
    assert f"model_data_url:  {written['model_data_url']}" in result.output
    assert f"model_image_uri: {written['model_image_uri']}" in result.output
    key = written["model_data_url"].removeprefix(f"s3://{BUCKET}/")
    body = s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body[:2] == b"\x1f\x8b"  # the gzip tarball itself


def test_exact_output_uri(calls: list[dict[str, Any]], s3: boto3.client, data_dir: Path) -> None:
    target = f"s3://{BUCKET}/deploy/model.tar.gz"
    result = CliRunner().invoke(
        main, ["train", "--local", "--epochs", "4", "--output-path", target, "--data-dir", str(data_dir)]
    )
    assert result.exit_code == 0, result.output
    assert calls[0]["epochs"] == 4 and calls[0]["recipe"] == DEFAULT  # the default recipe, its epochs changed
    s3.head_object(Bucket=BUCKET, Key="deploy/model.tar.gz")


def test_missing_prepared_data(calls: list[dict[str, Any]], s3: boto3.client, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--local", "--bucket", BUCKET, "--data-dir", str(tmp_path / "none")])
    assert result.exit_code == 1 and "no prepared data in" in result.output and "scones prepare" in result.output
    assert calls == []
    with pytest.raises(PreparedDataError):
        check_prepared(tmp_path / "none")


def test_local_refuses_image_classification_and_needs_a_destination(data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--local", "--algorithm", "image-classification"])
    assert result.exit_code == 2 and "image-classification runs only on SageMaker" in result.output
    result = CliRunner().invoke(main, ["train", "--local", "--data-dir", str(data_dir)])
    assert result.exit_code == 2 and "--bucket" in result.output


def test_artifact_uri() -> None:
    assert artifact_uri("s3://b-1/models/", now=0) == "s3://b-1/models/local-19700101-000000/model.tar.gz"
    assert artifact_uri("s3://b-1", now=0) == "s3://b-1/local-19700101-000000/model.tar.gz"
    assert artifact_uri("s3://b-1/x/m.tar.gz") == "s3://b-1/x/m.tar.gz"


def test_time_budget_reaches_local_training_and_is_refused_elsewhere(
    calls: list[dict[str, Any]], s3: boto3.client, data_dir: Path
) -> None:
    local = ["train", "--local", "--bucket", BUCKET, "--data-dir", str(data_dir), "--time-budget", "170"]
    result = CliRunner().invoke(main, local)
    assert result.exit_code == 0, result.output
    assert calls[0]["time_budget_s"] == 170.0
    result = CliRunner().invoke(main, ["train", "--bucket", BUCKET, "--role-arn", "arn:x", "--time-budget", "170"])
    assert result.exit_code == 2 and "--time-budget applies to --local" in result.output
    assert len(calls) == 1


def test_the_named_recipe_is_what_trains(s3: boto3.client, tmp_path: Path) -> None:
    """No stand-in: `--recipe fast` reaches the trainer, and the artifact says what trained it."""
    prepared = make_prepared(tmp_path / "prepared", per_class=5, splits=("train",))
    target = f"s3://{BUCKET}/fast/model.tar.gz"
    args = ["train", "--local", "--recipe", "fast", "--output-path", target, "--data-dir", str(prepared)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    body = s3.get_object(Bucket=BUCKET, Key="fast/model.tar.gz")["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        metadata = json.loads(tar.extractfile("metadata.json").read())  # type: ignore[union-attr]
    assert metadata["recipe"] == json.loads(json.dumps(FAST.as_dict()))
    assert metadata["metrics"]["epochs_run"] == [FAST.epochs] * FAST.ensemble
    assert metadata["metrics"]["peak_rss_mb"] > 0


def test_an_unknown_recipe_is_a_clear_error_and_fast_is_gone(calls: list[dict[str, Any]], data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--local", "--bucket", BUCKET, "--recipe", "quick"])
    assert result.exit_code == 2 and "Invalid value for '--recipe': 'quick' is not one of" in result.output
    assert all(f"'{name}'" in result.output for name in RECIPES)
    result = CliRunner().invoke(main, ["train", "--local", "--bucket", BUCKET, "--fast"])
    assert result.exit_code == 2 and "No such option '--fast'" in result.output
    assert calls == []
