"""The model package's standalone copies stay in step with the scones package; dataset errors are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from scones import CLASS_NAMES
from scones.model import dataset, preprocess


def test_model_code_uses_the_packages_class_order() -> None:
    assert preprocess.CLASS_NAMES == CLASS_NAMES


def test_malformed_lst_is_a_named_error(tmp_path: Path) -> None:
    (tmp_path / "train.lst").write_text("0\tbicycle\tbicycle/a.png\n")
    with pytest.raises(dataset.DatasetError, match="not a number"):
        dataset.read_lst(tmp_path / "train.lst")
    with pytest.raises(dataset.DatasetError, match="not found"):
        dataset.read_lst(tmp_path / "missing.lst")
