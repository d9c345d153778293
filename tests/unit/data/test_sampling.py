"""Picking the test images to run the workflow on: only images, the same picks for the same seed."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from scones.data.sampling import NotEnoughImagesError, list_image_keys, pick_keys

KEYS = [f"data/test/{name}/{name}_{index:03d}.png" for name in ("bicycle", "motorcycle") for index in range(5)]


def test_only_images_under_the_prefix_are_listed_sorted() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="scones-images")
        for key in [*reversed(KEYS), "data/test/bicycle/photo.JPG", "data/test.lst", "data/train/bicycle/t.png"]:
            s3.put_object(Bucket="scones-images", Key=key, Body=b"x")
        assert list_image_keys(s3, "scones-images", "data/test/") == sorted([*KEYS, "data/test/bicycle/photo.JPG"])
        assert list_image_keys(s3, "scones-images", "nothing/") == []


def test_same_seed_same_images_in_the_same_order() -> None:
    assert pick_keys(KEYS, 3, 5) == pick_keys(list(reversed(KEYS)), 3, 5)
    assert pick_keys(KEYS, 4, 1) != pick_keys(KEYS, 4, 2)
    assert len(set(pick_keys(KEYS, len(KEYS), 0))) == len(KEYS)


def test_more_than_there_are_is_an_error() -> None:
    with pytest.raises(NotEnoughImagesError, match="asked for 11 images but only 10"):
        pick_keys(KEYS, 11, 0)
