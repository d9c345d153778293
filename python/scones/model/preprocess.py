"""Image bytes -> the network's input: decoding, resizing to 32x32 RGB, normalisation.

Self-contained (numpy + pillow + torch): copied into the model artifact's `code/`.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

CLASS_NAMES = ("bicycle", "motorcycle")  # model output order; equals scones.CLASS_NAMES
IMAGE_SIZE = 32
# Channel statistics of CIFAR-100's training set; fixed so serving never depends on our data.
MEAN = (0.5071, 0.4865, 0.4409)
STD = (0.2673, 0.2564, 0.2762)
# Larger inputs are almost certainly not meant for this model and cost memory to decode.
MAX_PIXELS = 4096 * 4096


class InvalidImageError(ValueError):
    """The request body is not a decodable image (or is absurdly large)."""


def decode_image(body: bytes, *, allowed_formats: frozenset[str] | None = None) -> np.ndarray:
    """Any PNG/JPEG (or other Pillow format when allowed) -> (32, 32, 3) uint8 RGB.

    Non-square images are centre-cropped to a square first: CIFAR photos have the object in
    the middle, and squashing would distort it.
    """
    if not body:
        raise InvalidImageError("the request body is empty, expected image bytes")
    try:
        image = Image.open(io.BytesIO(body))
        if allowed_formats is not None and image.format not in allowed_formats:
            raise InvalidImageError(
                f"the body is a {image.format} image; expected one of {', '.join(sorted(allowed_formats))}"
            )
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise InvalidImageError(f"the image is {width}x{height}; at most {MAX_PIXELS} pixels are accepted")
        image.load()
    except InvalidImageError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImageError(f"the body is not a decodable image: {exc}") from None
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # Composite on white so transparent pixels do not turn black.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, rgba)
    image = image.convert("RGB")
    return np.asarray(_square_resize(image), dtype=np.uint8)


def _square_resize(image: Image.Image) -> Image.Image:
    width, height = image.size
    if (width, height) == (IMAGE_SIZE, IMAGE_SIZE):
        return image
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return square.resize((IMAGE_SIZE, IMAGE_SIZE), Image.Resampling.BICUBIC, reducing_gap=3.0)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, 32, 32, 3) or (32, 32, 3) uint8 -> (N, 3, 32, 32) float32 in [0, 1], not normalised."""
    if images.ndim == 3:
        images = images[None]
    return torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))).float().div_(255.0)


def normalise(batch: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(MEAN, dtype=batch.dtype).view(1, 3, 1, 1)
    std = torch.tensor(STD, dtype=batch.dtype).view(1, 3, 1, 1)
    return (batch - mean) / std
