"""Faults injected into the emulator on purpose, for a local game day.

Each running `LocalAWS` has one `FaultRegistry` (`LocalAWS.faults`); `scones local fault` reaches
the registry of the background emulator through `fault_api.py`. A fault names its target (a
function, an endpoint, a bucket and key prefix), may be limited to a number of occurrences, and
is answered the way AWS answers the real failure, with the metric AWS counts it in:

- `LambdaError`: the caller sees a function error (`FunctionError: Unhandled`, the error type
  and message given); counted in `AWS/Lambda` Errors.
- `LambdaThrottle`: `TooManyRequestsException` (HTTP 429), the code does not run; `AWS/Lambda`
  Throttles.
- `EndpointError`: `ModelError` (HTTP 424) carrying the model's status; `AWS/SageMaker`
  Invocation5XXErrors (or Invocation4XXErrors for a 4xx status).
- `EndpointLatency`: a slower answer; `AWS/SageMaker` ModelLatency.
- `S3ReadDenied`: `AccessDenied` (HTTP 403) from GetObject (S3 request metrics are not emulated).
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar


class FaultSpecError(ValueError):
    """A fault that cannot be injected as given (unknown kind, bad target or option)."""


def _require_target(kind: str, target: str) -> None:
    if not target:
        raise FaultSpecError(f"{kind}: the target must not be empty")


@dataclass(frozen=True)
class _OnNamedResource:
    """A fault whose target is one named resource, its first field, matched by name."""

    kind: ClassVar[str]

    def __post_init__(self) -> None:
        _require_target(self.kind, self.target)

    @property
    def target(self) -> str:
        return str(getattr(self, dataclasses.fields(self)[0].name))

    def matches(self, target: str) -> bool:
        return target == self.target


@dataclass(frozen=True)
class LambdaError(_OnNamedResource):
    """Invocations of `function` end in a function error, as if the handler raised `error_type`."""

    kind: ClassVar[str] = "lambda-error"
    function: str
    error_type: str = "InjectedFault"
    message: str = "fault injected by the scones local emulator"


@dataclass(frozen=True)
class LambdaThrottle(_OnNamedResource):
    """Invoke of `function` is refused with Lambda's TooManyRequestsException; the code does not run."""

    kind: ClassVar[str] = "lambda-throttle"
    function: str


@dataclass(frozen=True)
class EndpointError(_OnNamedResource):
    """InvokeEndpoint on `endpoint` fails as if the model answered HTTP `status` (SageMaker: ModelError)."""

    kind: ClassVar[str] = "endpoint-error"
    endpoint: str
    status: int = 500

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 400 <= self.status <= 599:
            raise FaultSpecError(f"{self.kind}: status {self.status} is not an HTTP 4xx or 5xx")


@dataclass(frozen=True)
class EndpointLatency(_OnNamedResource):
    """InvokeEndpoint on `endpoint` takes `seconds` longer, in the model's time (ModelLatency)."""

    kind: ClassVar[str] = "endpoint-latency"
    endpoint: str
    seconds: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.seconds >= 0:
            raise FaultSpecError(f"{self.kind}: seconds must be >= 0, got {self.seconds}")


@dataclass(frozen=True)
class S3ReadDenied:
    """GetObject on `bucket` for keys starting with `key_prefix` answers AccessDenied."""

    kind: ClassVar[str] = "s3-read-denied"
    bucket: str
    key_prefix: str = ""

    def __post_init__(self) -> None:
        _require_target(self.kind, self.bucket)

    @property
    def target(self) -> str:
        return f"{self.bucket}/{self.key_prefix}"

    def matches(self, target: str) -> bool:
        bucket, _, key = target.partition("/")
        return bucket == self.bucket and key.startswith(self.key_prefix)


Fault = LambdaError | LambdaThrottle | EndpointError | EndpointLatency | S3ReadDenied
FAULT_TYPES: dict[str, type[Fault]] = {
    cls.kind: cls for cls in (LambdaError, LambdaThrottle, EndpointError, EndpointLatency, S3ReadDenied)
}
F = TypeVar("F", LambdaError, LambdaThrottle, EndpointError, EndpointLatency, S3ReadDenied)


def fault_for_target(kind: str, target: str, **options: Any) -> Fault:
    """The fault of `kind` on `target` (a function, an endpoint, or `bucket[/key-prefix]`), with options."""
    cls = FAULT_TYPES.get(kind)
    if cls is None:
        raise FaultSpecError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_TYPES)}")
    if cls is S3ReadDenied:
        bucket, _, prefix = target.partition("/")
        fields: dict[str, Any] = {"bucket": bucket, "key_prefix": prefix}
    else:
        fields = {dataclasses.fields(cls)[0].name: target}
    given = {k: v for k, v in options.items() if v is not None}
    takes = sorted({f.name for f in dataclasses.fields(cls)} - set(fields))
    unknown = sorted(set(given) - set(takes))
    if unknown:
        raise FaultSpecError(f"{kind} has no option {', '.join(unknown)} (its options: {', '.join(takes) or 'none'})")
    return cls(**fields, **given)


def fault_to_dict(fault: Fault) -> dict[str, Any]:
    return {"kind": fault.kind, **dataclasses.asdict(fault)}


def fault_from_dict(data: dict[str, Any]) -> Fault:
    fields = dict(data)
    cls = FAULT_TYPES.get(str(fields.pop("kind", "")))
    if cls is None:
        raise FaultSpecError(f"unknown fault kind {data.get('kind')!r}; one of {', '.join(FAULT_TYPES)}")
    try:
        return cls(**fields)
    except TypeError as exc:
        raise FaultSpecError(f"{cls.kind}: {exc}") from exc


@dataclass(frozen=True)
class ActiveFault:
    """A fault in a registry: `remaining` occurrences (None: until cleared), `triggered` so far."""

    id: str
    fault: Fault
    remaining: int | None
    triggered: int = 0

    def to_dict(self) -> dict[str, Any]:
        fault = fault_to_dict(self.fault)
        return {"id": self.id, "fault": fault, "remaining": self.remaining, "triggered": self.triggered}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ActiveFault:
        remaining = data.get("remaining")
        return cls(
            id=str(data["id"]),
            fault=fault_from_dict(data["fault"]),
            remaining=None if remaining is None else int(remaining),
            triggered=int(data.get("triggered", 0)),
        )


class FaultRegistry:
    """The faults of one emulator; thread-safe (requests and executions check it concurrently)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[ActiveFault] = []
        self._ids = itertools.count(1)

    def add(self, fault: Fault, count: int | None = None) -> ActiveFault:
        """Inject `fault` for its next `count` matching calls (None: until cleared)."""
        if count is not None and count < 1:
            raise FaultSpecError(f"count must be at least 1, got {count}")
        with self._lock:
            active = ActiveFault(id=f"f{next(self._ids)}", fault=fault, remaining=count)
            self._faults.append(active)
            return active

    def list(self) -> list[ActiveFault]:
        with self._lock:
            return list(self._faults)

    def clear(self, fault_id: str | None = None) -> int:
        """Remove one fault by id, or all of them; how many were removed."""
        with self._lock:
            kept = [f for f in self._faults if fault_id is not None and f.id != fault_id]
            removed = len(self._faults) - len(kept)
            self._faults = kept
            return removed

    def take(self, fault_type: type[F], target: str) -> F | None:
        """The first fault of `fault_type` matching `target`, one occurrence used up; None if none."""
        with self._lock:
            for index, active in enumerate(self._faults):
                if isinstance(active.fault, fault_type) and active.fault.matches(target):
                    remaining = None if active.remaining is None else active.remaining - 1
                    if remaining == 0:
                        del self._faults[index]
                    else:
                        self._faults[index] = dataclasses.replace(
                            active, remaining=remaining, triggered=active.triggered + 1
                        )
                    return active.fault
        return None
