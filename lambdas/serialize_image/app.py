"""SerializeImage: read the image named by the event from S3 and return it base64-encoded."""

from __future__ import annotations

from botocore.exceptions import ClientError

from lambda_common import images
from lambda_common.errors import ImageNotFoundError
from lambda_common.events import ImageRecord
from lambda_common.runtime import client, make_handler

_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}


def serialize(record: ImageRecord) -> ImageRecord:
    where = f"s3://{record.s3_bucket}/{record.s3_key}"
    try:
        obj = client("s3").get_object(Bucket=record.s3_bucket, Key=record.s3_key)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in _MISSING:
            what = "bucket" if code == "NoSuchBucket" else "object"
            raise ImageNotFoundError(f"{where} not found ({what} does not exist)") from None
        raise
    # Read one byte past the limit so an oversized object is rejected without buffering all of it.
    data = obj["Body"].read(images.MAX_IMAGE_BYTES + 1)
    images.content_type_of(data, where=where)
    record.image_data = images.encode(data)
    record.inferences = []
    return record


handler = make_handler("serialize_image", serialize)
