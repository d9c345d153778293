"""API Gateway's request throttling and usage plan quotas, on an injectable clock.

Throttling is a token bucket per limit ("Throttle requests to your REST APIs for better
throughput in API Gateway",
https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html):
`burstLimit` tokens at most, refilled at `rateLimit` per second; a request takes one token or is
refused with 429 "Too Many Requests". A quota (a usage plan's `limit` per `DAY`, `WEEK` or
`MONTH`, UTC calendar periods, weeks from Monday) counts the requests of one API key; once used
up the key gets 429 "Limit Exceeded" until the period ends. `offset` is "the number of requests
subtracted from the given limit in the initial time period" (QuotaSettings,
https://docs.aws.amazon.com/apigateway/latest/api/API_QuotaSettings.html).

The clock is a callable returning epoch seconds (`time.time` by default), so tests move time
instead of sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Clock = Callable[[], float]


@dataclass(frozen=True)
class Limit:
    rate: float  # tokens per second
    burst: int

    @classmethod
    def of(cls, rate: object, burst: object) -> Limit | None:
        """The limit these settings describe; None when they set none (absent or negative, as Terraform's -1)."""
        if rate is None and burst is None:
            return None
        rate_value = float(rate) if rate is not None else 0.0  # type: ignore[arg-type]
        burst_value = int(float(burst)) if burst is not None else int(rate_value)  # type: ignore[arg-type]
        if rate_value < 0 or burst_value < 0:
            return None
        return cls(rate_value, burst_value)


class _Bucket:
    def __init__(self, limit: Limit, now: float) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.updated = now

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(float(self.limit.burst), self.tokens + elapsed * self.limit.rate)
        self.updated = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


def _period_start(period: str, now: float) -> datetime:
    when = datetime.fromtimestamp(now, tz=UTC)
    day = when.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "WEEK":
        return day - timedelta(days=day.weekday())
    if period == "MONTH":
        return day.replace(day=1)
    return day


class Throttles:
    """Token buckets and quota counters, keyed by what they limit (an API stage, a key, a method)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self._quotas: dict[tuple[str, ...], tuple[datetime, int]] = {}
        self._first_period: dict[tuple[str, ...], datetime] = {}

    def take(self, key: tuple[str, ...], limit: Limit) -> bool:
        """One token from the bucket of `key` (a new bucket, full, when its limit changed)."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.limit != limit:
                bucket = self._buckets[key] = _Bucket(limit, now)
            return bucket.take(now)

    def count(self, key: tuple[str, ...], limit: int, period: str, offset: int = 0) -> bool:
        """Count one request against the quota of `key`; False (not counted) once it is used up."""
        start = _period_start(period, self.clock())
        with self._lock:
            first = self._first_period.setdefault(key, start)
            used_start, used = self._quotas.get(key, (start, 0))
            if used_start != start:
                used = 0
            allowed = limit - (offset if start == first else 0)
            if used >= allowed:
                self._quotas[key] = (start, used)
                return False
            self._quotas[key] = (start, used + 1)
            return True
