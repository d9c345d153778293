"""Answer an SDK's retry of a call the emulator already carried out with the answer it first gave.

The AWS SDKs send one `amz-sdk-invocation-id` on every attempt of an API call, and
`amz-sdk-request: attempt=N; max=M`. When a response is lost on its way back to the client, the
SDK sends the call again. The Go SDK does so for a response body read that fails with "use of
closed network connection" (aws-sdk-go-v2#2949), which on this loopback emulator happens to about
one `terraform apply` in ten under load. For a create that already happened, running the retry
answers 409 ResourceConflictException, and terraform-provider-aws waits out 409s on
CreateFunction until its create timeout (terraform-provider-aws#29263): a five-minute hang, then
a failed apply. Replaying the first answer tells the client what its call did.

Kept: successful (2xx) answers to every call that is not a GET/HEAD/OPTIONS, for a minute, up
to a size. Under the JSON and query protocols that includes reads (SQS GetQueueAttributes is a
POST); replaying a read's answer a few milliseconds on is as if the server had answered then. A
retry of a failed attempt runs again, as it would on AWS. A retry that arrives while its first
attempt still runs waits for that attempt's answer.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

_INVOCATION_ID = "HTTP_AMZ_SDK_INVOCATION_ID"
_SDK_REQUEST = "HTTP_AMZ_SDK_REQUEST"
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ATTEMPT = re.compile(r"(?:^|;)\s*attempt=(\d+)")

log = logging.getLogger(__name__)

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


@dataclass(frozen=True)
class _Answer:
    status: str
    headers: list[tuple[str, str]]
    body: bytes

    def send(self, start_response: StartResponse) -> Iterable[bytes]:
        start_response(self.status, list(self.headers))
        return [self.body]


@dataclass
class _Call:
    """One SDK call (invocation id): its first attempt's answer once that attempt has finished."""

    started: float
    finished: threading.Event = field(default_factory=threading.Event)
    answer: _Answer | None = None  # None: still running, failed, or too large to keep


def attempt_number(sdk_request: str) -> int:
    """The `attempt=N` of an `amz-sdk-request` header; 1 when absent or unreadable."""
    match = _ATTEMPT.search(sdk_request)
    return int(match.group(1)) if match else 1


class RetryReplay:
    """WSGI middleware in front of moto's dispatcher; see the module docstring."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        ttl_s: float = 60.0,
        max_calls: int = 2048,
        max_body_bytes: int = 64 * 1024,  # creates answer in a few KB; at most 128 MB kept in all
        wait_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._app = app
        self._ttl_s = ttl_s
        self._max_calls = max_calls
        self._max_body_bytes = max_body_bytes
        self._wait_s = wait_s
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: OrderedDict[str, _Call] = OrderedDict()
        self.replayed = 0  # answers replayed so far

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        invocation = environ.get(_INVOCATION_ID)
        if not invocation or environ.get("REQUEST_METHOD", "GET").upper() in _READ_METHODS:
            return self._app(environ, start_response)
        retry = attempt_number(environ.get(_SDK_REQUEST, "")) > 1
        with self._lock:
            self._forget(older_than=self._clock() - self._ttl_s)
            call = self._calls.get(invocation)
            first = call is None
            if call is None:
                while len(self._calls) >= self._max_calls:
                    self._calls.popitem(last=False)
                call = self._calls[invocation] = _Call(started=self._clock())
        if first:
            return self._run_first(call, environ, start_response)
        if retry and call.finished.wait(self._wait_s) and call.answer is not None:
            with self._lock:
                self.replayed += 1
            log.warning(
                "replayed the answer to a retried %s %s (%s)",
                environ.get("REQUEST_METHOD"),
                environ.get("PATH_INFO"),
                environ.get(_SDK_REQUEST),
            )
            return call.answer.send(start_response)
        return self._app(environ, start_response)

    def _run_first(self, call: _Call, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            answer = self._collect(environ)
            if answer.status.startswith("2") and len(answer.body) <= self._max_body_bytes:
                call.answer = answer
        finally:
            call.finished.set()
        return answer.send(start_response)

    def _collect(self, environ: dict[str, Any]) -> _Answer:
        """Run the app to completion; moto answers are whole byte strings, so nothing streams."""
        started: list[tuple[str, list[tuple[str, str]]]] = []
        written: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
            if exc_info is not None and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [(status, list(headers))]
            return written.append

        result = self._app(environ, capture)
        try:
            chunks = [*written, *result]
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        if not started:
            raise RuntimeError("the application returned without calling start_response")
        status, headers = started[0]
        return _Answer(status, headers, b"".join(chunks))

    def _forget(self, *, older_than: float) -> None:
        while self._calls and next(iter(self._calls.values())).started < older_than:
            self._calls.popitem(last=False)
