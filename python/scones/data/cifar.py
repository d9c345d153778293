"""Reading CIFAR-100 python pickles safely and keeping only bicycles and motorcycles."""

from __future__ import annotations

import io
import pickle
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from scones import CIFAR_FINE_LABELS, CLASS_NAMES
from scones.data.errors import InvalidArchiveError

SPLITS = ("train", "test")
_MEMBER_DIR = "cifar-100-python"
_ROW_BYTES = 3 * 32 * 32


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """CIFAR's pickles only need numpy's array reconstruction; refusing every other global
    means a malicious tarball cannot run code."""

    _ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("_codecs", "encode"),  # Python 3 protocol-2 pickles of bytes use it; it only encodes text
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self._ALLOWED:
            raise InvalidArchiveError(f"refusing to unpickle {module}.{name}: not a CIFAR-100 pickle")
        if module == "numpy.core.multiarray":  # numpy 2 moved it; pickles still name the old path
            module = "numpy._core.multiarray"
        return super().find_class(module, name)


@dataclass(frozen=True)
class Split:
    """Images of one split: `images` is (N, 32, 32, 3) uint8 RGB, `labels` our class indices."""

    name: str
    images: np.ndarray
    labels: np.ndarray
    filenames: tuple[str, ...]


def rows_to_images(rows: np.ndarray) -> np.ndarray:
    """CIFAR rows are channel-major (1024 R, 1024 G, 1024 B, each row-major) -> (N, 32, 32, 3)."""
    return rows.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).copy()


def _text_keys(obj: Any, member: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise InvalidArchiveError(f"{member}: expected a dict, found {type(obj).__name__}")
    return {k.decode() if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def _load_member(archive: tarfile.TarFile, split: str) -> dict[str, Any]:
    member = f"{_MEMBER_DIR}/{split}"
    try:
        handle = archive.extractfile(member)
    except KeyError:
        names = sorted(archive.getnames())[:10]
        raise InvalidArchiveError(f"archive has no member {member!r} (it has {names})") from None
    if handle is None:
        raise InvalidArchiveError(f"archive member {member!r} is not a file")
    try:
        raw = _NumpyOnlyUnpickler(io.BytesIO(handle.read()), encoding="bytes").load()
    except InvalidArchiveError:
        raise
    except Exception as exc:
        raise InvalidArchiveError(f"{member}: not a readable pickle: {exc}") from None
    return _text_keys(raw, member)


def _select(split: str, data: dict[str, Any]) -> Split:
    missing = {"data", "fine_labels", "filenames"} - data.keys()
    if missing:
        raise InvalidArchiveError(f"{split}: missing keys {sorted(missing)} (has {sorted(data)})")
    rows = np.asarray(data["data"])
    if rows.ndim != 2 or rows.shape[1] != _ROW_BYTES or rows.dtype != np.uint8:
        raise InvalidArchiveError(f"{split}: data must be (N, {_ROW_BYTES}) uint8, got {rows.shape} {rows.dtype}")
    fine = np.asarray(data["fine_labels"])
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in data["filenames"]]
    if not len(fine) == len(names) == len(rows):
        raise InvalidArchiveError(f"{split}: {len(rows)} rows, {len(fine)} labels, {len(names)} filenames")
    keep = np.isin(fine, list(CIFAR_FINE_LABELS))
    ours = np.array([CIFAR_FINE_LABELS.get(int(f), -1) for f in fine[keep]], dtype=np.int64)
    for fine_label, index in CIFAR_FINE_LABELS.items():
        if not np.any(ours == index):
            raise InvalidArchiveError(f"{split}: no images with fine label {fine_label} ({CLASS_NAMES[index]})")
    return Split(
        name=split,
        images=rows_to_images(rows[keep]),
        labels=ours,
        filenames=tuple(n for n, k in zip(names, keep, strict=True) if k),
    )


def read_archive(path: Path) -> dict[str, Split]:
    """Both splits of a CIFAR-100 python tarball, bicycles and motorcycles only."""
    try:
        with tarfile.open(path, "r:*") as archive:
            return {split: _select(split, _load_member(archive, split)) for split in SPLITS}
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise InvalidArchiveError(f"{path}: not a readable tar archive: {exc}") from None
