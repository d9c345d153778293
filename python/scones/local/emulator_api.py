"""The emulator's own HTTP routes, for `scones local` commands that must run inside its process.

moto's backends live in the emulator process, so what reads or changes them directly (alarm
evaluation) is asked for over the emulator's port, under a path no AWS API uses:

    POST /_scones/alarms/evaluate   {"at": ISO-8601 time or null}  ->  [AlarmEvaluation...]

Both ends are here: `EmulatorApi` (WSGI middleware in front of moto, in `server.py`) and the
client functions the CLI calls.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from scones.local.alarms import AlarmEvaluation, evaluate_alarms

PREFIX = "/_scones/"
EVALUATE_ALARMS = "/_scones/alarms/evaluate"

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class EmulatorApiError(Exception):
    """The emulator refused or could not answer a request to its own routes."""


class EmulatorApi:
    """Answers the emulator's own routes; passes everything else to moto."""

    def __init__(self, app: WSGIApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if not path.startswith(PREFIX):
            return self._app(environ, start_response)
        if path != EVALUATE_ALARMS or environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, "404 Not Found", {"error": f"no route {path}"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            at = datetime.fromisoformat(body["at"]) if body.get("at") else None
        except (ValueError, TypeError, KeyError) as exc:
            return _answer(start_response, "400 Bad Request", {"error": f"bad request: {exc}"})
        return _answer(start_response, "200 OK", [e.as_dict() for e in evaluate_alarms(now=at)])


def _answer(start_response: StartResponse, status: str, payload: Any) -> Iterable[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def evaluate_remote(url: str, at: datetime | None = None, timeout_seconds: float = 60.0) -> list[AlarmEvaluation]:
    """Ask the emulator at `url` to evaluate every alarm (at `at`, default its current time)."""
    request = urllib.request.Request(
        url.rstrip("/") + EVALUATE_ALARMS,
        data=json.dumps({"at": at.isoformat() if at else None}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_seconds) as response:
            raw = json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise EmulatorApiError(f"the emulator answered {exc.code}: {exc.read().decode(errors='replace')}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EmulatorApiError(f"the emulator at {url} does not answer: {exc}") from exc
    return [AlarmEvaluation.from_dict(item) for item in raw]
