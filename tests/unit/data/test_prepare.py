"""`scones prepare` on the real CIFAR-100 bicycle/motorcycle tarball, and its failure modes."""

from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import boto3
import numpy as np
import pytest
from click.testing import CliRunner
from moto import mock_aws
from PIL import Image

from scones.cli import main
from scones.data.cifar import read_archive
from scones.data.errors import InvalidArchiveError, PreparedDataError
from scones.data.layout import class_from_key, load_images, read_split
from tests.conftest import DEMO_TARBALL


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("prepared")
    result = CliRunner().invoke(main, ["prepare", "--source", str(DEMO_TARBALL), "--out", str(out), "--no-upload"])
    assert result.exit_code == 0, result.output
    return out


def _raw_split(name: str) -> dict:
    with tarfile.open(DEMO_TARBALL) as archive:
        return pickle.load(archive.extractfile(f"cifar-100-python/{name}"), encoding="bytes")


def _tarball(path: Path, members: dict[str, object]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, obj in members.items():
            data = obj if isinstance(obj, bytes) else pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-100-python/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_counts_and_classes(prepared: Path) -> None:
    train = read_split(prepared, "train")
    test = read_split(prepared, "test")
    assert len(train) == 1000 and len(test) == 200
    assert sorted({label for _, label in train}) == [0, 1]
    assert sum(label for _, label in train) == 500
    assert sum(label for _, label in test) == 100
    # "bike" in CIFAR file names is ambiguous: this one is a motorcycle (fine label 48).
    assert ("motorcycle/bike_s_000035.png", 1) in train
    assert (prepared / "train" / "motorcycle" / "bike_s_000035.png").is_file()


def test_lst_format(prepared: Path) -> None:
    lines = (prepared / "test.lst").read_text().splitlines()
    assert len(lines) == 200
    for index, line in enumerate(lines):
        number, label, path = line.split("\t")
        assert int(number) == index
        assert label in {"0", "1"}
        assert path.startswith(("bicycle/", "motorcycle/")) and path.endswith(".png")
        assert class_from_key(path) == int(label)


def test_png_pixels_equal_cifar_rows(prepared: Path) -> None:
    raw = _raw_split("test")
    names = [n.decode() for n in raw[b"filenames"]]
    for i in (0, 57, 199):
        label = {8: "bicycle", 48: "motorcycle"}[raw[b"fine_labels"][i]]
        image = np.asarray(Image.open(prepared / "test" / label / names[i]))
        row = raw[b"data"][i]
        assert image.shape == (32, 32, 3)
        assert np.array_equal(image[:, :, 0].ravel(), row[:1024])  # red plane
        assert np.array_equal(image[:, :, 1].ravel(), row[1024:2048])
        assert np.array_equal(image[:, :, 2].ravel(), row[2048:])


def test_load_images_matches_lst(prepared: Path) -> None:
    images, labels = load_images(prepared, "test")
    assert images.shape == (200, 32, 32, 3) and images.dtype == np.uint8
    assert labels.tolist() == [label for _, label in read_split(prepared, "test")]


def test_str_keys_are_accepted(tmp_path: Path) -> None:
    splits = {}
    for name in ("train", "test"):
        raw = _raw_split(name)
        splits[name] = {k.decode(): v for k, v in raw.items()}
        splits[name]["filenames"] = [n.decode() for n in raw[b"filenames"]]
    result = read_archive(_tarball(tmp_path / "str.tar.gz", splits))
    assert len(result["train"].labels) == 1000
    assert result["test"].filenames[0].endswith(".png")


def test_missing_member_is_named(tmp_path: Path) -> None:
    path = _tarball(tmp_path / "x.tar.gz", {"train": _raw_split("train")})
    with pytest.raises(InvalidArchiveError, match="cifar-100-python/test"):
        read_archive(path)


def test_missing_class_is_named(tmp_path: Path) -> None:
    test = _raw_split("test")
    keep = [i for i, label in enumerate(test[b"fine_labels"]) if label == 8]
    only_bicycles = {
        b"data": test[b"data"][keep],
        b"fine_labels": [8] * len(keep),
        b"filenames": [test[b"filenames"][i] for i in keep],
    }
    path = _tarball(tmp_path / "x.tar.gz", {"train": _raw_split("train"), "test": only_bicycles})
    with pytest.raises(InvalidArchiveError, match=r"test: no images with fine label 48 \(motorcycle\)"):
        read_archive(path)


def test_pickle_with_foreign_globals_is_refused(tmp_path: Path) -> None:
    class Exploit:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (print, ("pwned",))

    path = _tarball(tmp_path / "evil.tar.gz", {"train": pickle.dumps(Exploit(), protocol=2), "test": b""})
    with pytest.raises(InvalidArchiveError, match=r"refusing to unpickle (__builtin__|builtins)\.print"):
        read_archive(path)


def test_not_a_tarball(tmp_path: Path) -> None:
    path = tmp_path / "garbage.tar.gz"
    path.write_bytes(b"not a tarball at all")
    result = CliRunner().invoke(main, ["prepare", "--source", str(path), "--out", str(tmp_path / "o"), "--no-upload"])
    assert result.exit_code != 0
    assert "not a readable tar archive" in result.output
    assert not (tmp_path / "o" / "train").exists()


def test_read_split_reports_missing_prepare(tmp_path: Path) -> None:
    with pytest.raises(PreparedDataError, match="run `scones prepare"):
        read_split(tmp_path, "train")


def test_class_from_key() -> None:
    assert class_from_key("data/test/bicycle/bike_s_000035.png") == 0
    assert class_from_key("motorcycle/x.png") == 1
    assert class_from_key("x.png") is None
    assert class_from_key("data/test/car/x.png") is None


def _first_of_each_class(raw: dict, count: int) -> dict:
    """The split with only its first `count` images of each class (bicycle 8, motorcycle 48)."""
    keep = [i for label in (8, 48) for i in [j for j, lab in enumerate(raw[b"fine_labels"]) if lab == label][:count]]
    return {
        b"data": raw[b"data"][keep],
        b"fine_labels": [raw[b"fine_labels"][i] for i in keep],
        b"filenames": [raw[b"filenames"][i] for i in keep],
    }


@mock_aws
def test_upload_is_idempotent(tmp_path: Path) -> None:
    # Five images of each class per split: what is uploaded and skipped does not depend on how many.
    source = _tarball(
        tmp_path / "small.tar.gz", {name: _first_of_each_class(_raw_split(name), 5) for name in ("train", "test")}
    )
    prepared = tmp_path / "prepared"
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="scones-data")
    args = ["prepare", "--source", str(source), "--out", str(prepared), "--bucket", "scones-data"]
    first = CliRunner().invoke(main, [*args, "--prefix", "data"])
    assert first.exit_code == 0, first.output
    assert "22 uploaded, 0 skipped" in first.output
    keys = {o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="scones-data") for o in p["Contents"]}
    written = {f"data/{path.relative_to(prepared).as_posix()}" for path in prepared.rglob("*") if path.is_file()}
    assert keys == written and len(keys) == 22
    assert {"data/train.lst", "data/test.lst"} <= keys
    obj = s3.get_object(Bucket="scones-data", Key="data/test.lst")
    assert obj["Body"].read() == (prepared / "test.lst").read_bytes()

    second = CliRunner().invoke(main, [*args, "--prefix", "data/"])
    assert second.exit_code == 0, second.output
    assert "0 uploaded, 22 skipped" in second.output

    # A changed object is sent again, and only that one.
    s3.put_object(Bucket="scones-data", Key="data/train.lst", Body=b"stale")
    third = CliRunner().invoke(main, [*args])
    assert "1 uploaded, 21 skipped" in third.output


@mock_aws
def test_upload_to_missing_bucket_fails_clearly(prepared: Path) -> None:
    result = CliRunner().invoke(
        main, ["prepare", "--source", str(DEMO_TARBALL), "--out", str(prepared), "--bucket", "no-such-bucket"]
    )
    assert result.exit_code != 0
    assert "NoSuchBucket" in result.output


def test_no_upload_conflicts_with_bucket(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["prepare", "--source", str(DEMO_TARBALL), "--out", str(tmp_path), "--no-upload", "--bucket", "b-b-b"]
    )
    assert result.exit_code == 2
    assert "contradict" in result.output
