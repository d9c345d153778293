"""A stand-in for the classify-image state machine on moto's Step Functions interpreter.

It routes on the key the way the real workflow would end: a confident prediction succeeds with
body.inferences (and body.ood, except the motorcycle's: a record from before the guard), an unsure one
fails with ThresholdConfidenceNotMetError (Lambda's error JSON as cause, its errorMessage the filter's JSON
object), an "odd" one with OutOfDistributionError (likewise), a corrupt one fails with InvalidImageError
(a prose errorMessage); "slow" and "stuck" keys wait 1 and 3 seconds first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from moto import mock_aws

BUCKET = "scones-workflow-test"
LOW_MESSAGE = {
    "message": "top probability 0.6100 < threshold 0.93 for s3://b/k",
    "confidence": 0.61,
    "threshold": 0.93,
    "inferences": [0.61, 0.39],
    "s3_bucket": BUCKET,
    "s3_key": "data/test/bicycle/unsure_bike_003.png",
}
LOW_CAUSE = json.dumps(
    {"errorMessage": json.dumps(LOW_MESSAGE), "errorType": "ThresholdConfidenceNotMetError", "stackTrace": []}
)
OOD_MESSAGE = {
    "message": "the model's guard flagged s3://b/k as unlike its training images (score -3.2500; top 0.9900)",
    "score": -3.25,
    "inferences": [0.99, 0.01],
    "s3_bucket": BUCKET,
    "s3_key": "data/test/bicycle/odd_cat_006.png",
}
OOD_CAUSE = json.dumps(
    {"errorMessage": json.dumps(OOD_MESSAGE), "errorType": "OutOfDistributionError", "stackTrace": []}
)
INVALID_CAUSE = json.dumps(
    {"errorMessage": "s3://b/k is not a PNG or JPEG image", "errorType": "InvalidImageError", "stackTrace": []}
)
DEFINITION = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.s3_key", "StringMatches": "*unsure*", "Next": "LowConfidence"},
                {"Variable": "$.s3_key", "StringMatches": "*odd*", "Next": "OutOfDistribution"},
                {"Variable": "$.s3_key", "StringMatches": "*corrupt*", "Next": "Failed"},
                {"Variable": "$.s3_key", "StringMatches": "*slow*", "Next": "Think"},
                {"Variable": "$.s3_key", "StringMatches": "*stuck*", "Next": "Stuck"},
                {"Variable": "$.s3_key", "StringMatches": "*/motorcycle/*", "Next": "Motorcycle"},
            ],
            "Default": "Bicycle",
        },
        "Think": {"Type": "Wait", "Seconds": 1, "Next": "Bicycle"},
        "Stuck": {"Type": "Wait", "Seconds": 3, "Next": "Bicycle"},
        "Bicycle": {
            "Type": "Pass",
            "Parameters": {
                "statusCode": 200,
                "body": {
                    "s3_bucket.$": "$.s3_bucket",
                    "s3_key.$": "$.s3_key",
                    "image_data": "",
                    "inferences": [0.97, 0.03],
                    "ood": {"score": 1.5, "flagged": False, "checked": True},
                },
            },
            "End": True,
        },
        "Motorcycle": {
            "Type": "Pass",
            "Parameters": {"statusCode": 200, "body": {"s3_key.$": "$.s3_key", "inferences": [0.96, 0.04]}},
            "End": True,
        },
        "LowConfidence": {"Type": "Fail", "Error": "ThresholdConfidenceNotMetError", "Cause": LOW_CAUSE},
        "OutOfDistribution": {"Type": "Fail", "Error": "OutOfDistributionError", "Cause": OOD_CAUSE},
        "Failed": {"Type": "Fail", "Error": "InvalidImageError", "Cause": INVALID_CAUSE},
    },
}
KEYS = [
    "data/test/bicycle/bike_001.png",
    "data/test/bicycle/slow_bike_002.png",
    "data/test/bicycle/unsure_bike_003.png",
    "data/test/motorcycle/moto_004.png",  # the stand-in "predicts" bicycle here: a wrong answer
    "data/test/motorcycle/corrupt_005.png",
    "data/test/bicycle/odd_cat_006.png",
]


@contextmanager
def standin_workflow() -> Iterator[str]:
    """The stand-in machine's ARN, with KEYS (and a few objects that are not test images) in BUCKET."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        for key in KEYS:
            s3.put_object(Bucket=BUCKET, Key=key, Body=b"png")
        s3.put_object(Bucket=BUCKET, Key="data/test.lst", Body=b"not an image")
        s3.put_object(Bucket=BUCKET, Key="data/train/bicycle/train_only.png", Body=b"png")
        sfn = boto3.client("stepfunctions", region_name="us-east-1")
        yield sfn.create_state_machine(
            name="scones-classify-image",
            definition=json.dumps(DEFINITION),
            roleArn="arn:aws:iam::123456789012:role/sfn",
        )["stateMachineArn"]
