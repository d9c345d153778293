"""`train_and_package`: the model.tar.gz layout SageMaker and the emulator expect, its metadata,
and determinism for a seed. What ships is the scones/model folder: nothing more, nothing less."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest
import torch

import scones.model
from scones.training.local import train_and_package
from tests.support.model_fixtures import TINY_RECIPE, make_prepared

MODEL_FOLDER = Path(scones.model.__file__).parent
# Every module of the folder, as it is on disk now (its __init__ only makes it a package here).
CODE = sorted(f"code/{path.name}" for path in MODEL_FOLDER.glob("*.py") if path.name != "__init__.py")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_prepared(tmp_path_factory.mktemp("prepared"), per_class=10)


def _train(prepared: Path, out: Path, seed: int = 0) -> dict:
    return train_and_package(prepared, out, seed=seed, val_fraction=0.2, progress=False, recipe=TINY_RECIPE)


def _weights(tarball: Path) -> dict:
    with tarfile.open(tarball) as tar:
        member = tar.extractfile("model.pt")
        assert member is not None
        return torch.load(io.BytesIO(member.read()), weights_only=True)


def test_artifact_has_the_sagemaker_pytorch_layout(prepared: Path, tmp_path: Path) -> None:
    tarball = tmp_path / "model.tar.gz"
    metrics = _train(prepared, tarball)
    with tarfile.open(tarball) as tar:
        names = sorted(tar.getnames())
        metadata = json.loads(tar.extractfile("metadata.json").read())  # type: ignore[union-attr]
    assert names == ["code", *CODE, "metadata.json", "model.pt"]
    assert metadata["class_names"] == ["bicycle", "motorcycle"]
    assert metadata["recipe"]["name"] == "tiny" and metadata["recipe"]["widths"] == [8, 16]
    assert metadata["ensemble_members"] == 2
    assert metadata["metrics"]["train_images"] == 16 and metadata["metrics"]["val_images"] == 4
    assert 0.0 <= metrics["val_accuracy"] <= 1.0
    assert metrics["temperature"] > 0 and metrics["epochs"] == 1 and metrics["epochs_run"] == [1, 1]
    assert metadata["temperature"] == pytest.approx(metrics["temperature"])
    # Training's own peak memory: at least what torch and the data take, far from this machine's total.
    assert 100 < metadata["metrics"]["peak_rss_mb"] == metrics["peak_rss_mb"] < 16_000


def test_the_artifact_ships_exactly_the_model_folders_modules(prepared: Path, tmp_path: Path) -> None:
    # The serving entry point and the SageMaker training entry point among them; nothing host-only.
    assert {"code/inference.py", "code/sagemaker_entry.py", "code/recipes.py"} <= set(CODE)
    tarball = tmp_path / "model.tar.gz"
    _train(prepared, tarball)
    with tarfile.open(tarball) as tar:
        for name in CODE:
            member = tar.extractfile(name)
            assert member is not None
            source = member.read()
            assert source == (MODEL_FOLDER / name.removeprefix("code/")).read_bytes(), name
            # Shipped code imports its siblings only, never the scones package the containers lack.
            assert b"import scones" not in source and b"from scones" not in source, name


def test_epochs_override_and_bad_epochs(prepared: Path, tmp_path: Path) -> None:
    metrics = train_and_package(prepared, tmp_path / "m.tar.gz", epochs=2, progress=False, recipe=TINY_RECIPE)
    assert metrics["epochs"] == 2 and metrics["epochs_run"] == [2, 2]
    with pytest.raises(ValueError, match="at least 1"):
        train_and_package(prepared, tmp_path / "n.tar.gz", epochs=0, progress=False, recipe=TINY_RECIPE)
    assert not (tmp_path / "n.tar.gz").exists()


def test_a_budget_the_machine_cannot_meet_shortens_each_network_to_two_epochs(prepared: Path, tmp_path: Path) -> None:
    # Two epochs at the least, so each network's learning rate still anneals to zero.
    metrics = train_and_package(
        prepared, tmp_path / "m.tar.gz", epochs=6, progress=False, recipe=TINY_RECIPE, time_budget_s=1e-6
    )
    assert metrics["epochs"] == 6 and metrics["epochs_run"] == [2, 2] and metrics["time_budget_s"] == 1e-6
    unbounded = train_and_package(prepared, tmp_path / "n.tar.gz", epochs=6, progress=False, recipe=TINY_RECIPE)
    assert unbounded["epochs_run"] == [6, 6] and unbounded["time_budget_s"] is None


def test_same_seed_gives_identical_weights_other_seed_does_not(prepared: Path, tmp_path: Path) -> None:
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        _train(prepared, tmp_path / f"{name}.tar.gz", seed=seed)
    first, second, other = (_weights(tmp_path / f"{name}.tar.gz") for name in "abc")
    assert first["temperature"] == second["temperature"]
    for mine, theirs in zip(first["members"], second["members"], strict=True):
        assert mine.keys() == theirs.keys()
        assert all(torch.equal(mine[name], theirs[name]) for name in mine)
    assert not all(torch.equal(first["members"][0][n], other["members"][0][n]) for n in first["members"][0])


def test_progress_reports_each_epoch(prepared: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train_and_package(prepared, tmp_path / "m.tar.gz", progress=True, recipe=TINY_RECIPE)
    err = capsys.readouterr().err
    assert "model 1/2 epoch 1/1: loss" in err and "model 2/2 epoch 1/1" in err and "val accuracy" in err
