"""The named recipes: one registry, the default as measured in RECIPE.md, variants that differ
from it only where their names say."""

from __future__ import annotations

import dataclasses

import pytest

from scones.model.recipes import DEFAULT, FAST, RECIPES, AugmentConfig, Recipe, UnknownRecipeError, get_recipe


def _differences(recipe: Recipe) -> dict[str, object]:
    return {
        f.name: getattr(recipe, f.name)
        for f in dataclasses.fields(Recipe)
        if f.name != "name" and getattr(recipe, f.name) != getattr(DEFAULT, f.name)
    }


def test_the_registry_names_each_recipe_by_its_own_name() -> None:
    assert list(RECIPES)[:2] == ["default", "fast"]
    assert all(recipe.name == name for name, recipe in RECIPES.items())
    assert get_recipe("default") is DEFAULT and get_recipe("fast") is FAST


def test_the_default_is_the_measured_recipe() -> None:
    # What RECIPE.md reports and the seed-0 artifacts were trained with: a change here changes the model.
    assert dataclasses.asdict(DEFAULT) == {
        "name": "default",
        "epochs": 80,
        "batch_size": 32,
        "learning_rate": 0.05,
        "momentum": 0.9,
        "weight_decay": 5e-4,
        "label_smoothing": 0.1,
        "warmup_fraction": 0.2,
        "widths": (32, 128, 128),
        "augment": {"crop_padding": 4, "flip": True, "color_jitter": 0.2, "cutout": 0},
        "ema_decay": 0.99,
        "ensemble": 2,
        "flip_tta": True,
        "bf16": True,
    }
    assert DEFAULT.augment == AugmentConfig()


@pytest.mark.parametrize(
    ("name", "changed"),
    [
        ("fast", {"epochs": 2}),
        ("single", {"ensemble": 1}),
        ("ensemble2x60", {"epochs": 60}),
        ("fp32", {"bf16": False}),
        ("ensemble3", {"ensemble": 3}),
    ],
)
def test_every_other_recipe_is_the_default_with_a_few_changes(name: str, changed: dict[str, object]) -> None:
    assert _differences(get_recipe(name)) == changed


def test_recipes_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT.epochs = 1  # type: ignore[misc]


def test_an_unknown_name_lists_the_recipes() -> None:
    with pytest.raises(UnknownRecipeError, match="no recipe named 'quick'; the recipes are default, fast, single"):
        get_recipe("quick")
