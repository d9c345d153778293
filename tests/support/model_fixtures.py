"""Shared fixtures for the model tests: a tiny synthetic prepared dataset and a tiny recipe."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from scones import CLASS_NAMES
from scones.data.layout import format_lst
from scones.model.recipes import AugmentConfig, Recipe

# Small enough that a training run takes about a second on one core.
TINY_RECIPE = Recipe(
    "tiny",
    epochs=1,
    batch_size=8,
    widths=(8, 16),
    augment=AugmentConfig(crop_padding=2, color_jitter=0.1, cutout=4),
    ensemble=2,
    # fp32 throughout: on a network this small the probe's bf16/fp32 timings are close, so the
    # precision (and the weights) would follow the machine's load. The probe's tests set its timings.
    bf16=False,
)


def synthetic_image(label: int, index: int, size: int = 32) -> np.ndarray:
    """Bicycles dark with vertical stripes, motorcycles bright with horizontal ones: learnable."""
    rng = np.random.default_rng(1000 * label + index)
    base = 60 if label == 0 else 190
    image = rng.integers(base - 40, base + 40, size=(size, size, 3))
    if label == 0:
        image[:, ::4] = 0
    else:
        image[::4, :] = 255
    return image.astype(np.uint8)


def png_bytes(image: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=fmt)
    return buffer.getvalue()


def make_prepared(root: Path, *, per_class: int = 10, splits: tuple[str, ...] = ("train", "test")) -> Path:
    """`scones prepare`'s layout with synthetic images."""
    for offset, split in enumerate(splits):
        entries = []
        for label, name in enumerate(CLASS_NAMES):
            for index in range(per_class):
                relative = f"{name}/{split}_{index:03d}.png"
                target = root / split / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(png_bytes(synthetic_image(label, index + 100 * offset)))
                entries.append((relative, label))
        (root / f"{split}.lst").write_text(format_lst(entries))
    return root
