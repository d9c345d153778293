"""Carve a validation split out of the train split (stratified, seeded).

The test split is never touched here: it is kept for the final evaluation only.
"""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from scones.data.errors import PreparedDataError
from scones.data.layout import format_lst

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
    """Hold out `val_fraction` of every class (at least one image each) for validation."""
    if not 0.0 < val_fraction < 1.0:
        raise PreparedDataError(f"validation fraction {val_fraction} must be between 0 and 1")
    by_class: dict[int, list[Entry]] = defaultdict(list)
    for entry in entries:
        by_class[entry[1]].append(entry)
    rng = random.Random(seed)
    train: list[Entry] = []
    validation: list[Entry] = []
    for label in sorted(by_class):
        members = sorted(by_class[label])
        if len(members) < 2:
            raise PreparedDataError(f"class {label} has {len(members)} training image(s); need at least 2")
        rng.shuffle(members)
        held_out = min(len(members) - 1, max(1, round(len(members) * val_fraction)))
        validation.extend(members[:held_out])
        train.extend(members[held_out:])
    return CarvedSplit(train=sorted(train), validation=sorted(validation))
