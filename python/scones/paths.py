"""Where things are in a checkout of this repository."""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The checkout this package runs from (SCONES_REPO overrides, e.g. for an installed package)."""
    override = os.environ.get("SCONES_REPO")
    if override:
        return Path(override).resolve()
    return Path(__file__).resolve().parents[2]


DEMO_TARBALL = "data/cifar-100-python-bicycle-motorcycle.tar.gz"
