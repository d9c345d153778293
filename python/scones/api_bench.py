"""The classification API's figures for `make bench`: single-request latency and requests/s of 50 callers.

Each request is what a consuming team sends (`scones.classify.classify`: SigV4-signed, with the API key),
naming a test image by its S3 location, so the figures are the API's path (API Gateway, the thin function,
the EXPRESS workflow) beside the STANDARD workflow's `workflow_p50_ms`/`workflow_p95_ms`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import click

from scones.classify import classify

CALLERS = 50


def _one(target: str, *, api_url: str, api_key: str, session: Any) -> float:
    started = time.perf_counter()
    classify(target, api_url=api_url, api_key=api_key, session=session, region=session.region_name)
    return (time.perf_counter() - started) * 1000


def measure_api(
    session: Any,
    api_url: str,
    api_key: str,
    bucket: str,
    keys: Sequence[str],
    *,
    runs: int,
    warmup: int,
    callers: int = CALLERS,
    per_caller: int = 2,
) -> dict[str, Any]:
    """api_p50_ms/api_p95_ms of `runs` requests one at a time (after `warmup`), and api_rps_<callers>: requests
    per second of `callers` concurrent callers sending `per_caller` requests each, first send to last answer."""
    from scones.bench import percentile  # the bench's own percentile, for figures comparable with the workflow's

    targets = [f"s3://{bucket}/{keys[i % len(keys)]}" for i in range(max(runs + warmup, callers * per_caller))]
    click.echo(f"==> API latency: {runs} single requests after {warmup} warm-up", err=True)
    latencies = [_one(t, api_url=api_url, api_key=api_key, session=session) for t in targets[: warmup + runs]][warmup:]
    click.echo(f"==> API throughput: {callers} concurrent callers, {per_caller} requests each", err=True)
    burst = targets[: callers * per_caller]
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=callers) as pool:
        list(pool.map(lambda t: _one(t, api_url=api_url, api_key=api_key, session=session), burst))
    seconds = time.perf_counter() - started
    return {
        "api_p50_ms": percentile(latencies, 50),
        "api_p95_ms": percentile(latencies, 95),
        f"api_rps_{callers}": len(burst) / max(seconds, 1e-6),
        "api_requests": len(latencies) + len(burst),
    }
