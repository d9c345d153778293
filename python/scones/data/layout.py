"""The prepared-data layout shared by training, the S3 channels and monitoring.

    <root>/<split>/<class_name>/<cifar file name>.png
    <root>/<split>.lst      index<TAB>class<TAB>path relative to <root>/<split>/

Paths in a .lst file are relative to the split folder because that folder is what a SageMaker
image-classification channel points at. The class is also the image's parent folder name, so
any S3 key or capture InferenceId ending in `<class_name>/<file>` carries its ground truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image

from scones import CLASS_NAMES
from scones.data.cifar import Split
from scones.data.errors import PreparedDataError


def class_from_key(key: str) -> int | None:
    """The class index named by the key's parent folder, or None when the key does not say."""
    parts = PurePosixPath(key).parts
    if len(parts) < 2:
        return None
    try:
        return CLASS_NAMES.index(parts[-2])
    except ValueError:
        return None


def format_lst(entries: Iterable[tuple[str, int]]) -> str:
    return "".join(f"{index}\t{label}\t{path}\n" for index, (path, label) in enumerate(entries))


def parse_lst(text: str, *, source: str) -> list[tuple[str, int]]:
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != 3:
            raise PreparedDataError(f"{source}:{number}: expected index<TAB>class<TAB>path, got {line!r}")
        _, label, path = fields
        try:
            label_index = int(float(label))
        except ValueError:
            raise PreparedDataError(f"{source}:{number}: class {label!r} is not a number") from None
        if not 0 <= label_index < len(CLASS_NAMES):
            raise PreparedDataError(f"{source}:{number}: class {label_index} outside 0..{len(CLASS_NAMES) - 1}")
        entries.append((path, label_index))
    return entries


def write_split(split: Split, root: Path) -> list[tuple[str, int]]:
    """Write one split's PNGs (lossless) and its .lst file; returns the .lst entries."""
    split_dir = root / split.name
    entries: list[tuple[str, int]] = []
    for image, label, filename in zip(split.images, split.labels, split.filenames, strict=True):
        relative = f"{CLASS_NAMES[int(label)]}/{filename}"
        target = split_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, mode="RGB").save(target, format="PNG")
        entries.append((relative, int(label)))
    (root / f"{split.name}.lst").write_text(format_lst(entries))
    return entries


def read_split(root: Path, split: str) -> list[tuple[str, int]]:
    """The (path relative to <root>/<split>, class) pairs of a prepared split."""
    lst = root / f"{split}.lst"
    if not lst.is_file():
        raise PreparedDataError(f"{lst} not found: run `scones prepare --out {root}` first")
    entries = parse_lst(lst.read_text(), source=str(lst))
    missing = [path for path, _ in entries if not (root / split / path).is_file()]
    if missing:
        raise PreparedDataError(f"{lst} lists {len(missing)} missing images, e.g. {root / split / missing[0]}")
    return entries


def load_images(root: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """A prepared split as (N, 32, 32, 3) uint8 RGB images and their class indices."""
    entries = read_split(root, split)
    images = np.stack([np.asarray(Image.open(root / split / path).convert("RGB")) for path, _ in entries])
    return images, np.array([label for _, label in entries], dtype=np.int64)
