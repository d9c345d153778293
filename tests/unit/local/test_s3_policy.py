"""The emulator honours bucket policies the way S3 does for HTTPS requests."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from scones.local.server import LocalAWS
from tests.support.local_fixtures import client

BUCKET = "scones-policy-test"


def tls_only_policy(extra: list[dict] | None = None) -> str:
    arns = [f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/*"]
    statements = [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": arns,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyOldTls",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": arns,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements + (extra or [])})


@pytest.fixture(scope="module")
def s3() -> Iterator[object]:
    with LocalAWS() as aws:
        s3 = client("s3", aws.url)
        s3.create_bucket(Bucket=BUCKET)
        yield s3


def test_tls_only_policy_lets_emulator_requests_through(s3: object) -> None:
    s3.put_bucket_policy(Bucket=BUCKET, Policy=tls_only_policy())
    s3.put_object(Bucket=BUCKET, Key="data/x.png", Body=b"png")
    assert s3.get_object(Bucket=BUCKET, Key="data/x.png")["Body"].read() == b"png"


def test_unconditional_deny_still_denies(s3: object) -> None:
    deny_secret = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/secret/*",
    }
    s3.put_bucket_policy(Bucket=BUCKET, Policy=tls_only_policy([deny_secret]))
    s3.put_object(Bucket=BUCKET, Key="data/y.png", Body=b"ok")
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=BUCKET, Key="secret/y.png", Body=b"no")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
