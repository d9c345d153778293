"""A refusal for lack of SageMaker quota, in a Terraform apply's output, becomes the quota to raise."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from scones.quotas import explain_log, main

REPO = Path(__file__).resolve().parents[3]
# What `terraform apply` prints when CreateEndpoint is refused (provider 5.x, output not a terminal).
APPLY_OUTPUT = """module.stack.module.endpoint.aws_sagemaker_endpoint.this[0]: Creating...
╷
│ Error: creating SageMaker AI Endpoint (scones-prod-classifier): operation error SageMaker: CreateEndpoint,
│ https response error StatusCode: 400, RequestID: 1b2c3d4e, ResourceLimitExceeded: The account-level service
│ limit 'ml.m5.large for endpoint usage' is 0 Instances, with current utilization of 0 Instances and a
│ request delta of 1 Instances. Please use AWS Service Quotas to request an increase for this quota.
│
│   with module.stack.module.endpoint.aws_sagemaker_endpoint.this[0],
╵
"""


def test_the_quota_is_read_from_sagemakers_message_across_terraforms_frame() -> None:
    advice = explain_log(APPLY_OUTPUT)
    assert advice is not None
    assert advice.startswith("SageMaker refused for lack of quota: raise 'ml.m5.large for endpoint usage'")


def test_without_a_refusal_there_is_nothing_to_say(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "apply.log"
    log.write_text("Error: creating S3 Bucket: BucketAlreadyExists\n")
    assert main(["explain", str(log)]) == 0
    assert main(["explain", str(tmp_path / "missing.log")]) == 0
    log.write_text(APPLY_OUTPUT)
    assert main(["explain", str(log)]) == 1
    assert "raise 'ml.m5.large for endpoint usage' in Service Quotas" in capsys.readouterr().err


def test_make_apply_explains_a_refused_apply() -> None:
    recipe = subprocess.run(
        ["make", "-n", "--no-print-directory", "apply", "ENV=dev", "TERRAFORM=terraform"],
        cwd=REPO, capture_output=True, text=True, check=False,
    ).stdout.replace("\\\n", " ")  # fmt: skip
    apply = next(line for line in recipe.splitlines() if " apply " in line and "pipefail" in line)
    assert "| tee " in apply and "-m scones.quotas explain" in apply
