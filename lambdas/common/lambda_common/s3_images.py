"""Reading an image from S3 with the workflow's named errors (SerializeImage's, and the batch chunk's)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from lambda_common import images
from lambda_common.errors import ImageNotFoundError, ImageReadError, aws_error_code, describe_aws_error
from lambda_common.runtime import client

_MISSING = {"NoSuchKey", "NoSuchBucket", "404", "NotFound"}
# A missing key reads as 403 AccessDenied, not 404, when the caller may not s3:ListBucket the
# bucket, and the functions' roles may only s3:GetObject. ("403"/"Forbidden": bodiless answers.)
_DENIED = {"AccessDenied", "403", "Forbidden"}


def read_image(bucket: str, key: str, *, where: str) -> tuple[bytes, str]:
    """(the object's bytes, its image MIME type); ImageNotFoundError, ImageReadError or InvalidImageError."""
    try:
        obj = client("s3").get_object(Bucket=bucket, Key=key)
        # Read one byte past the limit so an oversized object is rejected without buffering all of it.
        data = obj["Body"].read(images.MAX_IMAGE_BYTES + 1)
    except ClientError as exc:
        code = aws_error_code(exc)
        if code in _MISSING:
            what = "bucket" if code == "NoSuchBucket" else "object"
            raise ImageNotFoundError(f"{where} not found ({what} does not exist)") from None
        if code in _DENIED:
            raise ImageNotFoundError(
                f"object {key!r} in bucket {bucket!r} is missing or not readable by this function "
                f"(S3 answered {describe_aws_error(exc)}; without s3:ListBucket a missing key is reported as "
                "access denied)"
            ) from None
        raise ImageReadError(f"could not read {where}: {describe_aws_error(exc)}") from None
    except BotoCoreError as exc:
        raise ImageReadError(f"could not read {where}: {exc}") from None
    return data, images.content_type_of(data, where=where)
