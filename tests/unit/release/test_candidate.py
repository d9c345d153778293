"""The candidate stages' refusals: a given artifact that is malformed or missing, and a built-in
image-classification artifact, which has no serving code to evaluate (docs/releasing.md)."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from scones.aws import make_session
from scones.local.server import LocalAWS
from scones.release.candidate import check_given_artifact, evaluate
from scones.release.errors import CandidateArtifactError
from tests.support.local_fixtures import client


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        client("s3", emulator.url).create_bucket(Bucket="models")
        yield emulator


def _builtin_artifact() -> bytes:
    """What the built-in image-classification algorithm writes: MXNet files, no code/inference.py."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in ("image-classification-symbol.json", "image-classification-0010.params"):
            info = tarfile.TarInfo(name)
            info.size = 2
            archive.addfile(info, io.BytesIO(b"{}"))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://example.com/model.tar.gz", "is not an S3 URI"),
        ("s3://models/model.zip", "must point at a .tar.gz model artifact"),
        ("s3://models/none/model.tar.gz", "the candidate artifact s3://models/none/model.tar.gz does not exist"),
    ],
)
def test_a_given_artifact_must_be_an_existing_tarball(aws: LocalAWS, url: str, message: str) -> None:
    with pytest.raises(CandidateArtifactError, match=message):
        check_given_artifact(make_session(endpoint_url=aws.url), url, None)


def test_a_builtin_algorithm_artifact_is_refused(aws: LocalAWS, tmp_path: Path) -> None:
    client("s3", aws.url).put_object(Bucket="models", Key="builtin/model.tar.gz", Body=_builtin_artifact())
    (tmp_path / "data" / "test").mkdir(parents=True)
    with pytest.raises(CandidateArtifactError) as raised:
        evaluate(
            "s3://models/builtin/model.tar.gz",
            tmp_path / "data",
            0.93,
            make_session(endpoint_url=aws.url),
            tmp_path,
            cache=tmp_path / "evaluations",
        )
    assert "has no code/inference.py" in raised.value.message
    assert "built-in image-classification artifact has no serving code to evaluate" in raised.value.message
    assert not (tmp_path / "evaluations").exists()  # nothing cached for it
