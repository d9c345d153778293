"""The hyperparameters the pytorch recipe accepts, in one place.

SageMaker passes each hyperparameter to the entry point as `--name value`. The entry point builds
its command line from this table, and `scones train` checks `-H name=value` against it (names,
types, ranges) before a job is submitted or a local run starts, then builds the local run's
recipe with `chosen_recipe`, as the entry point does. Torch-free (stdlib only), so checking does
not need the ML extras.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

if __package__:
    from .recipes import RECIPES, Recipe, get_recipe
else:  # loaded from a SageMaker source_dir, siblings on sys.path
    from recipes import RECIPES, Recipe, get_recipe  # type: ignore[no-redef]

Value = int | float | str


@dataclass(frozen=True)
class Hyperparameter:
    name: str  # what the job's hyperparameters and argparse's dest use
    type: type[int] | type[float] | type[str]
    help: str
    choices: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    open_bounds: bool = False  # the bounds themselves are out of range

    @property
    def spellings(self) -> tuple[str, ...]:
        """`learning_rate` is also accepted as `learning-rate`."""
        dashed = self.name.replace("_", "-")
        return (self.name,) if dashed == self.name else (self.name, dashed)

    def parse(self, text: str) -> Value:
        """`text` as this hyperparameter's value; ValueError saying what it must be otherwise."""
        try:
            value = self.type(text)
        except ValueError:
            kind = {int: "an integer", float: "a number"}.get(self.type, "a string")
            raise ValueError(f"must be {kind}") from None
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"is one of {', '.join(self.choices)}")
        if not self._in_range(value):
            raise ValueError(f"must be {self.range_text()}")
        return value

    def _in_range(self, value: Value) -> bool:
        if isinstance(value, str):
            return True
        if self.minimum is not None and (value <= self.minimum if self.open_bounds else value < self.minimum):
            return False
        return self.maximum is None or (value < self.maximum if self.open_bounds else value <= self.maximum)

    def range_text(self) -> str:
        low, high = ("above", "below") if self.open_bounds else ("at least", "at most")
        bounds = [f"{low} {self.type(self.minimum)}"] if self.minimum is not None else []
        bounds += [f"{high} {self.type(self.maximum)}"] if self.maximum is not None else []
        return " and ".join(bounds) or "any value"


HYPERPARAMETERS: tuple[Hyperparameter, ...] = (
    Hyperparameter("recipe", str, "the named recipe (recipes.py); the options below change it", tuple(RECIPES)),
    Hyperparameter("epochs", int, "epochs per network", minimum=1),
    Hyperparameter("seed", int, "seeds the validation carve, initialisation, batch order and augmentation"),
    Hyperparameter("learning_rate", float, "peak learning rate of the one-cycle schedule", minimum=0, open_bounds=True),
    Hyperparameter("batch_size", int, "images per SGD step", minimum=1),
    Hyperparameter("ensemble", int, "networks trained and served together", minimum=1),
    Hyperparameter(
        "val_fraction",
        float,
        "share of each class carved from train for validation and calibration",
        minimum=0,
        maximum=1,
        open_bounds=True,
    ),
)

BY_NAME: dict[str, Hyperparameter] = {hp.name: hp for hp in HYPERPARAMETERS}
BY_SPELLING: dict[str, Hyperparameter] = {s: hp for hp in HYPERPARAMETERS for s in hp.spellings}

# Each changes the chosen recipe's field of the same name; unset, the recipe's own value stands.
RECIPE_OVERRIDES = ("epochs", "learning_rate", "batch_size", "ensemble")


def chosen_recipe(values: Mapping[str, Value | None]) -> Recipe:
    """The named recipe (`values["recipe"]`) with the RECIPE_OVERRIDES among `values` applied."""
    overrides = {name: values[name] for name in RECIPE_OVERRIDES if values.get(name) is not None}
    return replace(get_recipe(str(values["recipe"])), **overrides)


def _argparse_type(hp: Hyperparameter) -> Callable[[str], Value]:
    def parse(text: str) -> Value:
        try:
            return hp.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"{hp.name} {exc}") from None

    return parse


def add_hyperparameters(parser: argparse.ArgumentParser, defaults: Mapping[str, Value | None]) -> None:
    for hp in HYPERPARAMETERS:
        parser.add_argument(
            *(f"--{s}" for s in hp.spellings),
            dest=hp.name,
            type=_argparse_type(hp),
            default=defaults[hp.name],
            help=hp.help,
        )
