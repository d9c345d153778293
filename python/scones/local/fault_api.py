"""The fault registry of a running emulator over HTTP, for `scones local fault` and scripts.

The server answers under `FAULTS_PATH` on its own port, before moto sees the request (no AWS API
has that path: S3 bucket names cannot contain "_"):

    GET    /_scones/faults        {"faults": [ActiveFault, ...]}
    POST   /_scones/faults        {"fault": {"kind": ..., ...}, "count": N | null} -> 201 {"fault": ActiveFault}
    DELETE /_scones/faults[/ID]   {"cleared": n}

`FaultClient` is the caller's side; both ends use the dict forms of `faults.py`.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from scones.local.faults import ActiveFault, Fault, FaultRegistry, FaultSpecError, fault_from_dict, fault_to_dict

FAULTS_PATH = "/_scones/faults"

StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class FaultApiError(Exception):
    """The emulator refused a fault request or could not be reached."""


class FaultApi:
    """WSGI middleware: serves `registry` under FAULTS_PATH, passes every other request to `app`."""

    def __init__(self, app: WSGIApp, registry: FaultRegistry) -> None:
        self._app = app
        self._registry = registry

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if path != FAULTS_PATH and not path.startswith(FAULTS_PATH + "/"):
            return self._app(environ, start_response)
        status, body = self._handle(str(environ.get("REQUEST_METHOD", "GET")), path, environ)
        payload = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
        return [payload]

    def _handle(self, method: str, path: str, environ: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        fault_id = path[len(FAULTS_PATH) + 1 :] or None
        if method == "GET" and fault_id is None:
            return "200 OK", {"faults": [active.to_dict() for active in self._registry.list()]}
        if method == "DELETE":
            return "200 OK", {"cleared": self._registry.clear(fault_id)}
        if method == "POST" and fault_id is None:
            try:
                request = json.loads(_read_body(environ) or b"{}")
                count = request.get("count")
                active = self._registry.add(fault_from_dict(request["fault"]), None if count is None else int(count))
            except (ValueError, KeyError, TypeError, AttributeError, FaultSpecError) as exc:
                return "400 Bad Request", {"error": f"{type(exc).__name__}: {exc}"}
            return "201 Created", {"fault": active.to_dict()}
        return "405 Method Not Allowed", {"error": f"{method} {path} is not supported"}


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(environ["wsgi.input"].read(length)) if length else b""


class FaultClient:
    """The fault registry of the emulator at `url` (e.g. http://127.0.0.1:4588)."""

    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self._url = url.rstrip("/") + FAULTS_PATH
        self._timeout = timeout_seconds

    def _call(self, method: str, suffix: str = "", body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self._url + suffix, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            with contextlib.suppress(ValueError, AttributeError):
                detail = str(json.loads(detail).get("error", detail))
            raise FaultApiError(f"the emulator refused the request: {detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise FaultApiError(f"the emulator at {self._url} does not answer: {exc}") from exc

    def add(self, fault: Fault, count: int | None = None) -> ActiveFault:
        return ActiveFault.from_dict(self._call("POST", body={"fault": fault_to_dict(fault), "count": count})["fault"])

    def list(self) -> list[ActiveFault]:
        return [ActiveFault.from_dict(item) for item in self._call("GET")["faults"]]

    def clear(self, fault_id: str | None = None) -> int:
        return int(self._call("DELETE", f"/{fault_id}" if fault_id else "")["cleared"])
