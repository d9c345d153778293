"""The SageMaker PyTorch serving contract for our artifact: model_fn, input_fn, predict_fn, output_fn.

Copied to `code/inference.py` in model.tar.gz (with its sibling modules), where the SageMaker
PyTorch inference container and the local emulator's model server import it. Needs only torch,
numpy and pillow. Request: image bytes (image/png, image/jpeg, application/x-image), any size.

Response, by the request's Accept:
- application/json, */* or none: `[p_bicycle, p_motorcycle]` (what every client before the
  out-of-distribution guard reads, and what the SageMaker SDK's JSON deserializer expects);
- `PREDICTION_MEDIA_TYPE`: `{"probabilities": [p_bicycle, p_motorcycle], "in_distribution": score
  or null, "out_of_distribution": bool}`, the guard's score (higher = more like the training
  images) and decision (ood.py); an artifact trained before the guard answers null and false.
A batch of N images answers a list of N of either.

Batch requests (`BATCH_MEDIA_TYPE`, docs/contracts.md): a JSON list of base64-encoded images in one request,
answered with a JSON list of the same length, in the same order, of the `PREDICTION_MEDIA_TYPE` object for
each image, or, for an image that is not valid base64 or not a decodable image,
`{"error": "InvalidImageError", "message": ...}`: one bad image does not fail the others.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

if __package__:
    from .net import Predictor, build_network
    from .ood import Guard, GuardFormatError
    from .preprocess import CLASS_NAMES, InvalidImageError, decode_image, to_tensor
else:  # code/inference.py in the artifact, siblings on sys.path
    from net import Predictor, build_network  # type: ignore[no-redef]
    from ood import Guard, GuardFormatError  # type: ignore[no-redef]
    from preprocess import CLASS_NAMES, InvalidImageError, decode_image, to_tensor  # type: ignore[no-redef]

MODEL_FILE = "model.pt"
METADATA_FILE = "metadata.json"
# The guard is an optional key ("ood") of the same format: code of either side of it loads the
# other's artifacts (older code ignores the key; this code serves an artifact without it unguarded).
ARTIFACT_FORMAT = 1
GUARD_KEY = "ood"
PREDICTION_MEDIA_TYPE = "application/vnd.scones.prediction+json"
BATCH_MEDIA_TYPE = "application/vnd.scones.batch+json"
# Images per batch request: InvokeEndpoint's 6 MB request limit holds about 30 images of the 150 KiB the
# workflow accepts (base64), and a few hundred 32x32 tensors are nothing to the model; this only stops a
# mistaken request from holding the worker for long.
MAX_BATCH_IMAGES = 256

_FORMATS_BY_CONTENT_TYPE: dict[str, frozenset[str] | None] = {
    "image/png": frozenset({"PNG", "JPEG"}),  # tolerate a JPEG labelled as PNG and vice versa
    "image/jpeg": frozenset({"PNG", "JPEG"}),
    "image/jpg": frozenset({"PNG", "JPEG"}),
    "application/x-image": None,  # whatever Pillow decodes
}
_LIST_ACCEPTS = frozenset({"application/json", "application/*", "*/*", ""})


class UnsupportedContentTypeError(ValueError):
    """The request's content type is not an image type this model accepts."""


class UnsupportedAcceptError(ValueError):
    """The caller asked for a response type this endpoint does not answer in."""


class InvalidBatchError(ValueError):
    """A batch request that is not a JSON list of base64 strings (the whole request is refused)."""


class ModelLoadError(RuntimeError):
    """model_dir does not hold a model this code can load."""


# NamedTuples, not dataclasses: the serving toolkit (and served_model) import this file without
# registering it in sys.modules, where dataclasses look their module up.
class SconesModel(NamedTuple):
    """What model_fn loads: the ensemble, and its out-of-distribution guard where it was fitted."""

    predictor: Predictor
    guard: Guard | None


class Prediction(NamedTuple):
    """What predict_fn returns for N images."""

    probabilities: np.ndarray  # (N, classes) float64, rows sum to 1
    in_distribution: np.ndarray | None  # (N,) float64 scores; None without a guard
    out_of_distribution: np.ndarray  # (N,) bool; all False without a guard


class BatchInput(NamedTuple):
    """What input_fn returns for a batch request: the decodable images and, per position, its error."""

    images: torch.Tensor | None  # (M, 3, 32, 32), M = the positions without an error; None when M = 0
    errors: list[str | None]  # one per image of the request: None, or why it was not decodable


class BatchPrediction(NamedTuple):
    """What predict_fn returns for a BatchInput."""

    prediction: Prediction | None
    errors: list[str | None]


def model_fn(model_dir: str) -> SconesModel:
    path = Path(model_dir) / MODEL_FILE
    if not path.is_file():
        raise ModelLoadError(
            f"{path} not found: the model directory holds {sorted(p.name for p in Path(model_dir).iterdir())}"
        )
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any unpickling failure means the same thing to the caller
        raise ModelLoadError(f"{path} is not a loadable model: {exc}") from exc
    if not isinstance(saved, dict) or saved.get("format") != ARTIFACT_FORMAT:
        raise ModelLoadError(f"{path} is not a scones model of format {ARTIFACT_FORMAT}")
    if tuple(saved["class_names"]) != CLASS_NAMES:
        raise ModelLoadError(f"{path} predicts {saved['class_names']}, this code serves {list(CLASS_NAMES)}")
    members = []
    for state in saved["members"]:
        try:
            network = build_network(saved["architecture"])
            network.load_state_dict(state)
        except (KeyError, ValueError, RuntimeError) as exc:  # saved by a different network definition
            raise ModelLoadError(f"{path} holds weights this code's network cannot take: {exc}") from exc
        members.append(network.eval())
    predictor = Predictor(members, temperature=float(saved["temperature"]), flip_tta=bool(saved["flip_tta"])).eval()
    guard = None
    if saved.get(GUARD_KEY) is not None:
        try:
            guard = Guard.from_saved(saved[GUARD_KEY])
        except GuardFormatError as exc:
            raise ModelLoadError(f"{path} holds an out-of-distribution guard this code cannot use: {exc}") from exc
    return SconesModel(predictor, guard)


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def input_fn(request_body: bytes | bytearray | memoryview | str, content_type: str) -> torch.Tensor | BatchInput:
    """Image bytes -> a (1, 3, 32, 32) float tensor in [0, 1]; a batch request -> a BatchInput."""
    media_type = _media_type(content_type)
    if media_type == BATCH_MEDIA_TYPE:
        return _batch_input(request_body)
    if media_type not in _FORMATS_BY_CONTENT_TYPE:
        raise UnsupportedContentTypeError(
            f"content type {content_type!r} is not supported; send image bytes as "
            f"{', '.join(_FORMATS_BY_CONTENT_TYPE)}, or a JSON list of base64 images as {BATCH_MEDIA_TYPE}"
        )
    if not isinstance(request_body, bytes | bytearray | memoryview):
        raise InvalidImageError(f"expected the image as bytes, got {type(request_body).__name__}")
    return to_tensor(decode_image(bytes(request_body), allowed_formats=_FORMATS_BY_CONTENT_TYPE[media_type]))


def _batch_input(request_body: bytes | bytearray | memoryview | str) -> BatchInput:
    try:
        images = json.loads(bytes(request_body) if not isinstance(request_body, str) else request_body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidBatchError(f"a {BATCH_MEDIA_TYPE} request must be JSON: {exc}") from None
    if not isinstance(images, list) or not images or not all(isinstance(image, str) for image in images):
        raise InvalidBatchError(f"a {BATCH_MEDIA_TYPE} request must be a non-empty JSON list of base64 strings")
    if len(images) > MAX_BATCH_IMAGES:
        raise InvalidBatchError(f"a batch request holds at most {MAX_BATCH_IMAGES} images, got {len(images)}")
    tensors: list[torch.Tensor] = []
    errors: list[str | None] = []
    for position, encoded in enumerate(images):
        try:
            data = base64.b64decode(encoded, validate=True)
            tensors.append(to_tensor(decode_image(data, allowed_formats=_FORMATS_BY_CONTENT_TYPE["image/png"])))
            errors.append(None)
        except (binascii.Error, ValueError) as exc:  # InvalidImageError is a ValueError
            errors.append(f"image {position} of the batch: {exc}")
    return BatchInput(torch.cat(tensors) if tensors else None, errors)


def predict_fn(input_data: torch.Tensor | BatchInput, model: SconesModel) -> Prediction | BatchPrediction:
    """(N, 3, 32, 32) in [0, 1] -> the probabilities and, where the artifact has a guard, its verdict."""
    if isinstance(input_data, BatchInput):
        images = input_data.images
        return BatchPrediction(None if images is None else _predict(images, model), input_data.errors)
    return _predict(input_data, model)


def _predict(input_data: torch.Tensor, model: SconesModel) -> Prediction:
    predictor, guard = model.predictor, model.guard
    with torch.inference_mode():
        logits, features = predictor.logits_and_features(input_data)
        probabilities = torch.softmax(logits.double() / predictor.temperature, dim=1).numpy()
        if guard is None:
            return Prediction(probabilities, None, np.zeros(len(probabilities), dtype=bool))
        scores = guard.scores(features)
        flagged = guard.flags(scores, input_data)
    return Prediction(probabilities, scores.numpy(), flagged.numpy())


def _negotiated(accept: str | None) -> str:
    """The response form for an Accept header: PREDICTION_MEDIA_TYPE or "application/json".

    Media ranges are taken in order of their q values (ties: as listed; q=0 refuses one): the
    SageMaker inference toolkit hands output_fn the request's Accept unparsed (its own
    default_output_fn splits it at commas, sagemaker-inference-toolkit PR 61), replacing only a
    missing or */* one with application/json. The response's Content-Type is that Accept as sent,
    so callers wanting the object form should ask for PREDICTION_MEDIA_TYPE alone.
    """
    ranges = []
    for position, item in enumerate((accept or "").split(",")):
        media_type, *parameters = (part.strip() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranges.append((-quality, position, media_type.lower()))
    for _, _, media_type in sorted(ranges):
        if media_type == PREDICTION_MEDIA_TYPE:
            return PREDICTION_MEDIA_TYPE
        if media_type in _LIST_ACCEPTS:
            return "application/json"
    raise UnsupportedAcceptError(
        f"accept type {accept!r} is not supported; ask for application/json ([p_bicycle, p_motorcycle]) "
        f"or {PREDICTION_MEDIA_TYPE} (the probabilities with the out-of-distribution verdict)"
    )


def _as_prediction(prediction: Prediction | np.ndarray | torch.Tensor | Sequence[Any]) -> Prediction:
    if isinstance(prediction, Prediction):
        return prediction
    rows = np.asarray(prediction.detach().cpu() if isinstance(prediction, torch.Tensor) else prediction, dtype=float)
    rows = rows.reshape(-1, len(CLASS_NAMES))
    return Prediction(rows, None, np.zeros(len(rows), dtype=bool))


def _prediction_objects(result: Prediction) -> list[dict[str, Any]]:
    rows = result.probabilities.reshape(-1, len(CLASS_NAMES))
    scores = result.in_distribution
    return [
        {
            "probabilities": [float(p) for p in row],
            "in_distribution": None if scores is None else float(scores[i]),
            "out_of_distribution": bool(result.out_of_distribution[i]),
        }
        for i, row in enumerate(rows)
    ]


def _batch_output(result: BatchPrediction, accept: str | None) -> str:
    """The batch answer: per image of the request, its prediction object or its error."""
    if accept and _media_type(accept) != BATCH_MEDIA_TYPE:
        _negotiated(accept)  # anything but the batch type must still be a type this endpoint answers
    predictions = iter(_prediction_objects(result.prediction) if result.prediction is not None else [])
    answers = [
        next(predictions) if error is None else {"error": "InvalidImageError", "message": error}
        for error in result.errors
    ]
    return json.dumps(answers)


def output_fn(
    prediction: Prediction | BatchPrediction | np.ndarray | torch.Tensor | Sequence[Any], accept: str | None
) -> str:
    """One image: `[p_bicycle, p_motorcycle]`, or for PREDICTION_MEDIA_TYPE the object with the
    guard's verdict; a batch: a list of those. `prediction` may also be bare probabilities (an
    array of N x 2), which answer the object form unscored. A batch request (BatchPrediction) answers
    its list of objects and errors whatever the Accept, as long as it is one this endpoint answers."""
    if isinstance(prediction, BatchPrediction):
        return _batch_output(prediction, accept)
    form = _negotiated(accept)
    result = _as_prediction(prediction)
    rows = result.probabilities.reshape(-1, len(CLASS_NAMES))
    values: list[Any] = [[float(p) for p in row] for row in rows]
    if form == PREDICTION_MEDIA_TYPE:
        values = _prediction_objects(result)
    return json.dumps(values[0] if len(values) == 1 else values)
