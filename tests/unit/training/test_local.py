"""`scones train --local`: the command around `train_and_package` (hyperparameters, the kept
artifact, upload, URIs, errors, recipes).

Training itself has its own tests (tests/unit/model); here, but for one test that trains for
real, a stand-in for `train_and_package` records what it is asked to train and writes a small
tarball, so they run in a second.
"""

from __future__ import annotations

import io
import json
import shlex
import tarfile
from collections.abc import Iterator
from dataclasses import replace
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
from tests.support.doc_commands import make_dry_run
from tests.support.model_fixtures import make_prepared

BUCKET = "scones-local-test"
ROLE = "arn:aws:iam::123456789012:role/scones-sagemaker"


@pytest.fixture(autouse=True)
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository the default --keep-artifact is relative to, so no test writes this checkout's build/."""
    root = tmp_path / "repo"
    monkeypatch.setenv("SCONES_REPO", str(root))
    return root


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    def train_and_package(data_dir: Path, output_tar: Path, **kwargs: Any) -> dict:
        seen.append({"data_dir": data_dir, **kwargs})
        weights = tarfile.TarInfo("model.pt")
        weights.size = len(b"weights")
        with tarfile.open(output_tar, "w:gz") as tar:
            tar.addfile(weights, io.BytesIO(b"weights"))
        return {"val_accuracy": 0.95, "epochs": kwargs["recipe"].epochs}

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
            "val_fraction": 0.1,
            "progress": True,
            "time_budget_s": None,
        }
    ]
    assert "(recipe fast, seed 3, epochs 2, learning rate 0.05, batch 32, 2 network(s), val fraction 0.1)" in (
        result.output
    )
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
    assert calls[0]["recipe"] == replace(DEFAULT, epochs=4)  # the default recipe, its epochs changed
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


def test_every_hyperparameter_reaches_the_recipe_that_trains(
    calls: list[dict[str, Any]], s3: boto3.client, data_dir: Path
) -> None:
    args = ["train", "--local", "--bucket", BUCKET, "--data-dir", str(data_dir), "--recipe", "single"]
    options = ["--epochs", "3", "--learning-rate", "0.02", "--mini-batch-size", "16"]
    overrides = ["-H", "ensemble=3", "-H", "seed=5", "-H", "val-fraction=0.2"]
    result = CliRunner().invoke(main, [*args, *options, *overrides])
    assert result.exit_code == 0, result.output
    (call,) = calls
    assert call["recipe"] == replace(RECIPES["single"], epochs=3, learning_rate=0.02, batch_size=16, ensemble=3)
    assert (call["seed"], call["val_fraction"]) == (5, 0.2)
    # -H spells every recipe field the options do, by the entry point's names.
    result = CliRunner().invoke(main, [*args, "-H", "epochs=3", "-H", "learning_rate=0.02", "-H", "batch_size=16"])
    assert result.exit_code == 0, result.output
    assert calls[1]["recipe"] == replace(RECIPES["single"], epochs=3, learning_rate=0.02, batch_size=16)


# (arguments, the error both ways): unknown names, names only image-classification takes, values
# out of range or of the wrong type, and one value given twice.
REFUSED = [
    (["-H", "lerning_rate=0.1"], "pytorch has no hyperparameter lerning_rate; known: batch_size, ensemble, epochs,"),
    (["-H", "num_layers=18"], "pytorch has no hyperparameter num_layers;"),
    (["-H", "epochs=0"], "--hyperparameter epochs=0: pytorch's epochs must be at least 1"),
    (["-H", "learning-rate=-1"], "pytorch's learning_rate must be above 0.0"),
    (["-H", "batch_size=many"], "pytorch's batch_size must be an integer"),
    (["-H", "val_fraction=1"], "pytorch's val_fraction must be above 0.0 and below 1.0"),
    (["-H", "recipe=quick"], "pytorch's recipe is one of default, fast,"),
    (["--epochs", "3", "-H", "epochs=4"], "epochs set both by an option and by --hyperparameter; use one"),
    (["--seed", "3", "-H", "seed=4"], "seed set both by an option and by --hyperparameter; use one"),
    (["--learning-rate", "0"], "Invalid value for '--learning-rate': 0.0 is not in the range x>0."),
    (["--mini-batch-size", "0"], "Invalid value for '--mini-batch-size': 0 is not in the range x>=1."),
]


@pytest.mark.parametrize(("arguments", "message"), REFUSED)
def test_local_and_sagemaker_refuse_the_same_hyperparameters_the_same_way(
    calls: list[dict[str, Any]], s3: boto3.client, data_dir: Path, arguments: list[str], message: str
) -> None:
    here = CliRunner().invoke(main, ["train", "--local", "--bucket", BUCKET, "--data-dir", str(data_dir), *arguments])
    job = CliRunner().invoke(
        main, ["train", "--algorithm", "pytorch", "--bucket", BUCKET, "--role-arn", ROLE, *arguments]
    )
    assert here.exit_code == job.exit_code != 0, (here.output, job.output)
    error = [line for line in here.output.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and message in error[0], here.output
    assert error == [line for line in job.output.splitlines() if line.startswith("Error:")]
    assert calls == []  # refused before anything trained
    assert boto3.client("sagemaker", region_name="us-east-1").list_training_jobs()["TrainingJobSummaries"] == []


def test_the_artifact_is_kept_at_a_given_path_and_replaced_whole(
    calls: list[dict[str, Any]], s3: boto3.client, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = tmp_path / "out" / "mine.tar.gz"
    kept.parent.mkdir()
    kept.write_bytes(b"the previous artifact")
    target = f"s3://{BUCKET}/deploy/model.tar.gz"
    args = ["train", "--local", "--output-path", target, "--data-dir", str(data_dir), "--keep-artifact", str(kept)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert f"kept the artifact at {kept}" in result.output
    assert kept.read_bytes() == s3.get_object(Bucket=BUCKET, Key="deploy/model.tar.gz")["Body"].read()
    assert sorted(p.name for p in kept.parent.iterdir()) == ["mine.tar.gz"]  # no partial file left beside it
    assert not (tmp_path / "repo").exists()  # nothing at the default

    def interrupted(data_dir: Path, output_tar: Path, **kwargs: Any) -> dict:
        output_tar.write_bytes(b"half a tarb")
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "train_and_package", interrupted)
    before = kept.read_bytes()
    assert CliRunner().invoke(main, args).exit_code != 0
    assert kept.read_bytes() == before and sorted(p.name for p in kept.parent.iterdir()) == ["mine.tar.gz"]


def test_keep_artifact_is_refused_for_sagemaker_jobs() -> None:
    result = CliRunner().invoke(main, ["train", "--bucket", BUCKET, "--role-arn", ROLE, "--keep-artifact", "m.tar.gz"])
    assert result.exit_code == 2 and "--keep-artifact applies to --local training" in result.output


def _make_evaluate_command(model: str) -> list[str]:
    """The `scones ...` arguments `make evaluate MODEL=...` runs (make -n; the setup stamp taken as done)."""
    done = make_dry_run("-o", ".venv/.setup-stamp", "evaluate", f"MODEL={model}")
    assert done.returncode == 0, done.stderr
    dry = done.stdout
    words = shlex.split(dry.replace("\\\n", " "))
    start = next(i for i, word in enumerate(words) if word.endswith("/scones") and words[i + 1] == "evaluate")
    return words[start + 1 :]


def test_the_readme_commands_train_keep_and_evaluate(
    s3: boto3.client, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No stand-in: run from the repository as the README says, `scones train --local` trains the
    recipe its options describe and keeps `build/model.tar.gz`, which `scones evaluate
    build/model.tar.gz` and `make evaluate MODEL=build/model.tar.gz` evaluate as written."""
    make_prepared(repo / "data" / "prepared", per_class=5)
    monkeypatch.chdir(repo)
    options = ["--recipe", "fast", "--epochs", "1", "--learning-rate", "0.02", "--mini-batch-size", "8"]
    result = CliRunner().invoke(main, ["train", "--local", "--bucket", BUCKET, *options, "-H", "ensemble=1"])
    assert result.exit_code == 0, result.output
    kept = repo / "build" / "model.tar.gz"
    assert f"kept the artifact at {kept}" in result.output
    with tarfile.open(kept) as tar:
        metadata = json.loads(tar.extractfile("metadata.json").read())  # type: ignore[union-attr]
    trained = replace(FAST, epochs=1, learning_rate=0.02, batch_size=8, ensemble=1)
    assert metadata["recipe"] == json.loads(json.dumps(trained.as_dict()))
    assert metadata["metrics"]["epochs_run"] == [1] and metadata["ensemble_members"] == 1
    (uploaded,) = s3.list_objects_v2(Bucket=BUCKET, Prefix="models/")["Contents"]
    assert s3.get_object(Bucket=BUCKET, Key=uploaded["Key"])["Body"].read() == kept.read_bytes()

    readme = CliRunner().invoke(
        main,
        ["evaluate", "build/model.tar.gz", "--data-dir", "data/prepared", "--split", "test", "--out", "build/evaluate"],
    )
    assert readme.exit_code == 0, readme.output
    assert json.loads((repo / "build" / "evaluate" / "evaluation.json").read_text())["accuracy"] >= 0
    make = _make_evaluate_command("build/model.tar.gz")
    assert make[:2] == ["evaluate", "build/model.tar.gz"]
    assert CliRunner().invoke(main, make).exit_code == 0


def test_an_unknown_recipe_is_a_clear_error_and_fast_is_gone(calls: list[dict[str, Any]], data_dir: Path) -> None:
    result = CliRunner().invoke(main, ["train", "--local", "--bucket", BUCKET, "--recipe", "quick"])
    assert result.exit_code == 2 and "Invalid value for '--recipe': 'quick' is not one of" in result.output
    assert all(f"'{name}'" in result.output for name in RECIPES)
    result = CliRunner().invoke(main, ["train", "--local", "--bucket", BUCKET, "--fast"])
    assert result.exit_code == 2 and "No such option '--fast'" in result.output
    assert calls == []


def test_a_bad_hyperparameter_is_named_before_any_aws_setup(
    calls: list[dict[str, Any]], data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No region anywhere: the session would refuse, but the user's mistake is the hyperparameter.
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    result = CliRunner().invoke(
        main, ["train", "--local", "--bucket", BUCKET, "--data-dir", str(data_dir), "-H", "epochs=0"]
    )
    assert result.exit_code != 0
    assert "pytorch's epochs must be at least 1" in result.output and "region" not in result.output
    assert calls == []
