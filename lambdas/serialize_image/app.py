"""SerializeImage: read the image named by the event from S3 and return it base64-encoded."""

from __future__ import annotations

from lambda_common import images
from lambda_common.events import ImageRecord
from lambda_common.runtime import make_handler
from lambda_common.s3_images import read_image


def serialize(record: ImageRecord) -> ImageRecord:
    data, _ = read_image(record.s3_bucket or "", record.s3_key or "", where=record.location)
    record.image_data = images.encode(data)
    # A fresh image: whatever an earlier classification said about the record no longer applies.
    record.inferences = []
    record.ood = None
    return record


handler = make_handler("serialize_image", serialize)
