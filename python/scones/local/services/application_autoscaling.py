"""Application Auto Scaling: scalable-target tags, which moto neither stores nor serves, and
deregistration that takes the target's policies with it.

The Terraform AWS provider (5.x) calls `ListTagsForResource`/`TagResource`/`UntagResource` after
every `RegisterScalableTarget` (and on refresh); without answers it retries for minutes, then
fails.
"""

from __future__ import annotations

import json
from typing import Any

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, applicationautoscaling_backends
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError


class ResourceNotFoundError(LookupError):
    """A tagging call named an application-autoscaling resource that does not exist."""


def _tag_store(backend: ApplicationAutoscalingBackend) -> dict[str, dict[str, str]]:
    """Tags by scalable-target ARN, kept on the backend so moto's reset clears them too."""
    store: dict[str, dict[str, str]] | None = getattr(backend, "_scones_tags", None)
    if store is None:
        store = {}
        backend._scones_tags = store  # type: ignore[attr-defined]
    return store


def _target_arns(backend: ApplicationAutoscalingBackend) -> set[str]:
    return {target.arn for by_id in backend.targets.values() for target in by_id.values()}


def _tags_of(backend: ApplicationAutoscalingBackend, arn: str) -> dict[str, str]:
    """The live tag dict of a registered target (tags of deregistered targets are dropped here)."""
    store = _tag_store(backend)
    live = _target_arns(backend)
    for stale in set(store) - live:
        del store[stale]
    if arn not in live:
        raise ResourceNotFoundError(arn)
    return store.setdefault(arn, {})


def _not_found(arn: str) -> str:
    raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for ARN {arn}")


def _backend(response: ApplicationAutoScalingResponse) -> ApplicationAutoscalingBackend:
    return applicationautoscaling_backends[response.current_account][response.region]


def _list_tags_for_resource(self: ApplicationAutoScalingResponse) -> Any:
    arn = self._get_param("ResourceARN")
    try:
        tags = _tags_of(_backend(self), arn)
    except ResourceNotFoundError:
        return _not_found(arn)
    return json.dumps({"Tags": tags})


def _tag_resource(self: ApplicationAutoScalingResponse) -> Any:
    arn = self._get_param("ResourceARN")
    try:
        _tags_of(_backend(self), arn).update(self._get_param("Tags") or {})
    except ResourceNotFoundError:
        return _not_found(arn)
    return "{}"


def _untag_resource(self: ApplicationAutoScalingResponse) -> Any:
    arn = self._get_param("ResourceARN")
    try:
        tags = _tags_of(_backend(self), arn)
    except ResourceNotFoundError:
        return _not_found(arn)
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return "{}"


_original_register_scalable_target = ApplicationAutoScalingResponse.register_scalable_target


def _register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
    """RegisterScalableTarget accepts Tags in the real API; moto drops them."""
    body: str = _original_register_scalable_target(self)
    tags = self._get_param("Tags")
    if tags:
        _tags_of(_backend(self), json.loads(body)["ScalableTargetARN"]).update(tags)
    return body


_original_deregister_scalable_target = ApplicationAutoscalingBackend.deregister_scalable_target


def _deregister_scalable_target(self: ApplicationAutoscalingBackend, namespace: str, r_id: str, dimension: str) -> None:
    """Deregister the target and, as AWS does, its policies and scheduled actions.

    DeregisterScalableTarget (Application Auto Scaling API Reference,
    https://docs.aws.amazon.com/autoscaling/application/APIReference/API_DeregisterScalableTarget.html):
    "Deregistering a scalable target deletes the scaling policies and the scheduled actions that are
    associated with it." moto keeps them, so a configuration that replaces only the target would pass
    here and lose its policy on AWS.
    """
    _original_deregister_scalable_target(self, namespace, r_id, dimension)
    for key, policy in list(self.policies.items()):
        if (policy.service_namespace, policy.resource_id, policy.scalable_dimension) == (namespace, r_id, dimension):
            policy.delete_alarms(self.account_id, self.region_name)
            del self.policies[key]
    self.scheduled_actions = [
        action
        for action in self.scheduled_actions
        if (action.service_namespace, action.resource_id, action.scalable_dimension) != (namespace, r_id, dimension)
    ]


def install() -> None:
    ApplicationAutoscalingBackend.deregister_scalable_target = _deregister_scalable_target  # type: ignore[method-assign]
    ApplicationAutoScalingResponse.list_tags_for_resource = _list_tags_for_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.tag_resource = _tag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.untag_resource = _untag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.register_scalable_target = _register_scalable_target  # type: ignore[method-assign]
