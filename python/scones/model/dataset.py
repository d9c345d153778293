"""Reading the prepared image layout (docs/contracts.md) into arrays, and carving validation.

Self-contained (numpy + pillow) because SageMaker's script-mode container has no `scones`
package: this is what `train.py` reads its channels with.

    <root>/<split>/<class_name>/<file>.png     <root>/<split>.lst: index<TAB>class<TAB>path
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

if __package__:
    from .preprocess import CLASS_NAMES, IMAGE_SIZE
else:  # loaded from a SageMaker source_dir, siblings on sys.path
    from preprocess import CLASS_NAMES, IMAGE_SIZE  # type: ignore[no-redef]

Entry = tuple[str, int]  # (path relative to the split folder, class index)
# Share of each class held out of train for validation and temperature calibration: 50 images per
# class. Every entry point (local, SageMaker, script mode) defaults to this one.
DEFAULT_VAL_FRACTION = 0.1


class DatasetError(ValueError):
    """The prepared data is missing, malformed or unusable for training."""


def read_lst(path: Path) -> list[Entry]:
    if not path.is_file():
        raise DatasetError(f"{path} not found: run `scones prepare` first")
    entries: list[Entry] = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise DatasetError(f"{path}:{number}: expected index<TAB>class<TAB>path, got {line!r}")
        try:
            label = int(float(fields[1]))
        except ValueError:
            raise DatasetError(f"{path}:{number}: class {fields[1]!r} is not a number") from None
        if not 0 <= label < len(CLASS_NAMES):
            raise DatasetError(f"{path}:{number}: class {label} outside 0..{len(CLASS_NAMES) - 1}")
        entries.append((fields[2], label))
    if not entries:
        raise DatasetError(f"{path} lists no images")
    return entries


def scan_class_folders(split_dir: Path) -> list[Entry]:
    """Entries from `<split_dir>/<class_name>/*.png` when no .lst file is at hand."""
    entries = [
        (f"{name}/{png.name}", label)
        for label, name in enumerate(CLASS_NAMES)
        for png in sorted((split_dir / name).glob("*.png"))
    ]
    if not entries:
        raise DatasetError(f"no {'/'.join(CLASS_NAMES)} class folders with PNGs under {split_dir}")
    return entries


def load_images(split_dir: Path, entries: Sequence[Entry]) -> tuple[np.ndarray, np.ndarray]:
    """(N, 32, 32, 3) uint8 RGB and (N,) int64 labels for the listed images."""
    images = np.empty((len(entries), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.uint8)
    for row, (relative, _) in enumerate(entries):
        path = split_dir / relative
        if not path.is_file():
            raise DatasetError(f"{path} is listed but missing")
        with Image.open(path) as image:
            rgb = image.convert("RGB")
        if rgb.size != (IMAGE_SIZE, IMAGE_SIZE):
            raise DatasetError(f"{path} is {rgb.size[0]}x{rgb.size[1]}, expected {IMAGE_SIZE}x{IMAGE_SIZE}")
        images[row] = np.asarray(rgb)
    return images, np.array([label for _, label in entries], dtype=np.int64)


def carve_validation(entries: Sequence[Entry], *, val_fraction: float, seed: int) -> tuple[list[Entry], list[Entry]]:
    """Hold out `val_fraction` of every class (at least one image each), seeded.

    `scones.training.splits` stages the SageMaker job's channels with this same function.
    """
    if not 0.0 < val_fraction < 1.0:
        raise DatasetError(f"validation fraction {val_fraction} must be between 0 and 1")
    by_class: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_class[entry[1]].append(entry)
    rng = random.Random(seed)
    train: list[Entry] = []
    validation: list[Entry] = []
    for label in sorted(by_class):
        members = sorted(by_class[label])
        if len(members) < 2:
            raise DatasetError(f"class {label} has {len(members)} training image(s); need at least 2")
        rng.shuffle(members)
        held_out = min(len(members) - 1, max(1, round(len(members) * val_fraction)))
        validation.extend(members[:held_out])
        train.extend(members[held_out:])
    return sorted(train), sorted(validation)
