"""The part every handler shares: parse the event, time the work, log one JSON line, respond."""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from lambda_common.events import ImageRecord, parse_record

Step = Callable[[ImageRecord], ImageRecord]


@functools.cache
def client(service: str) -> Any:
    """One boto3 client per service per container (warm invocations reuse it)."""
    import boto3  # deferred: the filter never needs it, and it costs a cold start ~0.2 s

    return boto3.client(service)


def log(**fields: Any) -> None:
    """One JSON object per line on stdout: CloudWatch Logs Insights parses these fields."""
    print(json.dumps(fields, default=str, separators=(",", ":")), file=sys.stdout, flush=True)


def make_handler(function: str, step: Step) -> Callable[[Any, Any], dict[str, Any]]:
    def handler(event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        s3_key: str | None = None
        try:
            record = parse_record(event)
            s3_key = record.s3_key
            result = step(record)
        except Exception as exc:
            log(
                function=function,
                s3_key=s3_key,
                outcome="error",
                error=type(exc).__name__,
                message=str(exc),
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                request_id=getattr(context, "aws_request_id", None),
            )
            raise
        log(
            function=function,
            s3_key=s3_key,
            outcome="ok",
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            request_id=getattr(context, "aws_request_id", None),
        )
        return result.response()

    handler.__name__ = f"{function}_handler"
    return handler


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw.strip() else default
