"""The emulator's own HTTP routes, both ends: what a `scones local` command or a test asks of a
running emulator that only its process can answer (moto's backends and the fault registry live
there). They sit under `PREFIX` on the emulator's port, a path no AWS API uses (S3 bucket names
cannot contain "_"), and answer JSON:

    GET    /_scones/faults                 {"faults": [ActiveFault, ...]}            (fault_api.py)
    POST   /_scones/faults                 {"fault": {...}, "count": N | null} -> 201 {"fault": ...}
    DELETE /_scones/faults[/ID]            {"cleared": n}
    POST   /_scones/alarms/evaluate        {"at": ISO-8601 time | null} -> [AlarmEvaluation, ...]  (alarms.py)
    GET    /_scones/sns/sent-notifications?TopicArn=ARN
                                           {"TopicArn", "Notifications": [...]}      (services/sns.py)

`EmulatorApi` (WSGI middleware in front of moto, built by server.py) hands each route's request
to the handler its module provides; `call` is the one client every reader uses. Nothing here
imports moto, so a client reads the emulator without loading it.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

PREFIX = "/_scones/"
FAULTS_PATH = "/_scones/faults"
EVALUATE_ALARMS_PATH = "/_scones/alarms/evaluate"
SENT_NOTIFICATIONS_PATH = "/_scones/sns/sent-notifications"

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class EmulatorApiError(Exception):
    """The emulator refused a request to its own routes, or could not be reached."""


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # below the route, e.g. "/f1" for DELETE /_scones/faults/f1
    query: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"{}")


# A route's handler: the request -> (HTTP status line, JSON-able answer).
Handler = Callable[[Request], tuple[str, Any]]


class EmulatorApi:
    """Answers `routes` (path -> handler; a route also owns the paths below it) and 404 for any
    other path under PREFIX; passes everything else to `app`."""

    def __init__(self, app: WSGIApp, routes: Mapping[str, Handler]) -> None:
        self._app = app
        self._routes = dict(routes)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(PREFIX):
            return self._app(environ, start_response)
        for route, handler in self._routes.items():
            if path == route or path.startswith(route + "/"):
                query = {k: v[0] for k, v in urllib.parse.parse_qs(str(environ.get("QUERY_STRING", ""))).items()}
                length = int(environ.get("CONTENT_LENGTH") or 0)
                body = bytes(environ["wsgi.input"].read(length)) if length else b""
                method = str(environ.get("REQUEST_METHOD", "GET"))
                status, answer = handler(Request(method, path[len(route) :], query, body))
                return _answer(start_response, status, answer)
        return _answer(start_response, "404 Not Found", {"error": f"no route {path}"})


def _answer(start_response: StartResponse, status: str, payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def call(
    url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    query: Mapping[str, str] | None = None,
    timeout_seconds: float = 30.0,
) -> Any:
    """The JSON answer of the emulator at `url` to `method path`; EmulatorApiError (with the HTTP
    status and the emulator's reason) when it refuses or does not answer."""
    target = url.rstrip("/") + path + (f"?{urllib.parse.urlencode(query)}" if query else "")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(target, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        with contextlib.suppress(ValueError, AttributeError):  # not JSON: the body as it came
            detail = str(json.loads(detail).get("error", detail))
        raise EmulatorApiError(f"{method} {target}: HTTP {exc.code}: {detail}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EmulatorApiError(f"{method} {target}: the emulator does not answer: {exc}") from exc
