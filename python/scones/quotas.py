"""SageMaker instance quotas: what a refusal for lack of one means, and which quota to raise.

A new account's SageMaker quotas for most instance types are 0 ("ml.g4dn.xlarge for training job usage",
"ml.m5.large for endpoint usage"), and CreateTrainingJob / CreateEndpoint then fail with
ResourceLimitExceeded. The quota is raised in Service Quotas
(https://docs.aws.amazon.com/sagemaker/latest/dg/regions-quotas.html#service-limit-increase-request-procedure).

`python -m scones.quotas explain LOG` prints the advice for the first refusal in a log (`make apply` runs it
on Terraform's output when an apply fails) and exits 1 when it found one.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from botocore.exceptions import ClientError

SERVICE_QUOTAS_CONSOLE = "https://console.aws.amazon.com/servicequotas/home/services/sagemaker/quotas"
# SageMaker names the quota in its message: "The account-level service limit 'ml.m5.large for endpoint
# usage' is 0 Instances, ...".
_QUOTA_IN_MESSAGE = re.compile(r"service limit '([^']+)'")
_INSTANCE_TYPE = re.compile(r"\bml\.[a-z0-9]+\.[a-z0-9]+\b")


def quota_name(instance_type: str, usage: str) -> str:
    """The quota's name in Service Quotas: usage is "training job" or "endpoint"."""
    return f"{instance_type} for {usage} usage"


def refusal(exc: BaseException) -> ClientError | None:
    """The ResourceLimitExceeded ClientError behind `exc` (itself, or what it was raised from), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ClientError) and seen.response.get("Error", {}).get("Code") == "ResourceLimitExceeded":
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def advice(aws_message: str, *, instance_type: str | None = None, usage: str | None = None) -> str:
    """What to do about a refusal: the quota (from SageMaker's message, else from instance type and
    usage), where to raise it, and the way around it."""
    named = _QUOTA_IN_MESSAGE.search(aws_message)
    if named:
        quota = named.group(1)
    elif instance_type and usage:
        quota = quota_name(instance_type, usage)
    else:
        found = _INSTANCE_TYPE.search(aws_message)
        quota = quota_name(found.group(0), usage or "endpoint") if found else "the instance type's SageMaker quota"
    return (
        f"SageMaker refused for lack of quota: raise '{quota}' in Service Quotas ({SERVICE_QUOTAS_CONSOLE}; "
        "a new account has 0 for most instance types, and an increase can take a day), "
        "or choose an instance type the account has quota for. "
        f"SageMaker said: {aws_message.strip()}"
    )


def explain_log(text: str) -> str | None:
    """Advice for the first ResourceLimitExceeded in a log (Terraform's output), or None."""
    for line_number, line in enumerate(lines := text.splitlines()):
        if "ResourceLimitExceeded" in line:
            usage = "training job" if "CreateTrainingJob" in text else "endpoint"
            # Terraform frames diagnostics with "│ " and may wrap them: unframe and join a few lines.
            context = " ".join(part.strip().lstrip("│").strip() for part in lines[line_number : line_number + 4])
            return advice(context, usage=usage)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2 or args[0] != "explain":
        print("usage: python -m scones.quotas explain LOG", file=sys.stderr)
        return 2
    text = Path(args[1]).read_text(errors="replace") if Path(args[1]).is_file() else ""
    found = explain_log(text)
    if found is None:
        return 0
    print(f"\n{found}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
