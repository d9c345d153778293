"""`scones evaluate`: metrics on a hand-computable case, and the command on a real artifact
(local file and s3:// under moto) writing JSON and PNG plots."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import numpy as np
import pytest
from click.testing import CliRunner
from moto import mock_aws
from PIL import Image

from scones.cli import main
from scones.evaluation.metrics import classification_report, expected_calibration_error, lowest_threshold_meeting
from scones.training.local import train_and_package
from tests.support.model_fixtures import TINY_RECIPE, make_prepared

# Five predictions whose metrics are easy to work out by hand:
#   top prob  0.86  0.66  0.76  0.96  0.98
#   predicted    0     0     1     1     0
#   true         0     1     1     1     1
#   correct      y     n     y     y     n
PROBABILITIES = np.array([[0.86, 0.14], [0.66, 0.34], [0.24, 0.76], [0.04, 0.96], [0.98, 0.02]])
LABELS = np.array([0, 1, 1, 1, 1])


def test_metrics_on_a_hand_computed_case() -> None:
    report = classification_report(PROBABILITIES, LABELS, ("bicycle", "motorcycle"), threshold=0.93, target=0.7)
    assert report["accuracy"] == pytest.approx(3 / 5)
    assert report["confusion_matrix"]["counts"] == [[1, 0], [2, 2]]
    assert report["per_class"]["bicycle"] == {"precision": pytest.approx(1 / 3), "recall": 1.0, "support": 1}
    assert report["per_class"]["motorcycle"] == {"precision": 1.0, "recall": 0.5, "support": 4}
    # 10 bins over [0.5, 1]: 0.66 wrong; 0.76 right; 0.86 right; (0.95, 1]: 0.96 right + 0.98 wrong
    expected_ece = (abs(0 - 0.66) + abs(1 - 0.76) + abs(1 - 0.86) + 2 * abs(0.5 - 0.97)) / 5
    assert report["expected_calibration_error"] == pytest.approx(expected_ece)
    assert report["at_threshold"] == {"threshold": 0.93, "coverage": 0.4, "accepted": 2, "accepted_accuracy": 0.5}
    # accepted accuracy by threshold: 0.66 -> 3/5, 0.76 -> 3/4 (first >= 0.7), 0.86 -> 2/3 ...
    assert report["lowest_threshold_meeting_target"] == {
        "threshold": 0.76,
        "coverage": 0.8,
        "accepted": 4,
        "accepted_accuracy": 0.75,
    }
    at_050 = next(p for p in report["sweep"] if p["threshold"] == 0.5)
    assert at_050["coverage"] == 1.0 and at_050["accepted_accuracy"] == pytest.approx(0.6)
    at_099 = next(p for p in report["sweep"] if p["threshold"] == 0.99)
    assert at_099 == {"threshold": 0.99, "coverage": 0.0, "accepted": 0, "accepted_accuracy": None}


def test_unreachable_target_and_perfect_calibration() -> None:
    confidence, correct = PROBABILITIES.max(1), np.array([1.0, 0, 1, 1, 0])
    assert lowest_threshold_meeting(confidence, correct, 0.99) is None
    assert expected_calibration_error(np.array([1.0, 1.0]), np.array([1.0, 1.0])) == 0.0


def test_mismatched_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="probabilities"):
        classification_report(PROBABILITIES, LABELS[:3], ("a", "b"), threshold=0.9, target=0.9)


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("evaluate")
    prepared = make_prepared(root / "prepared", per_class=8)
    train_and_package(prepared, root / "model.tar.gz", epochs=3, progress=False, recipe=TINY_RECIPE)
    return prepared, root / "model.tar.gz"


def _evaluate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["evaluate", *args])
    return result.exit_code, result.output


def test_evaluate_writes_json_and_plots(trained: tuple[Path, Path], tmp_path: Path) -> None:
    prepared, tarball = trained
    code, output = _evaluate(str(tarball), "--data-dir", str(prepared), "--out", str(tmp_path), "--target", "0.9")
    assert code == 0, output
    report = json.loads((tmp_path / "evaluation.json").read_text())
    assert report["count"] == 16 and report["split"] == "test"
    assert report["serving_ms_per_image"] > 0  # timed per image, for make bench
    predictions = report["predictions"]
    assert {p["path"].split("/")[0] for p in predictions} == {"bicycle", "motorcycle"}
    recomputed = np.mean([int(np.argmax(p["probabilities"])) == p["label"] for p in predictions])
    assert report["accuracy"] == pytest.approx(recomputed)
    assert all(sum(p["probabilities"]) == pytest.approx(1.0, abs=1e-5) for p in predictions)
    assert f"accuracy                          {report['accuracy']:.3f}" in output
    assert "lowest threshold for 0.900" in output
    for name in ("confusion_matrix.png", "reliability.png", "threshold_sweep.png"):
        with Image.open(tmp_path / name) as image:
            assert image.format == "PNG" and image.size[0] > 300


def test_evaluate_reads_the_artifact_from_s3(trained: tuple[Path, Path], tmp_path: Path) -> None:
    prepared, tarball = trained
    code, _ = _evaluate(str(tarball), "--data-dir", str(prepared), "--out", str(tmp_path / "local"))
    assert code == 0
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="models")
        s3.upload_file(str(tarball), "models", "run/model.tar.gz")
        code, output = _evaluate(
            "s3://models/run/model.tar.gz", "--data-dir", str(prepared), "--out", str(tmp_path / "s3")
        )
        assert code == 0, output
        missing_code, missing = _evaluate("s3://models/none/model.tar.gz", "--data-dir", str(prepared))
    local = json.loads((tmp_path / "local" / "evaluation.json").read_text())
    remote = json.loads((tmp_path / "s3" / "evaluation.json").read_text())
    assert remote["predictions"] == local["predictions"]
    assert missing_code == 1 and "cannot download s3://models/none/model.tar.gz" in missing


def test_evaluate_names_bad_inputs(trained: tuple[Path, Path], tmp_path: Path) -> None:
    prepared, tarball = trained
    code, output = _evaluate(str(tmp_path / "nope.tar.gz"), "--data-dir", str(prepared))
    assert code == 1 and "does not exist" in output
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    code, output = _evaluate(str(tmp_path / "junk.tar.gz"), "--data-dir", str(prepared))
    assert code == 1 and "not a readable model.tar.gz" in output
    code, output = _evaluate(str(tarball), "--data-dir", str(prepared), "--split", "validation")
    assert code == 1 and "validation.lst not found" in output
