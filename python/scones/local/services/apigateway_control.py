"""API Gateway control-plane answers moto gives differently from AWS, where the Terraform provider notices.

A REST API's `policy`: AWS answers the resource policy JSON-escaped (its quotes backslashed), and the provider
reads it back by unquoting (`strconv.Unquote("\"" + policy + "\"")` in aws_api_gateway_rest_api_policy and
aws_api_gateway_rest_api); moto answers the document as sent, which the provider then fails to parse ("invalid
character ... after top-level value"). The stored document stays as sent: the data plane
(services/apigateway.py) evaluates it.
"""

from __future__ import annotations

import json
from typing import Any

from moto.apigateway.models import RestAPI

_installed = False


def escaped_policy(policy: str | None) -> str | None:
    """The policy as AWS's GetRestApi answers it: the JSON text with its quotes and backslashes escaped."""
    if not policy:
        return policy
    return json.dumps(policy)[1:-1]


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    to_dict = RestAPI.to_dict

    def aws_to_dict(self: RestAPI) -> dict[str, Any]:
        answer = to_dict(self)
        answer[RestAPI.PROP_POLICY] = escaped_policy(answer.get(RestAPI.PROP_POLICY))
        return answer

    RestAPI.to_dict = aws_to_dict  # type: ignore[method-assign]
