"""The fault registry of a running emulator over HTTP (`/_scones/faults`, see emulator_api.py),
for `scones local fault` and scripts: `faults_route` is the emulator's side, `FaultClient` the
caller's; both use the dict forms of `faults.py`."""

from __future__ import annotations

from scones.local.emulator_api import FAULTS_PATH, Handler, Request, call
from scones.local.faults import ActiveFault, Fault, FaultRegistry, FaultSpecError, fault_from_dict, fault_to_dict


def faults_route(registry: FaultRegistry) -> Handler:
    """The handler of FAULTS_PATH for `registry`."""

    def handle(request: Request) -> tuple[str, object]:
        fault_id = request.path.lstrip("/") or None
        if request.method == "GET" and fault_id is None:
            return "200 OK", {"faults": [active.to_dict() for active in registry.list()]}
        if request.method == "DELETE":
            return "200 OK", {"cleared": registry.clear(fault_id)}
        if request.method == "POST" and fault_id is None:
            try:
                asked = request.json()
                count = asked.get("count")
                active = registry.add(fault_from_dict(asked["fault"]), None if count is None else int(count))
            except (ValueError, KeyError, TypeError, AttributeError, FaultSpecError) as exc:
                return "400 Bad Request", {"error": f"{type(exc).__name__}: {exc}"}
            return "201 Created", {"fault": active.to_dict()}
        return "405 Method Not Allowed", {"error": f"{request.method} {FAULTS_PATH}{request.path} is not supported"}

    return handle


class FaultClient:
    """The fault registry of the emulator at `url` (e.g. http://127.0.0.1:4588); raises
    `emulator_api.EmulatorApiError` when the emulator refuses or does not answer."""

    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self._url = url
        self._timeout = timeout_seconds

    def add(self, fault: Fault, count: int | None = None) -> ActiveFault:
        body = {"fault": fault_to_dict(fault), "count": count}
        return ActiveFault.from_dict(
            call(self._url, "POST", FAULTS_PATH, body=body, timeout_seconds=self._timeout)["fault"]
        )

    def list(self) -> list[ActiveFault]:
        answer = call(self._url, "GET", FAULTS_PATH, timeout_seconds=self._timeout)
        return [ActiveFault.from_dict(item) for item in answer["faults"]]

    def clear(self, fault_id: str | None = None) -> int:
        path = f"{FAULTS_PATH}/{fault_id}" if fault_id else FAULTS_PATH
        return int(call(self._url, "DELETE", path, timeout_seconds=self._timeout)["cleared"])
