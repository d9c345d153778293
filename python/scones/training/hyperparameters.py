"""Hyperparameters for both algorithms: defaults, first-class options, `--hyperparameter k=v`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from scones import CLASS_NAMES
from scones.model.dataset import DEFAULT_VAL_FRACTION
from scones.model.recipes import DEFAULT, Recipe
from scones.model.script_options import BY_NAME, BY_SPELLING, HYPERPARAMETERS, chosen_recipe
from scones.training.errors import InvalidHyperparameterError

DEFAULT_SEED = 0

# Every hyperparameter the built-in image-classification algorithm accepts (AWS docs,
# "Image Classification Hyperparameters"). The algorithm rejects unknown names only after the
# instance has started and been paid for, so we reject them before submitting.
IMAGE_CLASSIFICATION_NAMES = frozenset(
    {
        "num_classes",
        "num_training_samples",
        "augmentation_type",
        "beta_1",
        "beta_2",
        "checkpoint_frequency",
        "early_stopping",
        "early_stopping_min_epochs",
        "early_stopping_patience",
        "early_stopping_tolerance",
        "epochs",
        "eps",
        "gamma",
        "image_shape",
        "kv_store",
        "learning_rate",
        "lr_scheduler_factor",
        "lr_scheduler_step",
        "mini_batch_size",
        "momentum",
        "multi_label",
        "num_layers",
        "optimizer",
        "precision_dtype",
        "resize",
        "top_k",
        "use_pretrained_model",
        "use_weighted_loss",
        "weight_decay",
    }
)

# Hyperparameters the algorithm documents as `True`/`False` (capitalized): an override in another case is
# rewritten to that spelling, anything else refused before a paid instance starts.
IMAGE_CLASSIFICATION_BOOLEANS = frozenset({"early_stopping"})

# Fine-tuning an ImageNet ResNet-18 on 900 32x32 images: few epochs, small learning rate,
# augmentation against overfitting, early stopping on validation accuracy.
IMAGE_CLASSIFICATION_DEFAULTS: dict[str, str] = {
    "image_shape": "3,32,32",
    "num_classes": str(len(CLASS_NAMES)),
    "num_layers": "18",
    "use_pretrained_model": "1",
    "epochs": "30",
    "learning_rate": "0.01",
    "mini_batch_size": "32",
    "optimizer": "sgd",
    "augmentation_type": "crop_color_transform",
    # The algorithm's boolean spelling ("Valid values: True or False"); "true" is not it.
    "early_stopping": "True",
    "early_stopping_min_epochs": "5",
    "early_stopping_patience": "5",
    "early_stopping_tolerance": "0.0",
}

# Everything else is the recipe's: the same named recipes as `scones train --local` (RECIPE.md).
PYTORCH_DEFAULTS: dict[str, str] = {
    "seed": str(DEFAULT_SEED),
    "recipe": DEFAULT.name,
    "val_fraction": str(DEFAULT_VAL_FRACTION),
}


def parse_overrides(pairs: Iterable[str]) -> dict[str, str]:
    """`key=value` strings -> dict; a key given twice is an error, not a silent last-wins."""
    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key or not value.strip():
            raise InvalidHyperparameterError(f"--hyperparameter {pair!r}: expected key=value")
        if key in overrides:
            raise InvalidHyperparameterError(f"--hyperparameter {key} is given twice")
        overrides[key] = value.strip()
    return overrides


def _merge(defaults: Mapping[str, str], options: Mapping[str, object], overrides: Mapping[str, str]) -> dict:
    chosen = {key: str(value) for key, value in options.items() if value is not None}
    clash = sorted(set(chosen) & set(overrides))
    if clash:
        raise InvalidHyperparameterError(f"{', '.join(clash)} set both by an option and by --hyperparameter; use one")
    return {**defaults, **chosen, **overrides}


def image_classification_hyperparameters(
    *,
    num_training_samples: int,
    epochs: int | None = None,
    learning_rate: float | None = None,
    mini_batch_size: int | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - IMAGE_CLASSIFICATION_NAMES)
    if unknown:
        raise InvalidHyperparameterError(
            f"image-classification has no hyperparameter {', '.join(unknown)}; "
            f"known: {', '.join(sorted(IMAGE_CLASSIFICATION_NAMES))}"
        )
    options = {
        "num_training_samples": num_training_samples,
        "epochs": epochs,
        "learning_rate": learning_rate,
        "mini_batch_size": mini_batch_size,
    }
    for name in IMAGE_CLASSIFICATION_BOOLEANS & set(overrides):
        spelled = overrides[name].strip().capitalize()
        if spelled not in ("True", "False"):
            raise InvalidHyperparameterError(f"--hyperparameter {name}={overrides[name]}: must be True or False")
        overrides[name] = spelled
    if "num_training_samples" in overrides:
        # The count comes from the carved train split; a different number breaks the LR schedule.
        raise InvalidHyperparameterError("num_training_samples is computed from the train split")
    merged = _merge(IMAGE_CLASSIFICATION_DEFAULTS, options, overrides)
    batch = int(merged["mini_batch_size"])
    if batch > num_training_samples:
        raise InvalidHyperparameterError(f"mini_batch_size {batch} exceeds the {num_training_samples} training samples")
    return merged


def check_pytorch_overrides(overrides: Mapping[str, str]) -> dict[str, str]:
    """Overrides by the entry point's names (`learning-rate` -> `learning_rate`), values checked
    against the option's type and range; InvalidHyperparameterError for anything the entry point
    would not take. SageMaker jobs and `--local` runs are both checked here."""
    unknown = sorted(key for key in overrides if key not in BY_SPELLING)
    if unknown:
        raise InvalidHyperparameterError(
            f"pytorch has no hyperparameter {', '.join(unknown)}; "
            f"known: {', '.join(sorted(hp.name for hp in HYPERPARAMETERS))}"
        )
    checked: dict[str, str] = {}
    for key, value in overrides.items():
        hp = BY_SPELLING[key]
        if hp.name in checked:
            raise InvalidHyperparameterError(f"--hyperparameter {hp.name} is given twice (as {key})")
        try:
            hp.parse(value)
        except ValueError as exc:
            raise InvalidHyperparameterError(f"--hyperparameter {key}={value}: pytorch's {hp.name} {exc}") from None
        checked[hp.name] = value
    return checked


def pytorch_hyperparameters(
    *,
    recipe: str | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    learning_rate: float | None = None,
    mini_batch_size: int | None = None,
    val_fraction: float | None = None,
    overrides: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Passed to the entry point as `--key value` (SageMaker script mode; see sagemaker_entry.py),
    and what `pytorch_run` builds a local run from."""
    options = {
        "recipe": recipe,
        "epochs": epochs,
        "seed": seed,
        "learning_rate": learning_rate,
        "batch_size": mini_batch_size,
        "val_fraction": val_fraction,
    }
    return _merge(PYTORCH_DEFAULTS, options, check_pytorch_overrides(dict(overrides or {})))


@dataclass(frozen=True)
class PytorchRun:
    """What a pytorch run's hyperparameters mean: the recipe it trains and how train is carved."""

    recipe: Recipe
    seed: int
    val_fraction: float


def pytorch_run(hyperparameters: Mapping[str, str]) -> PytorchRun:
    """`pytorch_hyperparameters`' result read as the entry point reads it (`chosen_recipe`)."""
    values = {name: BY_NAME[name].parse(text) for name, text in hyperparameters.items()}
    return PytorchRun(chosen_recipe(values), seed=int(values["seed"]), val_fraction=float(values["val_fraction"]))
