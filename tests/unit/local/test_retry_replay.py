"""The emulator answers an SDK's retry of a call it already carried out with the first answer."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

import botocore.exceptions
import pytest

from scones.local.retry_replay import RetryReplay, attempt_number
from scones.local.server import LocalAWS
from tests.support.local_fixtures import client, lambda_role, lambda_zip


class _App:
    """A WSGI app whose every run answers differently, so a replay is told apart from a rerun."""

    def __init__(self, status: str = "201 Created", body: bytes = b'{"created": true}') -> None:
        self.status = status
        self.body = body
        self.runs = 0
        self.running = threading.Event()  # set once a run has begun
        self.release = threading.Event()
        self.release.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.runs += 1
        self.running.set()
        self.release.wait(10)
        body = self.body + b" run %d" % self.runs
        start_response(self.status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _call(
    app: RetryReplay, *, method: str = "POST", invocation: str | None = "call-1", attempt: int = 1
) -> tuple[str, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": "/2015-03-31/functions"}
    if invocation is not None:
        environ["HTTP_AMZ_SDK_INVOCATION_ID"] = invocation
        environ["HTTP_AMZ_SDK_REQUEST"] = f"attempt={attempt}; max=3"
    started: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        started.append(status)
        return lambda data: None

    body = b"".join(app(environ, start_response))
    return started[0], body


def test_retry_of_a_completed_call_gets_the_first_answer_without_running_again() -> None:
    app = _App()
    replay = RetryReplay(app)
    first = _call(replay, attempt=1)
    assert _call(replay, attempt=2) == first == ("201 Created", b'{"created": true} run 1')
    assert app.runs == 1 and replay.replayed == 1
    # A new call (a new invocation id) runs, as on AWS.
    assert _call(replay, invocation="call-2") == ("201 Created", b'{"created": true} run 2')


def test_retry_of_a_failed_attempt_runs_again() -> None:
    app = _App(status="500 Internal Server Error", body=b"boom")
    replay = RetryReplay(app)
    _call(replay, attempt=1)
    assert _call(replay, attempt=2) == ("500 Internal Server Error", b"boom run 2")
    assert app.runs == 2 and replay.replayed == 0


@pytest.mark.parametrize(("method", "invocation"), [("GET", "call-1"), ("HEAD", "call-1"), ("POST", None)])
def test_reads_and_calls_without_an_sdk_invocation_id_always_run(method: str, invocation: str | None) -> None:
    app = _App(status="200 OK")
    replay = RetryReplay(app)
    _call(replay, method=method, invocation=invocation, attempt=1)
    _call(replay, method=method, invocation=invocation, attempt=2)
    assert app.runs == 2


def test_first_answer_is_forgotten_after_the_ttl() -> None:
    now = [0.0]
    app = _App()
    replay = RetryReplay(app, ttl_s=60.0, clock=lambda: now[0])
    _call(replay, attempt=1)
    now[0] = 61.0
    _call(replay, attempt=2)
    assert app.runs == 2


def test_oldest_calls_are_forgotten_beyond_the_cap() -> None:
    app = _App()
    replay = RetryReplay(app, max_calls=2)
    for name in ("a", "b", "c"):
        _call(replay, invocation=name)
    _call(replay, invocation="a", attempt=2)  # forgotten: runs again
    _call(replay, invocation="c", attempt=2)  # kept: replayed
    assert app.runs == 4 and replay.replayed == 1


def test_answers_too_large_to_keep_run_again() -> None:
    app = _App(body=b"x" * 100)
    replay = RetryReplay(app, max_body_bytes=50)
    _call(replay, attempt=1)
    _call(replay, attempt=2)
    assert app.runs == 2


def test_a_retry_waits_for_its_first_attempt_still_running() -> None:
    app = _App()
    app.release.clear()
    replay = RetryReplay(app)
    answers: list[tuple[str, bytes]] = []
    first = threading.Thread(target=lambda: answers.append(_call(replay, attempt=1)))
    first.start()
    # The retry is sent only once the first attempt is running, as an SDK sends it.
    assert app.running.wait(10), "the first attempt never started"
    retry = threading.Thread(target=lambda: answers.append(_call(replay, attempt=2)))
    retry.start()
    retry.join(0.3)
    assert retry.is_alive(), "the retry ran instead of waiting for its first attempt"
    app.release.set()
    first.join(10)
    retry.join(10)
    assert answers == [("201 Created", b'{"created": true} run 1')] * 2
    assert app.runs == 1


@pytest.mark.parametrize(
    ("header", "attempt"),
    [("attempt=2; max=3", 2), ("ttl=20261202T142349Z; attempt=3; max=5", 3), ("", 1), ("max=3", 1)],
)
def test_attempt_number_reads_the_sdk_request_header(header: str, attempt: int) -> None:
    assert attempt_number(header) == attempt


def test_create_function_whose_answer_was_lost_succeeds_on_the_sdk_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The failure `terraform apply` met: CreateFunction ran, its answer never reached the SDK,
    and the SDK's retry got 409. The first attempt's answer is dropped here on the client side,
    after the emulator created the function; botocore retries the call as the Go SDK does."""
    with LocalAWS() as aws:
        lambdas = client("lambda", aws.url)
        session = lambdas._endpoint.http_session
        real_send = session.send
        dropped: list[int] = []

        def send(request: Any) -> Any:
            response = real_send(request)
            if not dropped and request.method == "POST" and request.url.endswith("/2015-03-31/functions"):
                dropped.append(response.status_code)
                raise botocore.exceptions.ConnectionClosedError(endpoint_url=request.url)
            return response

        monkeypatch.setattr(session, "send", send)
        spec = {
            "FunctionName": "created-once",
            "Runtime": "python3.12",
            "Role": lambda_role(aws.url),
            "Handler": "app.handler",
            "Code": {"ZipFile": lambda_zip({"app.py": "def handler(event, context):\n    return event\n"})},
        }
        created = lambdas.create_function(**spec)
        assert dropped == [201]
        assert created["FunctionName"] == "created-once"
        names = [f["FunctionName"] for f in lambdas.list_functions()["Functions"]]
        assert names.count("created-once") == 1
        # Creating it again is a new call, and gets AWS's answer.
        with pytest.raises(lambdas.exceptions.ResourceConflictException):
            lambdas.create_function(**spec)
