"""Compare training-recipe variants on a validation carve of the train split (never the test split).

    .venv/bin/python scripts/recipe_experiments.py --data-dir data/prepared --variants default,epochs30
    .venv/bin/python scripts/recipe_experiments.py --list

Prints one JSON line per variant (validation accuracy, NLL, coverage and accuracy of accepted
predictions at 0.93, seconds) and appends it to --out. The numbers in
python/scones/model/RECIPE.md come from this script.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from scones import CLASS_NAMES
from scones.model import dataset
from scones.model.augment import AugmentConfig
from scones.model.metrics import classification_report
from scones.model.preprocess import to_tensor
from scones.model.trainer import DEFAULT_RECIPE, Recipe, train

NO_EMA = replace(DEFAULT_RECIPE, ema_decay=0.0)  # the default before weight averaging was measured

VARIANTS: dict[str, Recipe] = {
    "default": DEFAULT_RECIPE,
    "epochs30": replace(DEFAULT_RECIPE, epochs=30),
    "no-augmentation": replace(DEFAULT_RECIPE, augment=AugmentConfig(crop_padding=0, flip=False, color_jitter=0.0)),
    "crop-flip-only": replace(DEFAULT_RECIPE, augment=AugmentConfig(color_jitter=0.0), label_smoothing=0.0),
    "no-ema": NO_EMA,
    "no-ema-batch128": replace(NO_EMA, batch_size=128, learning_rate=0.1),
    "no-ema-ensemble2x25": replace(NO_EMA, epochs=25, ensemble=2),
    "ema-epochs70": replace(DEFAULT_RECIPE, epochs=70),
    "ema-cutout8": replace(DEFAULT_RECIPE, augment=AugmentConfig(cutout=8)),
    "ema-mixup": replace(DEFAULT_RECIPE, mixup_alpha=0.2),
    "ema-no-smoothing": replace(DEFAULT_RECIPE, label_smoothing=0.0),
    "wide30": replace(DEFAULT_RECIPE, widths=(48, 96, 192), epochs=30),
    "deep": replace(DEFAULT_RECIPE, blocks=(2, 2, 2), epochs=30),
    "ensemble3x20": replace(DEFAULT_RECIPE, epochs=20, ensemble=3),
    "ema-epochs70-cutout8": replace(DEFAULT_RECIPE, epochs=70, augment=AugmentConfig(cutout=8)),
    "ema-wd1e-3": replace(DEFAULT_RECIPE, weight_decay=1e-3),
    "ensemble2x40": replace(DEFAULT_RECIPE, epochs=40, ensemble=2),
}


def evaluate_variant(name: str, recipe: Recipe, data_dir: Path, *, seed: int, val_fraction: float) -> dict:
    entries = dataset.read_lst(data_dir / "train.lst")
    train_entries, val_entries = dataset.carve_validation(entries, val_fraction=val_fraction, seed=seed)
    train_x, train_y = dataset.load_images(data_dir / "train", train_entries)
    val_x, val_y = dataset.load_images(data_dir / "train", val_entries)
    started = time.perf_counter()
    result = train(train_x, train_y, val_x, val_y, recipe, seed=seed)
    seconds = time.perf_counter() - started
    with torch.no_grad():
        probabilities = result.predictor(to_tensor(val_x)).numpy()
    report = classification_report(probabilities, val_y, CLASS_NAMES, threshold=0.93, target=0.99)
    return {
        "variant": name,
        "seed": seed,
        "val_images": len(val_y),
        "val_accuracy": round(result.val_accuracy, 4),
        "val_nll": round(result.val_nll_after, 4),
        "temperature": round(result.temperature, 3),
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
        print("\n".join(VARIANTS))
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for name in args.variants.split(","):
        if name not in VARIANTS:
            print(f"unknown variant {name!r}; --list shows them", file=sys.stderr)
            return 2
        for seed in (int(s) for s in args.seeds.split(",")):
            row = evaluate_variant(name, VARIANTS[name], args.data_dir, seed=seed, val_fraction=args.val_fraction)
            line = json.dumps(row)
            print(line, flush=True)
            with args.out.open("a") as handle:
                handle.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
