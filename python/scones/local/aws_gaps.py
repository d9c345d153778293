"""Answers for the AWS APIs that moto lacks but the Terraform AWS provider (5.x) calls.

Without them the provider retries for minutes and then fails:
- `states:ListStateMachineVersions` is called after every create/read of a state machine.
- `states:ValidateStateMachineDefinition` is called on every plan/apply of a state machine whose
  definition is known; it is answered with moto's own ASL parser and static analysers.
- `application-autoscaling` `ListTagsForResource`/`TagResource`/`UntagResource` are called after
  every `RegisterScalableTarget` (and on refresh); moto neither stores nor serves scalable-target tags.
- SageMaker `DescribeModel` in moto reports an empty `VpcConfig` for a model created without one,
  which the provider reads back as a `vpc_config` block and plans to remove on every run; and
  `CreateModel` drops `EnableNetworkIsolation` (read back as false: the model would be replaced).

`install()` patches moto's response classes in place; calling it again changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

from moto.applicationautoscaling.models import ApplicationAutoscalingBackend, applicationautoscaling_backends
from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.sagemaker.responses import SageMakerResponse
from moto.stepfunctions.responses import StepFunctionResponse

_INSTALLED_FLAG = "_scones_aws_gaps_installed"


class ResourceNotFoundError(LookupError):
    """A tagging call named an application-autoscaling resource that does not exist."""


# --- Step Functions -------------------------------------------------------------------------------


def validate_definition(definition: str, machine_type: str = "STANDARD") -> tuple[str, list[dict[str, str]]]:
    """("OK" | "FAIL", diagnostics) for an ASL definition, judged by moto's parser and static analysers."""
    # Imported here: the parser package is large and only needed when a definition is validated.
    # (moto's own provider.validate_state_machine_definition imports localstack, so it cannot be used.)
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException
    from moto.stepfunctions.parser.asl.static_analyser.express_static_analyser import ExpressStaticAnalyser
    from moto.stepfunctions.parser.asl.static_analyser.static_analyser import StaticAnalyser

    analyser = ExpressStaticAnalyser() if machine_type == "EXPRESS" else StaticAnalyser()
    try:
        analyser.analyse(definition)
        dangling = _dangling_transitions(json.loads(definition))
        if dangling:
            message = "transitions to states that do not exist: " + ", ".join(dangling)
            return "FAIL", [{"severity": "ERROR", "code": "MISSING_TRANSITION_TARGET", "message": message}]
    except ASLParserException as exc:
        return "FAIL", [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": repr(exc)}]
    except Exception as exc:  # the analysers raise assorted errors on invalid input; all mean "invalid"
        message = f"{type(exc).__name__}: {exc}"
        return "FAIL", [{"severity": "ERROR", "code": "SCHEMA_VALIDATION_FAILED", "message": message}]
    return "OK", []


def _dangling_transitions(machine: dict[str, Any]) -> list[str]:
    """'from -> to' for every StartAt/Next/Default/Catch target missing from its States (moto does not check)."""
    states: dict[str, Any] = machine.get("States", {})
    found: list[str] = []
    if machine.get("StartAt") not in states:
        found.append(f"StartAt -> {machine.get('StartAt')}")
    for name, state in states.items():
        targets = [state.get("Next"), state.get("Default")]
        targets += [choice.get("Next") for choice in state.get("Choices", [])]
        targets += [catcher.get("Next") for catcher in state.get("Catch", [])]
        found += [f"{name} -> {target}" for target in targets if target is not None and target not in states]
        for branch in state.get("Branches", []):
            found += _dangling_transitions(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                found += _dangling_transitions(state[key])
    return found


def _validate_state_machine_definition(self: StepFunctionResponse) -> str:
    definition = self._get_param("definition") or ""
    machine_type = self._get_param("type") or "STANDARD"
    result, diagnostics = validate_definition(definition, machine_type)
    return json.dumps({"result": result, "diagnostics": diagnostics, "truncated": False})


def _list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = sorted(getattr(machine, "versions", {}).values(), key=lambda v: v.version, reverse=True)
    listed = [{"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]
    return ActionResult({"stateMachineVersions": listed})


# --- Application Auto Scaling tags ---------------------------------------------------------------


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


def _wrap_register_scalable_target(original: Any) -> Any:
    """RegisterScalableTarget accepts Tags in the real API; moto drops them."""

    def register_scalable_target(self: ApplicationAutoScalingResponse) -> str:
        body: str = original(self)
        tags = self._get_param("Tags")
        if tags:
            _tags_of(_backend(self), json.loads(body)["ScalableTargetARN"]).update(tags)
        return body

    return register_scalable_target


# --- SageMaker read-back -------------------------------------------------------------------------


def _wrap_describe_model(original: Any) -> Any:
    """moto answers `VpcConfig: {}` for a model created without one; AWS omits the field."""

    def describe_model(self: SageMakerResponse) -> Any:
        result = original(self)
        body = result.result if isinstance(result, ActionResult) else None
        if isinstance(body, dict) and "VpcConfig" in body and not body["VpcConfig"]:
            return ActionResult({key: value for key, value in body.items() if key != "VpcConfig"})
        return result

    return describe_model


def _wrap_create_model(original: Any) -> Any:
    """moto ignores EnableNetworkIsolation and always reports false, so the provider would replace the model."""

    def create_model(self: SageMakerResponse) -> Any:
        result = original(self)
        model = self.sagemaker_backend.describe_model(self._get_param("ModelName"))
        model.enable_network_isolation = bool(self._get_param("EnableNetworkIsolation", False))
        return result

    return create_model


def install() -> None:
    """Patch moto so the provider's calls get answers (idempotent)."""
    if getattr(StepFunctionResponse, _INSTALLED_FLAG, False):
        return
    StepFunctionResponse.validate_state_machine_definition = _validate_state_machine_definition  # type: ignore[attr-defined]
    StepFunctionResponse.list_state_machine_versions = _list_state_machine_versions  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.list_tags_for_resource = _list_tags_for_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.tag_resource = _tag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.untag_resource = _untag_resource  # type: ignore[attr-defined]
    ApplicationAutoScalingResponse.register_scalable_target = _wrap_register_scalable_target(  # type: ignore[method-assign]
        ApplicationAutoScalingResponse.register_scalable_target
    )
    SageMakerResponse.describe_model = _wrap_describe_model(SageMakerResponse.describe_model)  # type: ignore[method-assign]
    SageMakerResponse.create_model = _wrap_create_model(SageMakerResponse.create_model)  # type: ignore[method-assign]
    setattr(StepFunctionResponse, _INSTALLED_FLAG, True)
