"""`make lambdas`: deterministic zips that carry the shared package, one per function folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from scones.build_lambdas import LambdaSourceError, build_all, discover
from tests.conftest import REPO

FUNCTIONS = (
    "classify_api",
    "classify_chunk",
    "classify_image",
    "filter_low_confidence",
    "serialize_image",
    "start_classification",
)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    """A copy of lambdas/: the tests touch and add files, never in the checkout."""
    return Path(shutil.copytree(REPO / "lambdas", tmp_path / "lambdas", ignore=shutil.ignore_patterns("__pycache__")))


def test_functions_are_the_folders_with_an_app(sources: Path) -> None:
    assert discover(sources) == FUNCTIONS
    (sources / "notes").mkdir()  # a folder without app.py is not a function
    (sources / "resize_image").mkdir()
    (sources / "resize_image" / "app.py").write_text(
        "from lambda_common.runtime import make_handler\n\nhandler = make_handler('resize_image', lambda r: r)\n"
    )
    assert discover(sources) == (
        "classify_api", "classify_chunk", "classify_image", "filter_low_confidence", "resize_image", "serialize_image",
        "start_classification",
    )  # fmt: skip
    built = build_all(sources, sources.parent / "out")
    assert [path.name for path in built] == [f"{name}.zip" for name in discover(sources)]


def test_a_folder_without_functions_is_a_named_error(tmp_path: Path) -> None:
    with pytest.raises(LambdaSourceError, match="no function under"):
        discover(tmp_path)


def test_two_builds_are_byte_identical(sources: Path, tmp_path: Path) -> None:
    first = build_all(sources, tmp_path / "a")
    # Touch the sources: mtimes must not leak into the archives.
    for path in sources.rglob("*.py"):
        path.touch()
    second = build_all(sources, tmp_path / "b")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_each_zip_has_its_app_and_the_shared_package(sources: Path, tmp_path: Path) -> None:
    for path in build_all(sources, tmp_path / "out"):
        names = zipfile.ZipFile(path).namelist()
        assert names[0] == "app.py"
        assert {"lambda_common/__init__.py", "lambda_common/errors.py", "lambda_common/events.py"} <= set(names)
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)


def test_a_file_shadowing_the_shared_package_is_refused(sources: Path, tmp_path: Path) -> None:
    (sources / "serialize_image" / "lambda_common").mkdir()
    (sources / "serialize_image" / "lambda_common" / "errors.py").write_text("")
    with pytest.raises(LambdaSourceError, match="shadow the shared package"):
        build_all(sources, tmp_path / "out")


def test_each_zip_imports_on_its_own(sources: Path, tmp_path: Path) -> None:
    # Only the zip on sys.path, as in the Lambda runtime: the shared code must be inside.
    for name, path in zip(FUNCTIONS, build_all(sources, tmp_path / "out"), strict=True):
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
