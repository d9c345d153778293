"""Which images to run the workflow on: the test images in a bucket, and a seeded pick of them."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


class NotEnoughImagesError(ValueError):
    """Fewer images than asked for."""


def list_image_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """Every image key under `prefix`, sorted (listings, .lst files and other objects left out)."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []) if obj["Key"].lower().endswith(IMAGE_SUFFIXES))
    return sorted(keys)


def pick_keys(keys: Sequence[str], count: int, seed: int | None) -> list[str]:
    """`count` distinct keys; the same seed and listing give the same picks, in the same order."""
    if count > len(keys):
        raise NotEnoughImagesError(f"asked for {count} images but only {len(keys)} are there")
    return random.Random(seed).sample(sorted(keys), count)
