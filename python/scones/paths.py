"""Where things are in a checkout of this repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def repo_root() -> Path:
    """The checkout this package runs from (SCONES_REPO overrides, e.g. for an installed package)."""
    override = os.environ.get("SCONES_REPO")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


DEMO_TARBALL = "data/cifar-100-python-bicycle-motorcycle.tar.gz"


def repo_default(relative: str) -> dict[str, Any]:
    """click option settings for a default path inside the checkout, whatever the current folder:
    `@click.option("--out", type=click.Path(path_type=Path), **repo_default("build/monitor"))`.
    A path the user passes stays relative to the current folder, as usual."""
    return {"default": lambda: repo_root() / relative, "show_default": f"<repo>/{relative}"}
