"""`make lambdas`: deterministic zips that carry the shared package."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from scones.build_lambdas import build_all
from scones.paths import LAMBDA_NAMES
from tests.conftest import REPO


def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    first = build_all(REPO / "lambdas", tmp_path / "a")
    # Touch the sources: mtimes must not leak into the archives.
    for path in (REPO / "lambdas").rglob("*.py"):
        path.touch()
    second = build_all(REPO / "lambdas", tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_each_zip_has_its_app_and_the_shared_package(tmp_path: Path) -> None:
    for path in build_all(REPO / "lambdas", tmp_path):
        names = zipfile.ZipFile(path).namelist()
        assert names[0] == "app.py"
        assert {"lambda_common/__init__.py", "lambda_common/errors.py", "lambda_common/events.py"} <= set(names)
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_each_zip_imports_on_its_own(tmp_path: Path) -> None:
    # Only the zip on sys.path, as in the Lambda runtime: the shared code must be inside.
    for name, path in zip(LAMBDA_NAMES, build_all(REPO / "lambdas", tmp_path), strict=True):
        code = f"import sys; sys.path[:0] = [{str(path)!r}]; import app; print(app.handler.__name__)"
        result = subprocess.run(
            [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == f"{name}_handler"


def test_only_the_standard_library_and_boto3_are_imported() -> None:
    allowed = set(sys.stdlib_module_names) | {"boto3", "botocore", "lambda_common", "__future__"}
    for path in (REPO / "lambdas").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] in (["import"], ["from"]) and len(words) > 1:
                top = words[1].split(".")[0]
                assert top in allowed, f"{path}: imports {top}"
