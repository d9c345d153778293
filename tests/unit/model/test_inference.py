"""The artifact's code/inference.py, loaded the way the serving container loads it: PNG and JPEG
of any size in, JSON [p_bicycle, p_motorcycle] out, named errors for bad requests."""

from __future__ import annotations

import base64
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from scones.evaluation.served_model import ArtifactError, ServedModel, _import_isolated
from scones.local.runtime import model_worker
from scones.training.local import train_and_package
from tests.support.model_fixtures import TINY_RECIPE, make_prepared, png_bytes, synthetic_image


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("artifact")
    prepared = make_prepared(root / "prepared", per_class=8, splits=("train",))
    train_and_package(prepared, root / "model.tar.gz", progress=False, recipe=TINY_RECIPE)
    with tarfile.open(root / "model.tar.gz") as tar:
        tar.extractall(root / "model", filter="data")
    return root / "model"


@pytest.fixture(scope="module")
def inference(model_dir: Path) -> Iterator[ModuleType]:
    # As the toolkit does: code/ on sys.path, inference.py imported as a top-level module.
    yield _import_isolated(model_dir / "code" / "inference.py")


@pytest.fixture(scope="module")
def model(inference: ModuleType, model_dir: Path) -> object:
    return inference.model_fn(str(model_dir))


def _serve(inference: ModuleType, model: object, body: bytes, content_type: str) -> list[float]:
    response = inference.output_fn(
        inference.predict_fn(inference.input_fn(body, content_type), model), "application/json"
    )
    return json.loads(response)


@pytest.mark.parametrize(
    ("fmt", "content_type", "size"),
    [
        ("PNG", "image/png", 32),
        ("JPEG", "image/jpeg", 32),
        ("PNG", "application/x-image", 32),
        ("JPEG", "image/jpeg", 200),  # any size is centre-cropped and resized to 32x32
        ("PNG", "image/png; charset=binary", 17),
    ],
)
def test_image_in_two_probabilities_out(
    inference: ModuleType, model: object, fmt: str, content_type: str, size: int
) -> None:
    body = png_bytes(synthetic_image(1, 3, size=size), fmt=fmt)
    probabilities = _serve(inference, model, body, content_type)
    assert isinstance(probabilities, list) and len(probabilities) == 2
    assert all(isinstance(p, float) and 0.0 <= p <= 1.0 for p in probabilities)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-9)


def test_grayscale_and_transparent_images_are_converted_to_rgb(inference: ModuleType) -> None:
    gray = png_bytes(synthetic_image(0, 1)[:, :, 0])
    rgba = png_bytes(np.dstack([synthetic_image(0, 1), np.full((32, 32), 128, np.uint8)]))
    for body in (gray, rgba):
        tensor = inference.input_fn(body, "image/png")
        assert tuple(tensor.shape) == (1, 3, 32, 32)
        assert float(tensor.min()) >= 0.0 and float(tensor.max()) <= 1.0


def test_predictions_are_repeatable(inference: ModuleType, model: object) -> None:
    body = png_bytes(synthetic_image(0, 5))
    assert _serve(inference, model, body, "image/png") == _serve(inference, model, body, "image/png")


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "image/gif", ""])
def test_unsupported_content_type_is_a_named_error(inference: ModuleType, content_type: str) -> None:
    with pytest.raises(inference.UnsupportedContentTypeError, match="not supported"):
        inference.input_fn(png_bytes(synthetic_image(0, 0)), content_type)


@pytest.mark.parametrize("body", [b"", b"not an image at all", png_bytes(synthetic_image(0, 0))[:60]])
def test_undecodable_bytes_are_a_named_error(inference: ModuleType, body: bytes) -> None:
    with pytest.raises(inference.InvalidImageError):
        inference.input_fn(body, "image/png")


def test_gif_labelled_as_png_is_refused(inference: ModuleType) -> None:
    with pytest.raises(inference.InvalidImageError, match="GIF"):
        inference.input_fn(png_bytes(synthetic_image(0, 0), fmt="GIF"), "image/png")


def test_only_json_responses(inference: ModuleType) -> None:
    with pytest.raises(inference.UnsupportedAcceptError):
        inference.output_fn(np.array([[0.2, 0.8]]), "text/csv")
    assert json.loads(inference.output_fn(np.array([[0.2, 0.8]]), "*/*")) == [0.2, 0.8]
    assert json.loads(inference.output_fn(np.array([[0.2, 0.8], [0.6, 0.4]]), "application/json")) == [
        [0.2, 0.8],
        [0.6, 0.4],
    ]


def test_model_fn_names_a_missing_or_foreign_model(inference: ModuleType, tmp_path: Path) -> None:
    with pytest.raises(inference.ModelLoadError, match="not found"):
        inference.model_fn(str(tmp_path))
    torch.save({"weights": torch.zeros(2)}, tmp_path / "model.pt")
    with pytest.raises(inference.ModelLoadError, match="not a scones model"):
        inference.model_fn(str(tmp_path))
    (tmp_path / "model.pt").write_bytes(b"garbage")
    with pytest.raises(inference.ModelLoadError, match="not a loadable model"):
        inference.model_fn(str(tmp_path))


def test_model_fn_names_weights_of_another_network(inference: ModuleType, model_dir: Path, tmp_path: Path) -> None:
    saved = torch.load(model_dir / "model.pt", weights_only=True)
    # What an artifact of the earlier residual network looks like to this code: other layer names.
    saved["members"] = [{"stem.0.weight": torch.zeros(8, 3, 3, 3)}]
    torch.save(saved, tmp_path / "model.pt")
    with pytest.raises(inference.ModelLoadError, match="cannot take"):
        inference.model_fn(str(tmp_path))
    saved["architecture"] = {"widths": [8] * 9}  # more stages than 32 pixels can be pooled into
    torch.save(saved, tmp_path / "model.pt")
    with pytest.raises(inference.ModelLoadError, match="cannot take"):
        inference.model_fn(str(tmp_path))


def test_the_emulators_model_server_serves_the_artifact(model_dir: Path) -> None:
    service = model_worker.ModelService(model_dir)
    body, _ = service.transform(png_bytes(synthetic_image(1, 2)), "image/png", "application/json")
    probabilities = json.loads(body)
    assert len(probabilities) == 2 and sum(probabilities) == pytest.approx(1.0)


def test_served_model_wraps_load_failures(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match=r"no code/inference\.py"):
        ServedModel(tmp_path)


# -- Batch requests (BATCH_MEDIA_TYPE): a JSON list of base64 images, a list of per-image answers -------------


def _batch_body(*images: bytes | str) -> bytes:
    return json.dumps(
        [image if isinstance(image, str) else base64.b64encode(image).decode() for image in images]
    ).encode()


def test_a_batch_answers_each_image_as_its_own_request_does(inference: ModuleType, model: object) -> None:
    bodies = [png_bytes(synthetic_image(label, index)) for label, index in ((0, 1), (1, 2), (0, 3))]
    batch = inference.BATCH_MEDIA_TYPE
    answers = json.loads(
        inference.output_fn(inference.predict_fn(inference.input_fn(_batch_body(*bodies), batch), model), batch)
    )
    singles = [
        json.loads(
            inference.output_fn(
                inference.predict_fn(inference.input_fn(body, "image/png"), model), inference.PREDICTION_MEDIA_TYPE
            )
        )
        for body in bodies
    ]
    assert len(answers) == 3
    for answer, single in zip(answers, singles, strict=True):
        assert set(answer) == set(single) == {"probabilities", "in_distribution", "out_of_distribution"}
        assert answer["probabilities"] == pytest.approx(single["probabilities"], abs=1e-6)
        assert answer["out_of_distribution"] == single["out_of_distribution"]


def test_a_bad_image_in_a_batch_is_an_error_for_that_image_only(inference: ModuleType, model: object) -> None:
    good = png_bytes(synthetic_image(1, 4))
    body = _batch_body(good, b"not an image at all", "%%% not base64 %%%", good)
    batch = inference.BATCH_MEDIA_TYPE
    answers = json.loads(inference.output_fn(inference.predict_fn(inference.input_fn(body, batch), model), batch))
    assert [sorted(answer) for answer in answers] == [
        ["in_distribution", "out_of_distribution", "probabilities"],
        ["error", "message"],
        ["error", "message"],
        ["in_distribution", "out_of_distribution", "probabilities"],
    ]
    assert answers[1]["error"] == answers[2]["error"] == "InvalidImageError"
    assert answers[1]["message"].startswith("image 1 of the batch")
    assert answers[0]["probabilities"] == pytest.approx(answers[3]["probabilities"], abs=1e-6)


def test_a_batch_of_only_bad_images_answers_only_errors(inference: ModuleType, model: object) -> None:
    batch = inference.BATCH_MEDIA_TYPE
    answers = json.loads(
        inference.output_fn(inference.predict_fn(inference.input_fn(_batch_body(b"x"), batch), model), batch)
    )
    assert [answer["error"] for answer in answers] == ["InvalidImageError"]


@pytest.mark.parametrize("body", [b"not json", b"{}", b"[]", b"[1, 2]", json.dumps(["aGk="] * 257).encode()])
def test_a_batch_that_is_not_a_list_of_base64_strings_is_refused(inference: ModuleType, body: bytes) -> None:
    with pytest.raises(inference.InvalidBatchError):
        inference.input_fn(body, inference.BATCH_MEDIA_TYPE)


def test_a_batch_answer_needs_an_accept_the_endpoint_answers(inference: ModuleType, model: object) -> None:
    prediction = inference.predict_fn(
        inference.input_fn(_batch_body(png_bytes(synthetic_image(0, 0))), inference.BATCH_MEDIA_TYPE), model
    )
    with pytest.raises(inference.UnsupportedAcceptError):
        inference.output_fn(prediction, "text/csv")
    for accept in ("*/*", inference.PREDICTION_MEDIA_TYPE, inference.BATCH_MEDIA_TYPE):
        assert "probabilities" in json.loads(inference.output_fn(prediction, accept))[0]


def test_the_emulators_model_server_serves_a_batch(model_dir: Path) -> None:
    service = model_worker.ModelService(model_dir)
    body = _batch_body(png_bytes(synthetic_image(1, 2)), b"GIF89a")
    answer, _ = service.transform(body, "application/vnd.scones.batch+json", "application/vnd.scones.batch+json")
    first, second = json.loads(answer)
    assert sum(first["probabilities"]) == pytest.approx(1.0)
    assert second["error"] == "InvalidImageError"
