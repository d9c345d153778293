"""The smoke test's choices: which test images it sends, and when it passes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scones.local.server import LocalAWS
from scones.release.smoke import SmokeResult, smoke_keys
from tests.support.local_fixtures import client


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        yield emulator


def test_the_images_take_the_classes_in_turn(aws: LocalAWS) -> None:
    s3 = client("s3", aws.url)
    s3.create_bucket(Bucket="smoke")
    for key in ["data/test/bicycle/b1.png", "data/test/bicycle/b2.png", "data/test/bicycle/b3.png",
                "data/test/motorcycle/m1.png", "data/train/bicycle/t.png", "data/test/test.lst"]:  # fmt: skip
        s3.put_object(Bucket="smoke", Key=key, Body=b"")
    assert smoke_keys(s3, "smoke", "data", 3) == [
        "data/test/bicycle/b1.png",
        "data/test/motorcycle/m1.png",
        "data/test/bicycle/b2.png",
    ]
    assert len(smoke_keys(s3, "smoke", "data/", 10)) == 4  # what there is, train images and lists never


def test_rejections_pass_failures_and_missing_capture_records_do_not() -> None:
    outcomes = {"succeeded": 1, "low_confidence": 2, "out_of_distribution": 1, "failed": 0, "timed_out": 0}
    assert SmokeResult(outcomes, [], captured=4, captures_expected=4).passed
    missing = SmokeResult(outcomes, [], captured=3, captures_expected=4)
    assert not missing.passed and missing.reason() == "3 of 4 capture records appeared"
    failed = SmokeResult(
        {**outcomes, "failed": 1}, [{"key": "data/test/x.png", "outcome": "failed", "error": "E: boom"}], 4, 4
    )
    assert not failed.passed
    assert failed.reason() == "1 of 5 executions failed (first: data/test/x.png: failed E: boom)"
