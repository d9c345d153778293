"""Compare named training recipes on a validation carve of the train split (never the test split).

    .venv/bin/python scripts/recipe_experiments.py --variants default,single --seeds 0,1,2,3,4
    .venv/bin/python scripts/recipe_experiments.py --list

The variants are the named recipes of python/scones/model/recipes.py. Prints one JSON line per
variant and seed (validation accuracy, NLL, coverage and accuracy of accepted predictions at 0.93,
seconds) and appends it to --out. Probabilities are calibrated out of sample: each half of the
carve by a temperature fitted on the other half. The numbers in python/scones/model/RECIPE.md
come from this script.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from scones import CLASS_NAMES
from scones.evaluation.metrics import classification_report
from scones.model import dataset
from scones.model.calibration import fit_temperature
from scones.model.recipes import RECIPES, Recipe
from scones.model.trainer import train


def _cross_calibrated(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Probabilities with each half of the carve calibrated by a temperature fitted on the other
    half: coverage measured on the images the temperature was fitted on flatters the model."""
    probabilities = torch.empty_like(logits, dtype=torch.float64)
    index = torch.arange(len(labels))
    for half in (0, 1):
        fit, apply = index[index % 2 == half], index[index % 2 != half]
        temperature = fit_temperature(logits[fit], labels[fit])
        probabilities[apply] = torch.softmax(logits[apply].double() / temperature, dim=1)
    return probabilities


@functools.cache
def _carve(data_dir: Path, seed: int, val_fraction: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train images, labels, validation images, labels): read once per carve, not per variant."""
    entries = dataset.read_lst(data_dir / "train.lst")
    train_entries, val_entries = dataset.carve_validation(entries, val_fraction=val_fraction, seed=seed)
    return (
        *dataset.load_images(data_dir / "train", train_entries),
        *dataset.load_images(data_dir / "train", val_entries),
    )


def evaluate_variant(recipe: Recipe, data_dir: Path, *, seed: int, val_fraction: float) -> dict:
    train_x, train_y, val_x, val_y = _carve(data_dir, seed, val_fraction)
    started = time.perf_counter()
    result = train(train_x, train_y, val_x, val_y, recipe, seed=seed)
    seconds = time.perf_counter() - started
    labels = torch.from_numpy(val_y).long()
    probabilities = _cross_calibrated(result.val_logits, labels)
    report = classification_report(probabilities.numpy(), val_y, CLASS_NAMES, threshold=0.93, target=0.99)
    nll = float(torch.nn.functional.nll_loss(probabilities.clamp_min(1e-12).log(), labels))
    return {
        "variant": recipe.name,
        "seed": seed,
        "val_images": len(val_y),
        "val_accuracy": round(report["accuracy"], 4),
        "val_nll": round(nll, 4),
        "coverage_at_0.93": round(report["at_threshold"]["coverage"], 4),
        "accepted_accuracy_at_0.93": report["at_threshold"]["accepted_accuracy"],
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=Path("data/prepared"))
    parser.add_argument("--variants", default="default")
    parser.add_argument("--seeds", default="0", help="comma-separated")
    parser.add_argument("--val-fraction", type=float, default=0.2)
    parser.add_argument("--out", type=Path, default=Path("build/recipe_experiments.jsonl"))
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        print("\n".join(RECIPES))
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.variants.split(","):
        if name not in RECIPES:
            print(f"unknown variant {name!r}; --list shows them", file=sys.stderr)
            return 2
        for seed in (int(s) for s in args.seeds.split(",")):
            row = evaluate_variant(RECIPES[name], args.data_dir, seed=seed, val_fraction=args.val_fraction)
            line = json.dumps(row)
            print(line, flush=True)
            with args.out.open("a") as handle:
                handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
