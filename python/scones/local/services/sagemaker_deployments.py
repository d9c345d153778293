"""SageMaker deployment guardrails: an endpoint update's blue/green traffic shifting, baking periods and auto-rollback.

moto drops `DeploymentConfig` (CreateEndpoint and UpdateEndpoint ignore it, DescribeEndpoint never reports
`LastDeploymentConfig`, so the Terraform provider would plan the block again on every run). Here:

- CreateEndpoint and UpdateEndpoint store the `DeploymentConfig` they are given and DescribeEndpoint reports it
  as `LastDeploymentConfig` ("The most recent deployment configuration for the endpoint", API_DescribeEndpoint,
  https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html); UpdateEndpoint's
  `RetainDeploymentConfig` reuses the last one.
- An UpdateEndpoint with a `BlueGreenUpdatePolicy` is a deployment ("Blue/Green Deployments",
  https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html): the endpoint is
  `Updating`, keeps its old `EndpointConfigName` and shows the new one in `PendingDeploymentSummary`; the new
  fleet takes its share of the requests step by step (ALL_AT_ONCE: everything; CANARY: the canary, then the
  rest; LINEAR: one more step each time), each step followed by a baking period of `WaitIntervalInSeconds`.
  When any alarm of `AutoRollbackConfiguration` is in ALARM during the deployment, or it outlasts
  `MaximumExecutionTimeoutInSeconds`, all traffic goes back to the old configuration and the endpoint is
  `InService` on it with a `FailureReason` ("If the status of the endpoint is Failed, or the status is
  InService but update operation fails, this provides the reason why it failed", API_DescribeEndpoint).
  After the last baking period the endpoint is `InService` on the new configuration.
- Time: a deployment moves when the emulator's alarms are evaluated (`alarms.evaluate_alarms(now=...)`, the
  test clock: nothing sleeps), reading its rollback alarms' states as SageMaker reads them, and on
  DescribeEndpoint (what the Terraform provider polls) to the current time, with the alarms as last evaluated.
  A clock that jumps past several baking periods checks the alarms once, at the time it jumps to.
- Refused as SageMaker refuses them (its documented rules; the emulator's wording): a canary larger than half
  of the new configuration's instances, a linear step outside 10-50% of them, a new configuration that drops a
  variant of the old one ("your new endpoint configuration must have the same variant name", "Exclusions",
  https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-exclusions.html), and an update while
  one is in progress.

Not modelled: `TerminationWaitInSeconds` (the old fleet is not billed here), rolling updates
(`RollingUpdatePolicy` is stored and reported but applied at once), `UpdateRollbackFailed`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.sagemaker.exceptions import ValidationError
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend
from moto.sagemaker.responses import SageMakerResponse

from scones.local import alarms

IN_SERVICE = "InService"
UPDATING = "Updating"
_LOCK = threading.RLock()
# Deployments in progress, by endpoint ARN.
_DEPLOYMENTS: dict[str, Deployment] = {}


@dataclass
class Deployment:
    """One blue/green update of an endpoint in progress: where it is and how the requests are shared."""

    endpoint: FakeEndpoint
    backend: SageMakerModelBackend
    new_config_name: str
    new_variants: list[dict[str, Any]]
    new_capture: Any  # the data capture configuration the endpoint has once on the new configuration
    shares: tuple[float, ...]  # the new fleet's share of the requests at each step
    wait: timedelta
    timeout: timedelta
    alarm_names: tuple[str, ...]
    started: datetime
    step: int = 0
    step_started: datetime = field(init=False)
    clock: datetime = field(init=False)  # the latest time the deployment was moved to
    routed: int = 0  # requests routed during this step
    to_new: int = 0

    def __post_init__(self) -> None:
        self.step_started = self.clock = self.started

    @property
    def share(self) -> float:
        return self.shares[self.step]

    def route(self) -> str:
        """The configuration that serves the next request: exactly the step's share goes to the new fleet."""
        self.routed += 1
        if math.floor(self.routed * self.share + 1e-9) > self.to_new:
            self.to_new += 1
            return self.new_config_name
        return str(self.endpoint.endpoint_config_name)

    def advance(self, now: datetime) -> None:
        """Move the deployment to `now`: roll back on an alarm or the timeout, else finish the baked steps."""
        if now <= self.clock:
            return
        self.clock = now
        firing = [name for name in self.alarm_names if _alarm_state(self.backend, name) == alarms.ALARM]
        if firing:
            self._finish(
                f"Deployment was rolled back: CloudWatch alarm(s) {', '.join(firing)} in ALARM during the "
                f"baking period of step {self.step + 1} of {len(self.shares)} "
                f"({self.share:.0%} of the traffic on {self.new_config_name})."
            )
            return
        deadline = self.started + self.timeout
        reached = min(now, deadline)  # the steps whose bakes ended in time
        while reached >= self.step_started + self.wait:
            if self.step + 1 == len(self.shares):
                self._complete()
                return
            self.step += 1
            self.step_started += self.wait
            self.routed = self.to_new = 0
        if now > deadline:
            self._finish(
                f"Deployment was rolled back: it exceeded MaximumExecutionTimeoutInSeconds "
                f"({int(self.timeout.total_seconds())} s)."
            )

    def _complete(self) -> None:
        switch(self.endpoint, self.new_config_name, self.new_variants, self.new_capture)
        self._finish(None)

    def _finish(self, failure_reason: str | None) -> None:
        """End the deployment: on the new configuration (no reason) or back on the old one, which kept serving."""
        self.endpoint.endpoint_status = IN_SERVICE
        self.endpoint.failure_reason = failure_reason
        self.endpoint.pending_deployment_summary = None
        self.endpoint.last_modified_time = self.clock.replace(tzinfo=None)
        _DEPLOYMENTS.pop(self.endpoint.arn, None)


def _alarm_state(backend: SageMakerModelBackend, name: str) -> str | None:
    regions = cloudwatch_backends[backend.account_id]
    cloudwatch = dict.get(regions, backend.region_name)  # dict.get: looking a region up would create it
    alarm = cloudwatch.alarms.get(name) if cloudwatch is not None else None
    return None if alarm is None else str(alarm.state_value)


def switch(endpoint: FakeEndpoint, config_name: str, variants: list[dict[str, Any]], capture: Any) -> None:
    endpoint.endpoint_config_name = config_name
    endpoint.production_variants = variants
    endpoint.data_capture_config = capture


# -- the deployment configuration -----------------------------------------------------------------


def _instances(variants: list[dict[str, Any]]) -> int:
    return sum(int(variant.get("InitialInstanceCount") or 0) for variant in variants)


def _step_share(size: dict[str, Any], instances: int) -> float:
    value = float(size["Value"])
    if size["Type"] == "CAPACITY_PERCENT":
        return value / 100
    return value / instances if instances else 1.0


def steps(policy: dict[str, Any], variants: list[dict[str, Any]]) -> tuple[float, ...]:
    """The new fleet's share of the traffic at each step of a blue/green policy (TrafficRoutingConfig,
    https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_TrafficRoutingConfig.html), refusing a step
    SageMaker refuses: "CanarySize ... must be less than or equal to 50% of the variant's total instance count",
    "LinearStepSize ... must be 10-50%"."""
    routing = policy["TrafficRoutingConfiguration"]
    kind = routing["Type"]
    instances = _instances(variants)
    if kind == "ALL_AT_ONCE":
        return (1.0,)
    size = routing.get("CanarySize" if kind == "CANARY" else "LinearStepSize")
    if size is None:
        raise ValidationError(message=f"TrafficRoutingConfiguration of type {kind} needs its step size.")
    share = _step_share(size, instances)
    if kind == "CANARY":
        if not 0 < share <= 0.5:
            raise ValidationError(
                message=f"CanarySize {size['Value']} ({size['Type']}) must be at most 50% of the variant's total "
                f"instance count ({instances})."
            )
        return (share, 1.0)
    if not 0.1 <= share <= 0.5:
        raise ValidationError(
            message=f"LinearStepSize {size['Value']} ({size['Type']}) must be 10-50% of the variant's total "
            f"instance count ({instances})."
        )
    count = math.ceil(1 / share - 1e-9)
    return tuple(min((k + 1) * share, 1.0) for k in range(count))


def _refuse_dropped_variants(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    dropped = sorted({v["VariantName"] for v in old} - {v["VariantName"] for v in new})
    if dropped:
        raise ValidationError(
            message=f"A blue/green deployment keeps the variant names: the new endpoint configuration lacks "
            f"{', '.join(dropped)}."
        )


def start(
    backend: SageMakerModelBackend,
    endpoint: FakeEndpoint,
    config_name: str,
    variants: list[dict[str, Any]],
    capture: Any,
    deployment_config: dict[str, Any],
) -> bool:
    """Start a blue/green deployment of `config_name` on `endpoint` when the configuration asks for one.

    Returns False (nothing started) without a BlueGreenUpdatePolicy: the caller then switches at once."""
    policy = deployment_config.get("BlueGreenUpdatePolicy")
    if not policy:
        return False
    with _LOCK:
        if endpoint.arn in _DEPLOYMENTS:
            raise ValidationError(message=f'Cannot update in-progress endpoint "{endpoint.arn}".')
        new_variants = backend.endpoint_configs[config_name].production_variants
        old_config = backend.endpoint_configs.get(endpoint.endpoint_config_name)
        if old_config is not None:
            _refuse_dropped_variants(old_config.production_variants, new_variants)
        shares = steps(policy, new_variants)
        rollback = deployment_config.get("AutoRollbackConfiguration") or {}
        now = datetime.now(UTC)
        deployment = Deployment(
            endpoint=endpoint,
            backend=backend,
            new_config_name=config_name,
            new_variants=variants,
            new_capture=capture,
            shares=shares,
            wait=timedelta(seconds=int(policy["TrafficRoutingConfiguration"].get("WaitIntervalInSeconds", 0))),
            # SageMaker's default when the policy sets none is not documented; the API's largest value.
            timeout=timedelta(seconds=int(policy.get("MaximumExecutionTimeoutInSeconds") or 28800)),
            alarm_names=tuple(alarm["AlarmName"] for alarm in rollback.get("Alarms") or []),
            started=now,
        )
        _DEPLOYMENTS[endpoint.arn] = deployment
        endpoint.endpoint_status = UPDATING
        endpoint.failure_reason = None
        endpoint.pending_deployment_summary = {
            "EndpointConfigName": config_name,
            "ProductionVariants": [dict(variant) for variant in variants],
            "StartTime": now.replace(tzinfo=None),
        }
        return True


def advance(now: datetime) -> None:
    """Move every deployment in progress to `now` (called after each alarm evaluation at `now`)."""
    with _LOCK:
        for deployment in list(_DEPLOYMENTS.values()):
            deployment.advance(now)


def in_progress(endpoint: FakeEndpoint) -> Deployment | None:
    with _LOCK:
        return _DEPLOYMENTS.get(endpoint.arn)


def serving_config_name(endpoint: FakeEndpoint) -> str:
    """The configuration that serves the endpoint's next request (the new fleet's share of them during a deployment)."""
    with _LOCK:
        deployment = _DEPLOYMENTS.get(endpoint.arn)
        return deployment.route() if deployment is not None else str(endpoint.endpoint_config_name)


def forget(endpoint_arn: str) -> None:
    """Drop a deployment whose endpoint was deleted."""
    with _LOCK:
        _DEPLOYMENTS.pop(endpoint_arn, None)


# -- the API ----------------------------------------------------------------------------------------

_original_create_endpoint = SageMakerResponse.create_endpoint
_original_describe_endpoint = SageMakerResponse.describe_endpoint
_original_delete_endpoint = SageMakerResponse.delete_endpoint


def _create_endpoint(self: SageMakerResponse) -> Any:
    result = _original_create_endpoint(self)
    endpoint = self.sagemaker_backend.endpoints[self._get_param("EndpointName")]
    endpoint.last_deployment_config = self._get_param("DeploymentConfig")
    return result


def _describe_endpoint(self: SageMakerResponse) -> Any:
    endpoint = self.sagemaker_backend.endpoints.get(self._get_param("EndpointName"))
    if endpoint is not None and in_progress(endpoint) is not None:
        # What the provider's waiter polls: time passes for the deployment as it does for the caller. The alarms
        # are read as last evaluated, not evaluated here: an evaluation notifies their topics, which the caller
        # did not ask for.
        advance(datetime.now(UTC))
    return _original_describe_endpoint(self)


def _delete_endpoint(self: SageMakerResponse) -> Any:
    endpoint = self.sagemaker_backend.endpoints.get(self._get_param("EndpointName"))
    result = _original_delete_endpoint(self)
    if endpoint is not None:
        forget(endpoint.arn)
    return result


def install() -> None:
    SageMakerResponse.create_endpoint = _create_endpoint  # type: ignore[method-assign]
    SageMakerResponse.describe_endpoint = _describe_endpoint  # type: ignore[method-assign]
    SageMakerResponse.delete_endpoint = _delete_endpoint  # type: ignore[method-assign]
    alarms.after_evaluation(advance)
