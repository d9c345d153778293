"""The out-of-distribution evaluation set: images that are neither a bicycle nor a motorcycle, which
the confidence gate should not pass.

Two parts, each split into a `guide` part (may guide choices: scores, thresholds, sanity checks)
and a `report` part (only for the figures `scones evaluate` and `make bench` report):

- `synthetic`: flat colours, gradients, noise of several kinds, stripes, checkerboards, over- and
  under-exposed and broken-sensor frames, generated from fixed seeds (scones.evaluation.synthetic_frames);
  the two splits use disjoint seeds. 110 guide, 220 report.
- `natural`: 32x32 crops of photos and scans of people, animals, objects, textures, text and
  science imagery, from sample images Python packages ship (ood_natural/natural.npz, made by
  scripts/make_ood_natural.py; ood_natural/SOURCES.md lists every source, its licence and split).
  Split by source photo: all crops of one photo are on the same side.

    from scones.evaluation import ood_sets
    for image in ood_sets.load("natural", "guide"):
        image.name, image.source, image.pixels  # (32, 32, 3) uint8 RGB
        image.png()                             # the bytes an endpoint would be sent
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

from scones.evaluation import synthetic_frames

PARTS = ("synthetic", "natural")
SPLITS = ("guide", "report")
# Data of this package (package-data in pyproject.toml), not of the checkout: it travels with the code.
NATURAL_FILE = Path(__file__).resolve().parent / "ood_natural" / "natural.npz"


class OodSetError(ValueError):
    """An unknown part or split, or a natural-image file that is missing or malformed."""


@dataclass(frozen=True)
class OodImage:
    name: str  # unique within its part
    source: str  # the photo (or seed) it comes from: what guide and report are split by
    group: str  # for per-group figures: the synthetic kind, or the photo (LFW faces together)
    pixels: np.ndarray  # (32, 32, 3) uint8 RGB

    def png(self) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(self.pixels).save(buffer, format="PNG")
        return buffer.getvalue()


def load(part: str, split: str, *, natural_file: Path | None = None) -> list[OodImage]:
    """Every image of `part` ("synthetic" or "natural") in `split` ("guide" or "report"), in a fixed
    order. `natural_file` overrides ood_natural/natural.npz."""
    if part not in PARTS:
        raise OodSetError(f"unknown part {part!r}; known: {', '.join(PARTS)}")
    if split not in SPLITS:
        raise OodSetError(f"unknown split {split!r}; known: {', '.join(SPLITS)}")
    if part == "synthetic":
        return [
            OodImage(name, source, source.split("/")[1], pixels)
            for name, source, pixels in synthetic_frames.frames(split)
        ]
    return [image for side, image in _natural(natural_file or NATURAL_FILE) if side == split]


@cache
def _natural(path: Path) -> tuple[tuple[str, OodImage], ...]:
    """(split, image) for every image of the file, read once per process."""
    try:
        with np.load(path) as data:
            images, names, sources, splits = (data[key] for key in ("images", "names", "sources", "splits"))
    except (OSError, KeyError, ValueError) as exc:
        raise OodSetError(f"{path} is not a natural OOD image file (scripts/make_ood_natural.py): {exc}") from exc
    if images.ndim != 4 or images.shape[1:] != (32, 32, 3) or images.dtype != np.uint8:
        raise OodSetError(
            f"{path} holds images of shape {images.shape} and type {images.dtype}, not (N, 32, 32, 3) uint8"
        )
    if not len(images) == len(names) == len(sources) == len(splits):
        raise OodSetError(f"{path}: images, names, sources and splits differ in length")
    result = []
    for pixels, name, source, split in zip(images, names, sources, splits, strict=True):
        if str(split) not in SPLITS:
            raise OodSetError(f"{path}: image {name} has split {split!r}")
        pixels.setflags(write=False)
        group = re.sub(r"-\d+$", "", str(source))  # lfw-face-012 -> lfw-face
        result.append((str(split), OodImage(str(name), str(source), group, pixels)))
    return tuple(result)
