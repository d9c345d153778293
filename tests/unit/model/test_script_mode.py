"""SageMaker script mode: build_source_dir's folder runs `sagemaker_entry.py` as the training
container would (SM_* environment, hyperparameters as --key value), without the scones package."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scones.data.layout import format_lst, read_split
from scones.evaluation.served_model import ServedModel
from scones.model.artifact import shipped_modules
from scones.training.sagemaker_train import PYTORCH_ENTRY_SCRIPT, PYTORCH_METRICS, build_source_dir
from tests.support.model_fixtures import make_prepared, png_bytes, synthetic_image

# As the container runs `python sagemaker_entry.py`: the script's folder first on sys.path. The
# project's editable install is importable here, so the runner also checks the script did not use it.
_RUNNER = f"""
import os, runpy, sys
sys.path.insert(0, os.getcwd())
try:
    runpy.run_path("{PYTORCH_ENTRY_SCRIPT}", run_name="__main__")
finally:
    assert "scones" not in sys.modules, "{PYTORCH_ENTRY_SCRIPT} imported the scones package"
"""


def _run_train(source: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-I", "-c", _RUNNER, *args],
        cwd=source,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return build_source_dir(tmp_path / "source")


def test_source_dir_is_the_model_folder(source: Path) -> None:
    assert PYTORCH_ENTRY_SCRIPT == "sagemaker_entry.py"
    assert {p.name for p in source.iterdir()} == {*(p.name for p in shipped_modules()), "requirements.txt"}
    assert all((source / p.name).read_bytes() == p.read_bytes() for p in shipped_modules())


def test_one_epoch_with_sagemaker_channels(source: Path, tmp_path: Path) -> None:
    prepared = make_prepared(tmp_path / "prepared", per_class=6, splits=("train",))
    entries = read_split(prepared, "train")
    train_lst, validation_lst = tmp_path / "channels" / "train_lst", tmp_path / "channels" / "validation_lst"
    train_lst.mkdir(parents=True)
    validation_lst.mkdir(parents=True)
    (train_lst / "train.lst").write_text(format_lst(entries[1:-1]))
    (validation_lst / "validation.lst").write_text(format_lst([entries[0], entries[-1]]))
    model_dir = tmp_path / "model"
    env = {
        "SM_CHANNEL_TRAIN": str(prepared / "train"),
        "SM_CHANNEL_TRAIN_LST": str(train_lst),
        "SM_CHANNEL_VALIDATION_LST": str(validation_lst),
        "SM_MODEL_DIR": str(model_dir),
    }
    result = _run_train(source, env, "--epochs", "1", "--seed", "3", "--ensemble", "1", "--batch_size", "4")
    assert result.returncode == 0, result.stderr
    assert "train 10 images, validation 2 images" in result.stdout
    # The job's metric definitions find their numbers in what the entry point prints.
    for metric in PYTORCH_METRICS:
        assert re.search(metric.regex, result.stdout), (metric.name, result.stdout)
    assert {p.name for p in model_dir.iterdir()} == {"model.pt", "metadata.json", "code"}
    served = ServedModel(model_dir)  # what SageMaker tars from SM_MODEL_DIR is a servable artifact
    assert len(served.probabilities(png_bytes(synthetic_image(0, 1)))) == 2
    metrics = served.metadata["metrics"]
    assert metrics["epochs"] == 1 and metrics["seed"] == 3 and metrics["peak_rss_mb"] > 0
    assert served.metadata["recipe"]["name"] == "default" and served.metadata["recipe"]["batch_size"] == 4


def test_the_recipe_hyperparameter_chooses_a_named_recipe(source: Path, tmp_path: Path) -> None:
    prepared = make_prepared(tmp_path / "prepared", per_class=6, splits=("train",))
    env = {"SM_CHANNEL_TRAIN": str(prepared), "SM_MODEL_DIR": str(tmp_path / "model")}
    result = _run_train(source, env, "--recipe", "fast", "--ensemble", "1", "--batch-size", "4")
    assert result.returncode == 0, result.stderr
    recipe = json.loads((tmp_path / "model" / "metadata.json").read_text())["recipe"]
    # The fast recipe's two epochs; the options given change it, the rest is the recipe's own.
    assert (recipe["name"], recipe["epochs"], recipe["ensemble"], recipe["batch_size"]) == ("fast", 2, 1, 4)
    refused = _run_train(source, env, "--recipe", "fastest")
    assert refused.returncode == 2 and "--recipe: recipe is one of default, fast," in refused.stderr


def test_without_list_channels_it_carves_validation_itself(source: Path, tmp_path: Path) -> None:
    prepared = make_prepared(tmp_path / "prepared", per_class=10, splits=("train",))
    env = {"SM_CHANNEL_TRAIN": str(prepared), "SM_MODEL_DIR": str(tmp_path / "model")}
    for name in ("SM_CHANNEL_TRAIN_LST", "SM_CHANNEL_VALIDATION_LST"):
        env[name] = ""
    result = _run_train(source, env, "--epochs", "1", "--ensemble", "1", "--sagemaker_unknown", "x")
    assert result.returncode == 0, result.stderr
    assert "train 18 images, validation 2 images" in result.stdout
    assert "ignoring unknown arguments: --sagemaker_unknown x" in result.stderr


def test_missing_environment_is_reported(source: Path, tmp_path: Path) -> None:
    env = {"SM_CHANNEL_TRAIN": "", "SM_MODEL_DIR": ""}
    result = _run_train(source, env, "--epochs", "1")
    assert result.returncode == 2 and "SM_MODEL_DIR and SM_CHANNEL_TRAIN must be set" in result.stderr
