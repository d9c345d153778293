"""EventBridge rules delivering to their targets as AWS does.

moto evaluates a rule's pattern but delivers poorly: a Step Functions or Lambda target raised
(and, for S3's events, silently skipped the rule's other targets), disabled rules still
delivered, a target's `Input`/`InputPath` were ignored, its `InputTransformer` was applied to
`PutEvents` only, and `RetryPolicy`/`DeadLetterConfig` were stored but unused. Here every event
that reaches a rule (from `PutEvents`, from S3, from another bus) goes through `route`:

- Only ENABLED rules whose pattern matches deliver (moto's matcher: exact values, `prefix`,
  `suffix`, `anything-but`, `numeric`, `exists`, `equals-ignore-case`, `wildcard`, `$or`).
- What a target receives ("Transforming target input" / PutTargets `Target`,
  https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_Target.html): `Input` (the
  JSON text as given), else `InputPath` (that part of the event), else `InputTransformer`
  (`InputPathsMap` + `InputTemplate`, `transform_input`), else the whole event.
- Targets: an SQS queue (the input is the message body; `SqsParameters.MessageGroupId`), a Step
  Functions state machine (StartExecution with the input, as the target's `RoleArn` when IAM is
  enforced: `states:StartExecution` on the machine), another event bus (the event as it is, as
  the target's role: `events:PutEvents` on that bus), a Lambda function (an asynchronous
  Invoke). Other targets (logs, archives, API destinations) keep moto's delivery.
- A failure delivering to one target never stops the rule's other targets.
- Retries ("Event retry policy and using dead-letter queues",
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html): a retriable failure
  (throttling, an SDK or internal error) is retried up to the target's
  `RetryPolicy.MaximumRetryAttempts` (default 185) while the event is younger than
  `MaximumEventAgeInSeconds` (default 86400); a missing target or missing permission is not
  retried. AWS backs off exponentially between attempts; the emulator retries at once, so tests
  never sleep, and reads the event's age from `clock` (replace it to age events in a test).
- An event that is not delivered goes to the target's `DeadLetterConfig.Arn` (an SQS queue) with
  the event as the body and the message attributes RULE_ARN, TARGET_ARN, ERROR_CODE (AWS's codes:
  NO_PERMISSIONS, NO_RESOURCE, THROTTLING, INVALID_JSON, INVALID_PARAMETER, SDK_CLIENT_ERROR),
  ERROR_MESSAGE and, when retries ran out, EXHAUSTED_RETRY_CONDITION (MaximumRetryAttempts |
  MaximumEventAgeInSeconds) and RETRY_ATTEMPTS. Without one it is dropped, and logged.

Delivery is synchronous, inside the call that produced the event: a test sees its effects as
soon as PutEvents or PutObject returns. S3's events: `s3_events.py`.
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonpath_ng.ext import parse as parse_json_path
from moto.events.models import EventsBackend, Rule, events_backends
from moto.utilities.arns import parse_arn

from scones.local.iam.authorizer import AccessDeniedError
from scones.local.runtime import active

LOG = logging.getLogger(__name__)

# The session name in the assumed-role ARN of EventBridge's calls as a target's role.
EVENTS_SESSION_NAME = "EventBridge"
DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185
DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86_400
RETRIABLE = frozenset({"THROTTLING", "SDK_CLIENT_ERROR", "INTERNAL_ERROR", "TIMEOUT", "CONNECTION_FAILURE"})
# Bus-to-bus forwarding deeper than this is a loop of rules; AWS refuses such hops too.
MAX_BUS_HOPS = 5

# Seconds, monotonic: an event's age is measured with it. Tests replace it to age events.
clock: Callable[[], float] = time.monotonic


class DeliveryError(Exception):
    """A target did not take the event: `code` is one of EventBridge's DLQ error codes."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class _Routed:
    """An event on its way, with when it entered EventBridge and how many buses it crossed."""

    event: dict[str, Any]
    entered: float
    hops: int = 0


# -- The event as EventBridge writes it ------------------------------------------------------------


def iso_time(value: Any) -> str:
    """An event's `time` as EventBridge writes it: 2021-11-12T00:00:00Z."""
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
    elif isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\d+(\.\d+)?", value)):
        moment = datetime.datetime.fromtimestamp(float(value), tz=datetime.UTC)
    elif isinstance(value, str) and value:
        return value
    else:
        moment = datetime.datetime.now(tz=datetime.UTC)
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _public(event: dict[str, Any]) -> dict[str, Any]:
    """The event as targets see it (moto keeps an ingestion time beside it)."""
    shown = {key: value for key, value in event.items() if key != "ingestion-time"}
    shown["time"] = iso_time(event.get("time"))
    return shown


# -- Target input ----------------------------------------------------------------------------------


def _path_value(path: str, event: dict[str, Any]) -> tuple[bool, Any]:
    matches = parse_json_path(path).find(event)
    if not matches:
        return False, None
    return True, matches[0].value if len(matches) == 1 else [match.value for match in matches]


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")


def transform_input(transformer: dict[str, Any], event: dict[str, Any], rule: Rule) -> str:
    """`InputTransformer` applied to an event ("Amazon EventBridge input transformation",
    https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).

    A variable inside quotes is replaced by its value as text, unescaped, as EventBridge does;
    outside quotes by its JSON. A path that matches nothing creates no variable: its
    placeholder becomes `null` outside quotes and nothing inside them. A template of quoted lines
    is text: each line decoded, joined by newlines."""
    values: dict[str, Any] = {
        "aws.events.rule-arn": rule.arn,
        "aws.events.rule-name": rule.name,
        "aws.events.event": event,
        "aws.events.event.json": event,
        "aws.events.event.ingestion-time": event.get("time"),
    }
    for name, path in (transformer.get("InputPathsMap") or {}).items():
        found, value = _path_value(path, event)
        if found:
            values[name] = value
    template = str(transformer.get("InputTemplate", ""))

    def render(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            return "" if _inside_quotes(template, match.start()) else "null"
        value = values[name]
        if _inside_quotes(template, match.start()):
            return value if isinstance(value, str) else json.dumps(value)
        return json.dumps(value)

    rendered = _PLACEHOLDER.sub(render, template)
    return _as_target_text(rendered)


def _inside_quotes(text: str, position: int) -> bool:
    quotes = 0
    escaped = False
    for char in text[:position]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quotes += 1
    return quotes % 2 == 1


def _as_target_text(rendered: str) -> str:
    stripped = rendered.strip()
    try:
        parsed = json.loads(stripped)
    except ValueError:
        lines = [line.strip() for line in stripped.splitlines() if line.strip()]
        try:
            decoded = [json.loads(line) for line in lines]
        except ValueError:
            return rendered
        if all(isinstance(line, str) for line in decoded):
            return "\n".join(decoded)
        return rendered
    if isinstance(parsed, str):
        return parsed
    return json.dumps(parsed, separators=(",", ":"))  # "The JSON that is passed to the target is minified"


def target_input(target: dict[str, Any], event: dict[str, Any], rule: Rule) -> str:
    """The text a target receives for an event."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        found, value = _path_value(target["InputPath"], event)
        return json.dumps(value if found else None)
    if target.get("InputTransformer"):
        return transform_input(target["InputTransformer"], event, rule)
    return json.dumps(event)


# -- Delivery to each kind of target ----------------------------------------------------------------


def _error_code(exc: Exception) -> str:
    if isinstance(exc, AccessDeniedError):
        return "NO_PERMISSIONS"
    name = str(getattr(exc, "error_type", "") or getattr(exc, "TYPE", "") or type(exc).__name__)
    lowered = name.lower()
    if any(word in lowered for word in ("notfound", "doesnotexist", "nonexistent")):
        return "NO_RESOURCE"
    if "throttl" in lowered or "toomanyrequests" in lowered:
        return "THROTTLING"
    if "accessdenied" in lowered or "authorization" in lowered:
        return "NO_PERMISSIONS"
    if "input" in lowered and "invalid" in lowered:
        return "INVALID_JSON"
    if "validation" in lowered or "invalidparameter" in lowered:
        return "INVALID_PARAMETER"
    return "SDK_CLIENT_ERROR"


def _check_role(target: dict[str, Any], action: str, resource: str) -> None:
    """With IAM enforced, the target's role must allow `action` on `resource` (no role: denied)."""
    if active.authorizer() is None:
        return
    role_arn = str(target.get("RoleArn") or "")
    if not role_arn.startswith("arn:"):
        raise DeliveryError("NO_PERMISSIONS", f"The target {target['Arn']} has no RoleArn to call {action} with")
    active.check_as_role(role_arn, EVENTS_SESSION_NAME, action, resource)


def _to_sqs(rule: Rule, target: dict[str, Any], routed: _Routed, text: str) -> None:
    from moto.sqs.models import sqs_backends

    arn = parse_arn(target["Arn"])
    group_id = (target.get("SqsParameters") or {}).get("MessageGroupId")
    sqs_backends[arn.account][arn.region].send_message(
        queue_name=arn.resource_id,
        message_body=text,
        group_id=group_id,
        deduplication_id=routed.event.get("id") if group_id else None,
    )


def _to_state_machine(rule: Rule, target: dict[str, Any], routed: _Routed, text: str) -> None:
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    from scones.local.services import stepfunctions_express

    _check_role(target, "states:StartExecution", target["Arn"])
    arn = parse_arn(target["Arn"])
    backend = stepfunctions_parser_backends[arn.account][arn.region]
    machine = backend.describe_state_machine(target["Arn"])
    if machine.type == stepfunctions_express.EXPRESS:
        stepfunctions_express.run_express_execution(backend, machine, None, text, sync=False)
    else:
        backend.start_execution(target["Arn"], None, text)


def _to_event_bus(rule: Rule, target: dict[str, Any], routed: _Routed, text: str) -> None:
    if routed.hops >= MAX_BUS_HOPS:
        raise DeliveryError("THIRD_ACCOUNT_HOP_DETECTED", f"the event crossed {routed.hops} buses already")
    _check_role(target, "events:PutEvents", target["Arn"])
    arn = parse_arn(target["Arn"])
    backend: EventsBackend = events_backends[arn.account][arn.region]
    bus = backend.describe_event_bus(arn.resource_id)
    forwarded = _Routed(copy.deepcopy(routed.event), routed.entered, routed.hops + 1)
    route_on_bus(bus, forwarded)


def _to_lambda(rule: Rule, target: dict[str, Any], routed: _Routed, text: str) -> None:
    from moto.awslambda.utils import get_backend

    arn = parse_arn(target["Arn"])
    function = get_backend(arn.account, arn.region).get_function(target["Arn"])
    function.invoke(text, {"x-amz-invocation-type": "Event"}, {})


DELIVERERS: dict[str, Callable[[Rule, dict[str, Any], _Routed, str], None]] = {
    "sqs": _to_sqs,
    "states": _to_state_machine,
    "lambda": _to_lambda,
}


def _deliverer(target_arn: str) -> Callable[[Rule, dict[str, Any], _Routed, str], None] | None:
    arn = parse_arn(target_arn)
    if arn.service == "events" and arn.resource_type == "event-bus":
        return _to_event_bus
    return DELIVERERS.get(arn.service)


# -- Retries and the dead-letter queue ----------------------------------------------------------------


def _deliver(rule: Rule, target: dict[str, Any], routed: _Routed) -> None:
    deliver = _deliverer(target["Arn"])
    if deliver is None:
        _moto_delivery(rule, target, routed)
        return
    policy = target.get("RetryPolicy") or {}
    max_retries = int(policy.get("MaximumRetryAttempts", DEFAULT_MAXIMUM_RETRY_ATTEMPTS))
    max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_MAXIMUM_EVENT_AGE_SECONDS))
    retries = 0
    while True:
        try:
            deliver(rule, target, routed, target_input(target, routed.event, rule))
            return
        except Exception as exc:  # any failure of one target is that target's, never the rule's
            failure = exc if isinstance(exc, DeliveryError) else DeliveryError(_error_code(exc), str(exc))
        if failure.code not in RETRIABLE:
            _dead_letter(rule, target, routed, failure, None, retries)
            return
        if retries >= max_retries:
            _dead_letter(rule, target, routed, failure, "MaximumRetryAttempts", retries)
            return
        if clock() - routed.entered >= max_age:
            _dead_letter(rule, target, routed, failure, "MaximumEventAgeInSeconds", retries)
            return
        retries += 1


def _dead_letter(
    rule: Rule, target: dict[str, Any], routed: _Routed, failure: DeliveryError, exhausted: str | None, retries: int
) -> None:
    dlq_arn = (target.get("DeadLetterConfig") or {}).get("Arn")
    LOG.warning(
        "EventBridge rule %s could not deliver event %s to %s: %s %s%s",
        rule.arn,
        routed.event.get("id"),
        target["Arn"],
        failure.code,
        failure.message,
        f" (sent to {dlq_arn})" if dlq_arn else " (dropped: no dead-letter queue)",
    )
    if not dlq_arn:
        return
    attributes = {
        "RULE_ARN": rule.arn,
        "TARGET_ARN": target["Arn"],
        "ERROR_CODE": failure.code,
        "ERROR_MESSAGE": failure.message,
    }
    if exhausted is not None:
        attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        attributes["RETRY_ATTEMPTS"] = str(retries)
    from moto.sqs.models import sqs_backends

    arn = parse_arn(dlq_arn)
    try:
        sqs_backends[arn.account][arn.region].send_message(
            queue_name=arn.resource_id,
            message_body=json.dumps(routed.event),
            message_attributes={
                name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()
            },
        )
    except Exception:  # AWS counts these in InvocationsFailedToBeSentToDLQ; the event is lost
        LOG.exception(
            "EventBridge could not send event %s to its dead-letter queue %s", routed.event.get("id"), dlq_arn
        )


_original_send_to_targets = Rule.send_to_targets


def _moto_delivery(rule: Rule, target: dict[str, Any], routed: _Routed) -> None:
    """moto's own delivery, for the one target (logs, archives, API destinations)."""
    single = copy.copy(rule)
    single.targets = [target]
    try:
        _original_send_to_targets(single, copy.deepcopy(routed.event))  # type: ignore[arg-type]
    except Exception:
        LOG.exception("EventBridge rule %s could not deliver to %s", rule.arn, target["Arn"])


# -- Routing ---------------------------------------------------------------------------------------


def _route_rule(rule: Rule, routed: _Routed) -> None:
    if rule.state != "ENABLED" or not rule.event_pattern.matches_event(routed.event):  # type: ignore[arg-type]
        return
    for target in list(rule.targets):
        _deliver(rule, target, routed)


def route_on_bus(bus: Any, routed: _Routed) -> None:
    for rule in list(bus.rules.values()):
        _route_rule(rule, routed)


def put_event(account_id: str, region: str, bus_name: str, event: dict[str, Any]) -> None:
    """Deliver an event that AWS services put on a bus (S3 on the default bus)."""
    bus = events_backends[account_id][region].describe_event_bus(bus_name)
    route_on_bus(bus, _Routed(_public(event), clock()))


def _send_to_targets(self: Rule, original_event: Any, transform_input: bool = True) -> None:
    """moto's PutEvents calls this once per rule of the bus, with the event it built."""
    _route_rule(self, _Routed(_public(dict(original_event)), clock()))


def install() -> None:
    Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]
