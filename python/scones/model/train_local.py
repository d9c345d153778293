"""Train the default recipe on this machine from the prepared layout and write model.tar.gz.

`scones train --local` calls `train_and_package` and uploads the tarball it writes.
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from scones.model import dataset
from scones.model.artifact import write_model_dir, write_tarball
from scones.model.trainer import DEFAULT_RECIPE, EpochReport, Recipe, train


def _print_epoch(report: EpochReport) -> None:
    member = f"model {report.member + 1}/{report.members} " if report.members > 1 else ""
    print(
        f"{member}epoch {report.epoch}/{report.epochs}: loss {report.train_loss:.4f}, "
        f"val accuracy {report.val_accuracy:.3f}, {report.elapsed_s:.0f}s",
        file=sys.stderr,
        flush=True,
    )


def train_and_package(
    data_dir: Path,
    output_tar: Path,
    *,
    seed: int = 0,
    epochs: int | None = None,
    val_fraction: float = dataset.DEFAULT_VAL_FRACTION,
    progress: bool = True,
    time_budget_s: float | None = None,
    recipe: Recipe | None = None,
) -> dict[str, Any]:
    """Train on `<data_dir>/train` minus a seeded, stratified validation carve; write `output_tar`.

    `epochs` overrides the recipe's (e.g. 2 for a quick working artifact). `time_budget_s` caps
    the training time: where the machine is too slow for it, each network's schedule is shortened
    (at least two epochs each), so the result then depends on the machine. The test split is not
    read. Returns the metrics also stored in the artifact's metadata.json.
    """
    chosen = recipe or DEFAULT_RECIPE
    if epochs is not None:
        if epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {epochs}")
        chosen = replace(chosen, epochs=epochs)
    entries = dataset.read_lst(data_dir / "train.lst")
    train_entries, val_entries = dataset.carve_validation(entries, val_fraction=val_fraction, seed=seed)
    train_images, train_labels = dataset.load_images(data_dir / "train", train_entries)
    val_images, val_labels = dataset.load_images(data_dir / "train", val_entries)
    if progress:
        print(
            f"training on {len(train_entries)} images, validating on {len(val_entries)} "
            f"(seed {seed}, {chosen.ensemble} model(s) x {chosen.epochs} epochs)",
            file=sys.stderr,
            flush=True,
        )
    result = train(
        train_images,
        train_labels,
        val_images,
        val_labels,
        chosen,
        seed=seed,
        time_budget_s=time_budget_s,
        on_epoch=_print_epoch if progress else None,
    )
    metrics: dict[str, Any] = {
        **result.metrics(),
        "val_nll_uncalibrated": result.val_nll_before,
        "epochs": chosen.epochs,
        "epochs_run": result.epochs,
        "time_budget_s": time_budget_s,
        "ensemble": chosen.ensemble,
        "seed": seed,
        "val_fraction": val_fraction,
        "train_images": len(train_entries),
        "val_images": len(val_entries),
    }
    with tempfile.TemporaryDirectory(prefix="scones-model-") as tmp:
        model_dir = Path(tmp)
        write_model_dir(
            result.predictor,
            chosen.architecture(),
            model_dir,
            {"metrics": metrics, "recipe": chosen.as_dict()},
        )
        write_tarball(model_dir, output_tar)
    if progress:
        print(
            f"val accuracy {result.val_accuracy:.3f}, temperature {result.temperature:.3f}, "
            f"{result.train_seconds:.0f}s ({result.precision}); wrote {output_tar}",
            file=sys.stderr,
            flush=True,
        )
    return metrics
