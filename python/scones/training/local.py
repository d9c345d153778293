"""`scones train --local`: train a recipe on this machine, keep model.tar.gz here, upload it."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from scones.aws import EndpointSession, parse_s3_uri
from scones.data.errors import PreparedDataError
from scones.model import dataset
from scones.model.artifact import write_model_dir, write_tarball
from scones.model.recipes import DEFAULT, Recipe
from scones.model.trainer import EpochReport, train

# Relative to the repository, not the current folder: the README's `scones evaluate
# build/model.tar.gz` and `make evaluate MODEL=build/model.tar.gz` read it from there.
DEFAULT_KEPT_ARTIFACT = Path("build/model.tar.gz")


@dataclass
class LocalOutcome:
    model_data_url: str
    artifact_path: Path  # the same tarball, kept on this machine
    metrics: dict[str, Any] = field(default_factory=dict)


def artifact_uri(output_path: str, *, now: float | None = None) -> str:
    """An exact `.tar.gz` URI is used as is; a prefix gets `local-<UTC timestamp>/model.tar.gz`."""
    bucket, key = parse_s3_uri(output_path, require_key=False)
    if key.endswith(".tar.gz"):
        return output_path
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
    prefix = key.strip("/")
    return f"s3://{bucket}/{prefix + '/' if prefix else ''}local-{stamp}/model.tar.gz"


def check_prepared(data_dir: Path) -> None:
    lst = data_dir / "train.lst"
    if not lst.is_file() or not (data_dir / "train").is_dir():
        raise PreparedDataError(
            f"no prepared data in {data_dir} (need train.lst and train/): run `scones prepare --out {data_dir}`"
        )


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
    recipe: Recipe = DEFAULT,
    seed: int = 0,
    epochs: int | None = None,
    val_fraction: float = dataset.DEFAULT_VAL_FRACTION,
    progress: bool = True,
    time_budget_s: float | None = None,
) -> dict[str, Any]:
    """Train `recipe` on `<data_dir>/train` minus a seeded, stratified validation carve; write `output_tar`.

    `epochs` overrides the recipe's. `time_budget_s` caps the training time: where the machine is
    too slow for it, each network's schedule is shortened (at least two epochs each), so the
    result then depends on the machine. The test split is not read. Returns the metrics also
    stored in the artifact's metadata.json.
    """
    if epochs is not None:
        if epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {epochs}")
        recipe = replace(recipe, epochs=epochs)
    entries = dataset.read_lst(data_dir / "train.lst")
    train_entries, val_entries = dataset.carve_validation(entries, val_fraction=val_fraction, seed=seed)
    train_images, train_labels = dataset.load_images(data_dir / "train", train_entries)
    val_images, val_labels = dataset.load_images(data_dir / "train", val_entries)
    if progress:
        print(
            f"training on {len(train_entries)} images, validating on {len(val_entries)} "
            f"(recipe {recipe.name}, seed {seed}, {recipe.ensemble} model(s) x {recipe.epochs} epochs)",
            file=sys.stderr,
            flush=True,
        )
    result = train(
        train_images,
        train_labels,
        val_images,
        val_labels,
        recipe,
        seed=seed,
        time_budget_s=time_budget_s,
        on_epoch=_print_epoch if progress else None,
    )
    metrics: dict[str, Any] = {
        **result.metrics(),
        "val_nll_uncalibrated": result.val_nll_before,
        "epochs": recipe.epochs,
        "epochs_run": result.epochs,
        "time_budget_s": time_budget_s,
        "ensemble": recipe.ensemble,
        "seed": seed,
        "val_fraction": val_fraction,
        "train_images": len(train_entries),
        "val_images": len(val_entries),
    }
    with tempfile.TemporaryDirectory(prefix="scones-model-") as tmp:
        model_dir = Path(tmp)
        write_model_dir(
            result.predictor,
            recipe.architecture(),
            model_dir,
            {"metrics": metrics, "recipe": recipe.as_dict()},
            guard=result.guard,
        )
        write_tarball(model_dir, output_tar)
    if progress:
        print(
            f"val accuracy {result.val_accuracy:.3f}, temperature {result.temperature:.3f}, "
            f"{result.train_seconds:.0f}s ({result.precision}), peak memory {result.peak_rss_mb:.0f} MiB; "
            f"wrote {output_tar}",
            file=sys.stderr,
            flush=True,
        )
    return metrics


def train_locally(
    session: EndpointSession,
    *,
    data_dir: Path,
    output_uri: str,
    keep_artifact: Path,
    recipe: Recipe,
    seed: int,
    val_fraction: float,
    echo: Callable[[str], None],
    time_budget_s: float | None = None,
) -> LocalOutcome:
    """Train `recipe` as given (its epochs, learning rate, batch size, ensemble), keep the
    artifact at `keep_artifact`, then upload that file to `output_uri`."""
    check_prepared(data_dir)
    bucket, key = parse_s3_uri(output_uri)
    keep_artifact.parent.mkdir(parents=True, exist_ok=True)
    # Written beside its place and renamed into it: an interrupted run never leaves half a
    # tarball where `scones evaluate` would read it, nor replaces the previous one with it.
    handle, partial_name = tempfile.mkstemp(
        prefix=f".{keep_artifact.name}.", suffix=".partial", dir=keep_artifact.parent
    )
    os.close(handle)
    partial = Path(partial_name)
    try:
        metrics = train_and_package(
            data_dir,
            partial,
            recipe=recipe,
            seed=seed,
            val_fraction=val_fraction,
            progress=True,
            time_budget_s=time_budget_s,
        )
        partial.chmod(0o644)  # mkstemp's 0600 is for the partial file only
        os.replace(partial, keep_artifact)
    finally:
        partial.unlink(missing_ok=True)
    echo(f"kept the artifact at {keep_artifact}")
    echo(f"uploading {keep_artifact.stat().st_size / 1e6:.1f} MB to {output_uri}")
    session.client("s3").upload_file(str(keep_artifact), bucket, key)
    return LocalOutcome(model_data_url=output_uri, artifact_path=keep_artifact, metrics=dict(metrics or {}))
