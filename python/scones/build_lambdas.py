"""Deterministic Lambda zips: each function's folder plus the shared `lambda_common` package.

A function is a folder of `lambdas/` with an `app.py` (its handler is `app.handler`); `common/`
is the shared package. Nothing else lists the functions: adding one is adding its folder (and its
entry in the stack's `functions` map and its state in the ASL).

Byte-identical output for identical sources (fixed order, timestamps and permissions), so
Terraform's source_code_hash only changes when the code does.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import click

from scones.paths import repo_root

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest timestamp a zip entry can hold
_SKIP_PARTS = {"__pycache__", ".pytest_cache"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}


class LambdaSourceError(click.ClickException):
    """A function's sources are missing or malformed."""


def _files_under(base: Path, arc_prefix: str) -> list[tuple[str, Path]]:
    entries = []
    for path in base.rglob("*"):
        rel = path.relative_to(base)
        if path.is_dir() or _SKIP_PARTS.intersection(rel.parts) or path.suffix in _SKIP_SUFFIXES:
            continue
        entries.append((f"{arc_prefix}{rel.as_posix()}", path))
    return entries


def discover(src: Path) -> tuple[str, ...]:
    """The functions under `src`: every folder with an `app.py`, sorted (so builds are ordered)."""
    names = tuple(sorted(path.parent.name for path in src.glob("*/app.py") if path.parent.name != "common"))
    if not names:
        raise LambdaSourceError(f"no function under {src}: expected <name>/app.py folders")
    return names


def zip_entries(src: Path, name: str) -> list[tuple[str, Path]]:
    function_dir = src / name
    if not (function_dir / "app.py").is_file():
        raise LambdaSourceError(f"{function_dir}/app.py not found")
    common = src / "common" / "lambda_common"
    if not (common / "__init__.py").is_file():
        raise LambdaSourceError(f"{common}/__init__.py not found")
    entries = _files_under(function_dir, "") + _files_under(common, "lambda_common/")
    names = [arc for arc, _ in entries]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise LambdaSourceError(f"{name}: files shadow the shared package: {sorted(duplicates)}")
    return sorted(entries)


def write_zip(entries: list[tuple[str, Path]], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as archive:
        for arcname, path in entries:
            info = zipfile.ZipInfo(arcname, date_time=_EPOCH)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(target)


def build_all(src: Path, out: Path) -> list[Path]:
    built = []
    for name in discover(src):
        target = out / f"{name}.zip"
        write_zip(zip_entries(src, name), target)
        built.append(target)
    return built


@click.command("build-lambdas")
@click.option(
    "--src",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Folder holding one sub-folder per function and common/ (default: <repo>/lambdas).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the zips go (default: <repo>/build/lambdas).",
)
def build_lambdas_cmd(src: Path | None, out: Path | None) -> None:
    """Build the Lambda zips deterministically."""
    root = repo_root()
    for path in build_all(src or root / "lambdas", out or root / "build" / "lambdas"):
        click.echo(f"built {path} ({path.stat().st_size} bytes)")
