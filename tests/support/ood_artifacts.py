"""Hand-made model artifacts whose answers are known, for the evaluation's gate and OOD figures.

The serving code (code/inference.py, numpy and Pillow only) says motorcycle at 0.97 for bright
images and bicycle at 0.97 for dark ones, so every answer passes a 0.93 threshold. Its
in-distribution score is the pixels' standard deviation per channel, averaged, and it flags an image as out of
distribution when that is below FLAG_BELOW: flat frames are flagged, textured ones are not.
model.json's "mode" says how output_fn treats the object form's media type:

- "object": answers it, as the contract says (docs/contracts.md);
- "refuses": raises a ValueError for it, as an artifact built before the guard does;
- "unfitted": answers it without a score, as an artifact without a fitted guard does;
- "malformed": answers an object without the out_of_distribution key;
- "ignores": answers the plain list whatever the Accept, as hand-written serving code may.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from scones.data.layout import format_lst

FLAG_BELOW = 10.0
CONFIDENCE = 0.97

INFERENCE_PY = f"""
import io
import json

import numpy as np
from PIL import Image

MEDIA_TYPE = "application/vnd.scones.prediction+json"


class UnsupportedAcceptError(ValueError):
    pass


def model_fn(model_dir):
    with open(f"{{model_dir}}/model.json") as config:
        return json.load(config)


def input_fn(body, content_type):
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"), dtype=float)


def predict_fn(image, model):
    p = {CONFIDENCE} if image.mean() > 127.5 else 1 - {CONFIDENCE}
    score = float(image.std(axis=(0, 1)).mean())
    answer = {{"probabilities": [1 - p, p], "in_distribution": score, "out_of_distribution": score < {FLAG_BELOW}}}
    return model["mode"], answer


def output_fn(prediction, accept):
    mode, answer = prediction
    if accept == MEDIA_TYPE and mode != "ignores":
        if mode == "refuses":
            raise UnsupportedAcceptError(f"accept type {{accept!r}} is not supported")
        if mode == "unfitted":
            return json.dumps({{**answer, "in_distribution": None, "out_of_distribution": False}})
        if mode == "malformed":
            return json.dumps({{"probabilities": answer["probabilities"]}})
        return json.dumps(answer)
    return json.dumps(answer["probabilities"])
"""


def ood_artifact(directory: Path, mode: str = "object") -> Path:
    """An unpacked artifact (model.json + code/inference.py) in `directory`."""
    (directory / "code").mkdir(parents=True, exist_ok=True)
    (directory / "code" / "inference.py").write_text(INFERENCE_PY)
    (directory / "model.json").write_text(json.dumps({"mode": mode}))
    return directory


def _png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()


def known_test_split(root: Path) -> Path:
    """A prepared test split of four images with a known answer from the artifact above:
    two dark textured bicycles and a bright textured motorcycle (all right, none flagged), and a
    flat dark frame labelled motorcycle (answered bicycle at 0.97, so wrong, and flagged).
    Without the guard: coverage 1, accepted accuracy 3/4. With it: coverage 3/4, accuracy 1."""
    rng = np.random.default_rng(7)
    images = {
        "bicycle/dark-0.png": (rng.integers(20, 100, size=(32, 32, 3)), 0),
        "bicycle/dark-1.png": (rng.integers(20, 100, size=(32, 32, 3)), 0),
        "motorcycle/bright-0.png": (rng.integers(160, 240, size=(32, 32, 3)), 1),
        "motorcycle/flat-0.png": (np.full((32, 32, 3), 40), 1),
    }
    for relative, (pixels, _) in images.items():
        (root / "test" / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / "test" / relative).write_bytes(_png(pixels))
    (root / "test.lst").write_text(format_lst((relative, label) for relative, (_, label) in images.items()))
    return root
