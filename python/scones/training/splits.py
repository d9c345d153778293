"""Carve a validation split out of the train split (stratified, seeded).

The test split is never touched here: it is kept for the final evaluation only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from scones.data.errors import PreparedDataError
from scones.data.layout import format_lst
from scones.model import dataset

Entry = tuple[str, int]


@dataclass(frozen=True)
class CarvedSplit:
    train: list[Entry]
    validation: list[Entry]

    @property
    def train_lst(self) -> str:
        return format_lst(self.train)

    @property
    def validation_lst(self) -> str:
        return format_lst(self.validation)

    @property
    def digest(self) -> str:
        """Names the split by content, so re-running reuses it and never overwrites another."""
        text = self.train_lst + "\0" + self.validation_lst
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def carve_validation(entries: Sequence[Entry], *, val_fraction: float, seed: int) -> CarvedSplit:
    """Hold out `val_fraction` of every class (at least one image each) for validation.

    The algorithm lives once, in the self-contained `scones.model.dataset` that SageMaker's
    script mode also runs, so `--local` and every job hold out the same images for a seed.
    """
    try:
        train, validation = dataset.carve_validation(entries, val_fraction=val_fraction, seed=seed)
    except dataset.DatasetError as exc:
        raise PreparedDataError(str(exc)) from exc
    return CarvedSplit(train=train, validation=validation)
