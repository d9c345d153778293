"""The part every handler shares: parse the event, time the work, log one JSON line, respond."""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

from lambda_common.events import ImageRecord, parse_record
from lambda_common.logs import configured_level, log

Step = Callable[[ImageRecord], ImageRecord]


@functools.cache
def client(service: str, config: Any = None) -> Any:
    """One boto3 client per service (and botocore Config) per container: warm invocations reuse it."""
    import boto3  # deferred: the filter never needs it, and it costs a cold start ~0.2 s

    return boto3.client(service, config=config)


def make_handler(function: str, step: Step, *, location_required: bool = True) -> Callable[[Any, Any], dict[str, Any]]:
    """The Lambda handler of `step`; location_required=False accepts records without s3_bucket/s3_key."""

    def handler(event: Any, context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        s3_key: str | None = None
        try:
            configured_level()
            # The event's shape, never its content (image_data is up to 256 KB of base64).
            log("DEBUG", function=function, event_type=type(event).__name__, event_keys=_keys(event))
            record = parse_record(event, location_required=location_required)
            s3_key = record.s3_key
            result = step(record)
        except Exception as exc:
            log(
                "ERROR",
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
            "INFO",
            function=function,
            s3_key=s3_key,
            outcome="ok",
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            request_id=getattr(context, "aws_request_id", None),
        )
        return result.response()

    handler.__name__ = f"{function}_handler"
    return handler


def _keys(event: Any) -> list[str] | None:
    return sorted(str(key) for key in event) if isinstance(event, dict) else None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    return float(raw) if raw.strip() else default
