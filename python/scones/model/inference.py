"""The SageMaker PyTorch serving contract for our artifact: model_fn, input_fn, predict_fn, output_fn.

Copied to `code/inference.py` in model.tar.gz (with its sibling modules), where the SageMaker
PyTorch inference container and the local emulator's model server import it. Needs only torch,
numpy and pillow. Request: image bytes (image/png, image/jpeg, application/x-image), any size.
Response: JSON `[p_bicycle, p_motorcycle]`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

if __package__:
    from .net import Predictor, build_network
    from .preprocess import CLASS_NAMES, InvalidImageError, decode_image, to_tensor
else:  # code/inference.py in the artifact, siblings on sys.path
    from net import Predictor, build_network  # type: ignore[no-redef]
    from preprocess import CLASS_NAMES, InvalidImageError, decode_image, to_tensor  # type: ignore[no-redef]

MODEL_FILE = "model.pt"
METADATA_FILE = "metadata.json"
ARTIFACT_FORMAT = 1

_FORMATS_BY_CONTENT_TYPE: dict[str, frozenset[str] | None] = {
    "image/png": frozenset({"PNG", "JPEG"}),  # tolerate a JPEG labelled as PNG and vice versa
    "image/jpeg": frozenset({"PNG", "JPEG"}),
    "image/jpg": frozenset({"PNG", "JPEG"}),
    "application/x-image": None,  # whatever Pillow decodes
}
_JSON_ACCEPTS = ("application/json", "*/*", "")


class UnsupportedContentTypeError(ValueError):
    """The request's content type is not an image type this model accepts."""


class UnsupportedAcceptError(ValueError):
    """The caller asked for a response type other than JSON."""


class ModelLoadError(RuntimeError):
    """model_dir does not hold a model this code can load."""


def model_fn(model_dir: str) -> Predictor:
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
    return Predictor(members, temperature=float(saved["temperature"]), flip_tta=bool(saved["flip_tta"])).eval()


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def input_fn(request_body: bytes | bytearray | memoryview, content_type: str) -> torch.Tensor:
    """Image bytes -> a (1, 3, 32, 32) float tensor in [0, 1]."""
    media_type = _media_type(content_type)
    if media_type not in _FORMATS_BY_CONTENT_TYPE:
        raise UnsupportedContentTypeError(
            f"content type {content_type!r} is not supported; send image bytes as {', '.join(_FORMATS_BY_CONTENT_TYPE)}"
        )
    if not isinstance(request_body, bytes | bytearray | memoryview):
        raise InvalidImageError(f"expected the image as bytes, got {type(request_body).__name__}")
    return to_tensor(decode_image(bytes(request_body), allowed_formats=_FORMATS_BY_CONTENT_TYPE[media_type]))


def predict_fn(input_data: torch.Tensor, model: Predictor) -> np.ndarray:
    """(N, 3, 32, 32) -> (N, 2) probabilities (float64, rows sum to 1)."""
    with torch.inference_mode():
        logits = model.logits(input_data).double()
    return torch.softmax(logits / model.temperature, dim=1).numpy()


def output_fn(prediction: np.ndarray | torch.Tensor | Sequence[Any], accept: str | None) -> str:
    """JSON `[p_bicycle, p_motorcycle]` for one image, a list of those for a batch."""
    if _media_type(accept) not in _JSON_ACCEPTS:
        raise UnsupportedAcceptError(f"accept type {accept!r} is not supported; ask for application/json")
    rows = np.asarray(prediction.detach().cpu() if isinstance(prediction, torch.Tensor) else prediction, dtype=float)
    rows = rows.reshape(-1, len(CLASS_NAMES))
    values = [[float(p) for p in row] for row in rows]
    return json.dumps(values[0] if len(values) == 1 else values)
