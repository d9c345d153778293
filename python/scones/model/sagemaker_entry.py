"""SageMaker script-mode entry point: `python sagemaker_entry.py --recipe default --seed 0 ...`.

Channels (environment set by SageMaker; all can be overridden on the command line):
- SM_CHANNEL_TRAIN: the prepared train images (`<class_name>/<file>.png`), or a prepared root
  holding `train/` and `train.lst`;
- SM_CHANNEL_TRAIN_LST / SM_CHANNEL_VALIDATION_LST (optional): the carved train and validation
  lists (one .lst file each). Without them the validation split is carved here, seeded.
Writes model.pt, metadata.json and code/ to SM_MODEL_DIR (SageMaker tars it as model.tar.gz)
and prints `epoch=N train_loss=X val_accuracy=Y` lines the job's metric definitions read.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if __package__:
    from . import dataset
    from .artifact import write_model_dir
    from .recipes import DEFAULT
    from .script_options import RECIPE_OVERRIDES, add_hyperparameters, chosen_recipe
    from .trainer import EpochReport, train
else:  # run as a script from the SageMaker source_dir, siblings on sys.path
    import dataset  # type: ignore[no-redef]
    from artifact import write_model_dir  # type: ignore[no-redef]
    from recipes import DEFAULT  # type: ignore[no-redef]
    from script_options import RECIPE_OVERRIDES, add_hyperparameters, chosen_recipe  # type: ignore[no-redef]
    from trainer import EpochReport, train  # type: ignore[no-redef]


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = {
        "recipe": DEFAULT.name,
        "seed": 0,
        "val_fraction": dataset.DEFAULT_VAL_FRACTION,
        **dict.fromkeys(RECIPE_OVERRIDES),
    }
    add_hyperparameters(parser, defaults)
    parser.add_argument("--model-dir", type=Path, default=_env_path("SM_MODEL_DIR"))
    parser.add_argument("--train", type=Path, default=_env_path("SM_CHANNEL_TRAIN"))
    parser.add_argument("--train-lst", type=Path, default=_env_path("SM_CHANNEL_TRAIN_LST"))
    parser.add_argument("--validation-lst", type=Path, default=_env_path("SM_CHANNEL_VALIDATION_LST"))
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # The SDK can add its own hyperparameters; they are not ours to reject.
        print(f"ignoring unknown arguments: {' '.join(unknown)}", file=sys.stderr)
    if args.model_dir is None or args.train is None:
        parser.error("SM_MODEL_DIR and SM_CHANNEL_TRAIN must be set (or pass --model-dir and --train)")
    return args


def _lst_in(channel: Path, preferred: str) -> Path:
    """A channel is a folder holding one .lst file (or the file itself)."""
    if channel.is_file():
        return channel
    if (channel / preferred).is_file():
        return channel / preferred
    found = sorted(channel.glob("*.lst"))
    if len(found) != 1:
        raise dataset.DatasetError(f"expected one .lst file in {channel}, found {[p.name for p in found]}")
    return found[0]


def resolve_splits(args: argparse.Namespace) -> tuple[Path, list[dataset.Entry], list[dataset.Entry]]:
    """(image folder, train entries, validation entries) from whatever channels were given."""
    image_dir = args.train
    root_lst: Path | None = None
    if (args.train / "train.lst").is_file() and (args.train / "train").is_dir():
        image_dir, root_lst = args.train / "train", args.train / "train.lst"
    if args.train_lst is not None and args.validation_lst is not None:
        return (
            image_dir,
            dataset.read_lst(_lst_in(args.train_lst, "train.lst")),
            dataset.read_lst(_lst_in(args.validation_lst, "validation.lst")),
        )
    if args.train_lst is not None:
        entries = dataset.read_lst(_lst_in(args.train_lst, "train.lst"))
    elif root_lst is not None:
        entries = dataset.read_lst(root_lst)
    else:
        entries = dataset.scan_class_folders(image_dir)
    train_entries, val_entries = dataset.carve_validation(entries, val_fraction=args.val_fraction, seed=args.seed)
    return image_dir, train_entries, val_entries


def _print_metrics(report: EpochReport) -> None:
    print(
        f"member={report.member + 1} epoch={report.epoch} train_loss={report.train_loss:.5f} "
        f"val_accuracy={report.val_accuracy:.5f} elapsed_s={report.elapsed_s:.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    image_dir, train_entries, val_entries = resolve_splits(args)
    train_images, train_labels = dataset.load_images(image_dir, train_entries)
    val_images, val_labels = dataset.load_images(image_dir, val_entries)
    print(f"train {len(train_entries)} images, validation {len(val_entries)} images from {image_dir}", flush=True)
    recipe = chosen_recipe(vars(args))
    result = train(train_images, train_labels, val_images, val_labels, recipe, seed=args.seed, on_epoch=_print_metrics)
    metrics = {
        **result.metrics(),
        "epochs": recipe.epochs,
        "seed": args.seed,
        "train_images": len(train_entries),
        "val_images": len(val_entries),
    }
    write_model_dir(
        result.predictor,
        recipe.architecture(),
        args.model_dir,
        {"metrics": metrics, "recipe": recipe.as_dict()},
        guard=result.guard,
    )
    print(
        f"final val_accuracy={result.val_accuracy:.5f} temperature={result.temperature:.4f} "
        f"train_seconds={result.train_seconds:.1f}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
