"""API Gateway's access logs: the stage's `accessLogSettings.format` with its `$context` variables
substituted, one line per request in the log group of `destinationArn`
("$context variables for data models, authorizers, mapping templates, and CloudWatch access
logging", https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-data-models-authorizers-mapping-templates-and-cloudwatch-access-logging.html).
A variable with no value is written `-`, as API Gateway writes it; one the emulator does not
know is written `-` too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from scones.local.runtime.cloudwatch_logs import CloudWatchLogs, LogStreamRef

_VARIABLE = re.compile(r"\$context\.([A-Za-z0-9_.]+[A-Za-z0-9_])")


def render(log_format: str, context: Mapping[str, object]) -> str:
    """The format with each `$context.NAME` replaced by `context[NAME]` (`-` when absent or None)."""

    def value(match: re.Match[str]) -> str:
        found = context.get(match.group(1))
        return "-" if found is None or found == "" else str(found)

    return _VARIABLE.sub(value, log_format)


def log_group_of(destination_arn: str) -> tuple[str, str, str] | None:
    """(account, region, group name) of a log group ARN (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`)."""
    parts = destination_arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    return parts[4], parts[3], parts[6]


def write(
    logs: CloudWatchLogs,
    settings: Mapping[str, str] | None,
    stream: str,
    context: Mapping[str, object],
    timestamp_ms: int,
) -> None:
    """One access-log line for the request, when the stage has access logging set up."""
    if not settings or not settings.get("destinationArn") or not settings.get("format"):
        return
    group = log_group_of(settings["destinationArn"])
    if group is None:
        return
    account, region, name = group
    logs.put(LogStreamRef(account, region, name, stream), [(timestamp_ms, render(settings["format"], context))])
