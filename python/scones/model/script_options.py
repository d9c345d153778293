"""The hyperparameters the pytorch entry point (`sagemaker_entry.py`) accepts, in one place.

SageMaker passes each hyperparameter to the entry point as `--name value`. The entry point builds
its command line from this table, and `scones train` checks `-H name=value` against it before a
job is submitted. Torch-free (stdlib only), so checking does not need the ML extras.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

if __package__:
    from .recipes import RECIPES
else:  # loaded from a SageMaker source_dir, siblings on sys.path
    from recipes import RECIPES  # type: ignore[no-redef]


@dataclass(frozen=True)
class Hyperparameter:
    name: str  # what the job's hyperparameters and argparse's dest use
    type: type[int] | type[float] | type[str]
    help: str
    choices: tuple[str, ...] | None = None

    @property
    def spellings(self) -> tuple[str, ...]:
        """`learning_rate` is also accepted as `learning-rate`."""
        dashed = self.name.replace("_", "-")
        return (self.name,) if dashed == self.name else (self.name, dashed)


HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    Hyperparameter("recipe", str, "the named recipe (recipes.py); the options below change it", tuple(RECIPES)),
    Hyperparameter("epochs", int, "epochs per network"),
    Hyperparameter("seed", int, "seeds the validation carve, initialisation, batch order and augmentation"),
    Hyperparameter("learning_rate", float, "peak learning rate of the one-cycle schedule"),
    Hyperparameter("batch_size", int, "images per SGD step"),
    Hyperparameter("ensemble", int, "networks trained and served together"),
    Hyperparameter("val_fraction", float, "share of each class carved from train for validation and calibration"),
)

BY_SPELLING: dict[str, Hyperparameter] = {s: hp for hp in HYPERPARAMETERS for s in hp.spellings}


def add_hyperparameters(parser: argparse.ArgumentParser, defaults: Mapping[str, int | float | str | None]) -> None:
    for hp in HYPERPARAMETERS:
        parser.add_argument(
            *(f"--{s}" for s in hp.spellings),
            dest=hp.name,
            type=hp.type,
            choices=hp.choices,
            default=defaults[hp.name],
            help=hp.help,
        )
