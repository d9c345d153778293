"""The world around a release onto an emulated endpoint with a blue/green deployment configuration: requests
arriving during the deployment and time passing for its baking periods, on the emulator's test clock.

On AWS, users send requests and CloudWatch evaluates the rollback alarms while `terraform apply` waits for the
endpoint to be InService again. The emulator evaluates alarms only when asked and moves a deployment on
DescribeEndpoint to the real current time (docs/emulator.md, "SageMaker endpoint deployments"), so a test plays
both in a thread while the release runs: nothing sleeps through a baking period.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from scones.aws import make_session
from scones.local.alarms import evaluate_remote

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class Played:
    new_config_name: str  # the configuration the deployment brought
    failure_reason: str | None  # DescribeEndpoint's once it ended: None when the new configuration took over


class DeploymentPlayer(threading.Thread):
    """Plays every deployment of `endpoint` as it starts: `during_first_bake(index, described)` (send requests,
    evaluate the alarms at the current time), then the alarms evaluated at the end of each baking period, in
    turn, until the endpoint settles (InService on the new configuration, or rolled back to the old one)."""

    def __init__(self, url: str, endpoint: str, during_first_bake: Callable[[int, dict[str, Any]], None]) -> None:
        super().__init__(name=f"deployment-player-{endpoint}", daemon=True)
        self.url, self.endpoint, self.during_first_bake = url, endpoint, during_first_bake
        self.played: list[Played] = []
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._sagemaker = make_session(endpoint_url=url).client("sagemaker")

    def __enter__(self) -> DeploymentPlayer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self.join(timeout=60)
        if self.error is not None:
            raise self.error

    def run(self) -> None:
        try:
            while not self._done.is_set():
                described = self._describe()
                pending = described.get("PendingDeploymentSummary")
                if pending is None:
                    time.sleep(POLL_SECONDS)
                    continue
                self._play(described, pending)
        except BaseException as exc:  # handed to the test on exit
            self.error = exc
            self._end_deployments()

    def _end_deployments(self) -> None:
        """After a failure of the player: move the clock past any deployment's longest time (28800 s), so the
        release's `terraform apply` does not wait out real baking periods before the test reports the failure."""
        try:
            while not self._done.is_set():
                pending = self._describe().get("PendingDeploymentSummary")
                if pending is not None:
                    evaluate_remote(self.url, at=pending["StartTime"] + timedelta(hours=9))
                time.sleep(POLL_SECONDS)
        except Exception:  # the first failure is the one the test reports
            pass

    def _describe(self) -> dict[str, Any]:
        return dict(self._sagemaker.describe_endpoint(EndpointName=self.endpoint))

    def _play(self, described: dict[str, Any], pending: dict[str, Any]) -> None:
        new_config = pending["EndpointConfigName"]
        routing = described["LastDeploymentConfig"]["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]
        wait = timedelta(seconds=int(routing["WaitIntervalInSeconds"]))
        self.during_first_bake(len(self.played), described)
        bakes = 0
        while _pending_config(described := self._describe()) == new_config:
            bakes += 1
            if bakes > 20:
                raise AssertionError(f"the deployment of {new_config} did not end after {bakes - 1} baking periods")
            evaluate_remote(self.url, at=pending["StartTime"] + bakes * wait + timedelta(seconds=1))
        self.played.append(Played(new_config, described.get("FailureReason")))


def _pending_config(described: dict[str, Any]) -> str | None:
    return (described.get("PendingDeploymentSummary") or {}).get("EndpointConfigName")
