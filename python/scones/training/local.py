"""`scones train --local`: train the PyTorch model on this machine and upload model.tar.gz."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scones.aws import EndpointSession, parse_s3_uri
from scones.data.errors import PreparedDataError

FAST_EPOCHS = 2  # `--fast`: enough to produce a working artifact for the end-to-end test


@dataclass
class LocalOutcome:
    model_data_url: str
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


def train_locally(
    session: EndpointSession,
    *,
    data_dir: Path,
    output_uri: str,
    seed: int,
    epochs: int | None,
    val_fraction: float,
    echo: Callable[[str], None],
    time_budget_s: float | None = None,
) -> LocalOutcome:
    check_prepared(data_dir)
    bucket, key = parse_s3_uri(output_uri)
    from scones.model.train_local import train_and_package  # torch: import only when training

    with tempfile.TemporaryDirectory(prefix="scones-train-") as tmp:
        tarball = Path(tmp) / "model.tar.gz"
        metrics = train_and_package(
            data_dir,
            tarball,
            seed=seed,
            epochs=epochs,
            val_fraction=val_fraction,
            progress=True,
            time_budget_s=time_budget_s,
        )
        echo(f"uploading {tarball.stat().st_size / 1e6:.1f} MB to {output_uri}")
        session.client("s3").upload_file(str(tarball), bucket, key)
    return LocalOutcome(model_data_url=output_uri, metrics=dict(metrics or {}))
