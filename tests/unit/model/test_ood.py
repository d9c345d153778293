"""The out-of-distribution guard as the endpoint serves it: an artifact trained on the real CIFAR
bicycles and motorcycles answers its score and verdict beside the probabilities when asked for
PREDICTION_MEDIA_TYPE, flags blank frames and noise, passes most test-split images, and still
answers the plain list to plain-JSON callers; an artifact without a guard answers unscored."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from scones.data.cifar import Split, read_archive
from scones.data.layout import write_split
from scones.evaluation.served_model import _import_isolated
from scones.local.runtime import model_worker
from scones.model import ood
from scones.model.net import SconesNet
from scones.model.preprocess import to_tensor
from scones.training.local import train_and_package
from tests.conftest import DEMO_TARBALL
from tests.support.model_fixtures import TINY_RECIPE, png_bytes

MEDIA_TYPE = "application/vnd.scones.prediction+json"


@pytest.fixture(scope="module")
def cifar() -> dict[str, Split]:
    return read_archive(DEMO_TARBALL)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory, cifar: dict[str, Split]) -> Path:
    # The real training split (the guard is fitted on it), a network small enough for a second's training.
    root = tmp_path_factory.mktemp("guarded")
    write_split(cifar["train"], root / "prepared")
    train_and_package(root / "prepared", root / "model.tar.gz", progress=False, recipe=TINY_RECIPE)
    with tarfile.open(root / "model.tar.gz") as tar:
        tar.extractall(root / "model", filter="data")
    return root / "model"


@pytest.fixture(scope="module")
def inference(model_dir: Path) -> ModuleType:
    return _import_isolated(model_dir / "code" / "inference.py")


@pytest.fixture(scope="module")
def model(inference: ModuleType, model_dir: Path) -> object:
    return inference.model_fn(str(model_dir))


def _answer(inference: ModuleType, model: object, body: bytes, accept: str | None) -> object:
    return json.loads(inference.output_fn(inference.predict_fn(inference.input_fn(body, "image/png"), model), accept))


def _frames() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    checkerboard = (np.indices((32, 32)).sum(axis=0) % 2 * 255).astype(np.uint8)
    return {
        "black": np.zeros((32, 32, 3), np.uint8),
        "grey": np.full((32, 32, 3), 128, np.uint8),
        "red": np.dstack([np.full((32, 32), 220, np.uint8), np.zeros((32, 32, 2), np.uint8)]),
        "uniform noise": rng.integers(0, 256, (32, 32, 3), dtype=np.uint8),
        "gaussian noise": np.clip(rng.normal(128, 50, (32, 32, 3)), 0, 255).astype(np.uint8),
        "checkerboard": np.repeat(checkerboard[:, :, None], 3, axis=2),
    }


def test_the_object_form_carries_a_deterministic_score_and_a_verdict(
    inference: ModuleType, model: object, cifar: dict[str, Split]
) -> None:
    assert inference.PREDICTION_MEDIA_TYPE == MEDIA_TYPE
    body = png_bytes(cifar["test"].images[0])
    answer = _answer(inference, model, body, MEDIA_TYPE)
    assert set(answer) == {"probabilities", "in_distribution", "out_of_distribution"}
    assert len(answer["probabilities"]) == 2 and sum(answer["probabilities"]) == pytest.approx(1.0)
    assert isinstance(answer["in_distribution"], float) and isinstance(answer["out_of_distribution"], bool)
    assert _answer(inference, model, body, MEDIA_TYPE) == answer
    # The same probabilities as a plain-JSON caller gets.
    assert _answer(inference, model, body, "application/json") == answer["probabilities"]


@pytest.mark.parametrize("accept", [None, "", "*/*", "application/json", "application/json; charset=utf-8"])
def test_plain_json_callers_get_the_two_number_list(
    inference: ModuleType, model: object, cifar: dict[str, Split], accept: str | None
) -> None:
    answer = _answer(inference, model, png_bytes(cifar["test"].images[1]), accept)
    assert isinstance(answer, list) and len(answer) == 2 and all(isinstance(p, float) for p in answer)


@pytest.mark.parametrize(
    ("accept", "form"),
    [
        (f"{MEDIA_TYPE}, application/json;q=0.5", dict),
        (f"application/json, {MEDIA_TYPE}", list),  # equal preference: the first listed
        (f"application/json;q=0.2, {MEDIA_TYPE}", dict),
        (f"text/csv, {MEDIA_TYPE};q=0.1", dict),
        (f"{MEDIA_TYPE};q=0, */*", list),  # q=0 refuses the object form
    ],
)
def test_accept_lists_are_negotiated_by_preference(
    inference: ModuleType, model: object, cifar: dict[str, Split], accept: str, form: type
) -> None:
    assert isinstance(_answer(inference, model, png_bytes(cifar["test"].images[2]), accept), form)


@pytest.mark.parametrize("accept", ["text/csv", "application/x-npy", f"{MEDIA_TYPE};q=0"])
def test_other_accepts_are_a_named_error(inference: ModuleType, accept: str) -> None:
    with pytest.raises(inference.UnsupportedAcceptError, match=MEDIA_TYPE.replace("+", r"\+")):
        inference.output_fn(np.array([[0.3, 0.7]]), accept)


def test_a_batch_answers_one_object_per_image(inference: ModuleType, model: object, cifar: dict[str, Split]) -> None:
    images = np.stack([cifar["test"].images[3], _frames()["grey"]])
    answers = json.loads(inference.output_fn(inference.predict_fn(to_tensor(images), model), MEDIA_TYPE))
    assert len(answers) == 2 and answers[1]["out_of_distribution"] is True
    plain = json.loads(inference.output_fn(inference.predict_fn(to_tensor(images), model), "application/json"))
    assert plain == [answer["probabilities"] for answer in answers]


@pytest.mark.parametrize("name", list(_frames()))
def test_blank_frames_noise_and_patterns_are_flagged(inference: ModuleType, model: object, name: str) -> None:
    answer = _answer(inference, model, png_bytes(_frames()[name]), MEDIA_TYPE)
    assert answer["out_of_distribution"] is True


def test_most_test_split_images_pass_the_guard(inference: ModuleType, model: object, cifar: dict[str, Split]) -> None:
    # Never seen in fitting; the threshold keeps 95% of the validation images, so about as many here.
    prediction = inference.predict_fn(to_tensor(cifar["test"].images), model)
    assert prediction.out_of_distribution.mean() <= 0.15


def test_no_real_photo_fails_the_input_sanity_checks(cifar: dict[str, Split]) -> None:
    for split in cifar.values():
        assert not ood.input_faults(to_tensor(split.images)).any()


def test_the_metadata_records_the_guard(model_dir: Path) -> None:
    metadata = json.loads((model_dir / "metadata.json").read_text())["ood"]
    assert metadata["method"] == "mahalanobis" and metadata["target_tpr"] == ood.DEFAULT_TARGET_TPR
    assert metadata["fitted_on"] == {"train": 900, "validation": 100}
    assert isinstance(metadata["threshold"], float)


def test_an_artifact_without_a_guard_answers_unscored(
    inference: ModuleType, model_dir: Path, cifar: dict[str, Split], tmp_path: Path
) -> None:
    saved = torch.load(model_dir / "model.pt", weights_only=True)
    del saved["ood"]  # what an artifact trained before the guard holds
    torch.save(saved, tmp_path / "model.pt")
    old = inference.model_fn(str(tmp_path))
    for image in (cifar["test"].images[0], _frames()["black"]):
        answer = _answer(inference, old, png_bytes(image), MEDIA_TYPE)
        assert answer["in_distribution"] is None and answer["out_of_distribution"] is False
    assert len(_answer(inference, old, png_bytes(cifar["test"].images[0]), "application/json")) == 2


@pytest.mark.parametrize(
    ("key", "value"),
    [("precisions", None), ("features", "penultimate, global max pool"), ("method", "energy")],
)
def test_a_damaged_or_foreign_guard_is_a_named_load_error(
    inference: ModuleType, model_dir: Path, tmp_path: Path, key: str, value: str | None
) -> None:
    saved = torch.load(model_dir / "model.pt", weights_only=True)
    if value is None:
        del saved["ood"][key]
    else:
        saved["ood"][key] = value  # a guard fitted on other features would score nonsense silently
    torch.save(saved, tmp_path / "model.pt")
    with pytest.raises(inference.ModelLoadError, match="out-of-distribution guard"):
        inference.model_fn(str(tmp_path))


@pytest.mark.parametrize("widths", [(8,), (8, 16), (8, 16, 16)])
def test_the_guards_features_come_from_the_same_forward_pass(widths: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    network = SconesNet(widths=widths).eval()
    images = torch.rand(3, 3, 32, 32)
    with torch.no_grad():
        logits, statistics = network.forward_with_statistics(images)
        assert torch.equal(logits, network(images))
    # The second-to-last block's channels (the only block's, for one).
    assert statistics.shape == (3, widths[max(len(widths) - 2, 0)])


def test_the_emulators_model_server_passes_the_accept_through(model_dir: Path, cifar: dict[str, Split]) -> None:
    service = model_worker.ModelService(model_dir)
    body, content_type = service.transform(png_bytes(cifar["test"].images[0]), "image/png", MEDIA_TYPE)
    assert content_type == MEDIA_TYPE and set(json.loads(body)) == {
        "probabilities",
        "in_distribution",
        "out_of_distribution",
    }


def test_the_threshold_keeps_the_target_share_of_validation_features() -> None:
    generator = torch.Generator().manual_seed(0)
    train = torch.randn(2, 400, 8, generator=generator, dtype=torch.float64)
    labels = torch.arange(400) % 2
    validation = torch.randn(2, 2000, 8, generator=generator, dtype=torch.float64)
    guard = ood.fit_guard(train, labels, validation, target_tpr=0.9)
    assert float((guard.scores(validation) >= guard.threshold).double().mean()) == pytest.approx(0.9, abs=0.02)
    # A few odd validation images do not loosen the threshold (a raw 1% quantile would follow them).
    odd = validation.clone()
    odd[:, :30] += 6.0
    assert ood.fit_guard(train, labels, odd, target_tpr=0.99).threshold == pytest.approx(
        ood.fit_guard(train, labels, validation, target_tpr=0.99).threshold, rel=0.05
    )
    far = validation + 10.0
    assert bool((guard.scores(far) < guard.threshold).all())
    restored = ood.Guard.from_saved(guard.to_saved())
    assert torch.equal(restored.scores(validation), guard.scores(validation))
    with pytest.raises(ValueError, match="TPR"):
        ood.fit_guard(train, labels, validation, target_tpr=1.0)
