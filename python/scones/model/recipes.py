"""The training recipes, by name: `scones train --recipe NAME`, the entry point's `--recipe NAME`.

A recipe is one frozen `Recipe`. The fields' defaults are the default recipe's hyperparameters,
with the measurement behind each (RECIPE.md has the tables); every other recipe is the default
with a few of them changed. Stdlib only, so `scones train` checks a name without torch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class AugmentConfig:
    crop_padding: int = 4  # random translation by up to this many pixels (reflect-padded)
    flip: bool = True
    color_jitter: float = 0.2  # brightness/contrast/saturation factors drawn from [1 - j, 1 + j]
    cutout: int = 0  # side of a square erased at a random place; 0 = off


@dataclass(frozen=True)
class Recipe:
    name: str
    epochs: int = 80  # 2 members side by side: ~120-137 s on 2 AMD EPYC cores in bf16; 70 cost a point (RECIPE.md)
    batch_size: int = 32  # batch 128 (lr 0.1) was faster but 2 points worse on validation (RECIPE.md)
    learning_rate: float = 0.05  # peak of the one-cycle schedule (SGD, Nesterov momentum)
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    warmup_fraction: float = 0.2
    widths: tuple[int, ...] = (32, 128, 128)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    ema_decay: float = 0.99  # serve an exponential moving average of the weights (0 = off); RECIPE.md
    ensemble: int = 2  # 2 x 80 epochs: +0.9 points on five validation carves over 1 x 80 (RECIPE.md)
    flip_tta: bool = True
    bf16: bool = True  # CPU training under bfloat16 autocast where a probe measures it faster (RECIPE.md)

    def architecture(self) -> dict[str, Any]:
        return {"widths": list(self.widths)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT = Recipe("default")
# A working two-network artifact in seconds: smoke tests and the end-to-end test.
FAST = replace(DEFAULT, name="fast", epochs=2)
# Variants measured in RECIPE.md, kept so `scripts/recipe_experiments.py` can reproduce its tables.
SINGLE = replace(DEFAULT, name="single", ensemble=1)  # the third round's default: one network
ENSEMBLE2X60 = replace(SINGLE, name="ensemble2x60", epochs=60, ensemble=2)  # third round
FP32 = replace(DEFAULT, name="fp32", bf16=False)  # fifth round: the default without bf16
ENSEMBLE3 = replace(DEFAULT, name="ensemble3", ensemble=3)  # fifth round: a third network

RECIPES: dict[str, Recipe] = {recipe.name: recipe for recipe in (DEFAULT, FAST, SINGLE, ENSEMBLE2X60, FP32, ENSEMBLE3)}


class UnknownRecipeError(ValueError):
    """No recipe has this name."""


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise UnknownRecipeError(f"no recipe named {name!r}; the recipes are {', '.join(RECIPES)}") from None
