"""GetRestApi answers a REST API's resource policy JSON-escaped, as AWS does and the Terraform provider unquotes;
the stored document (what the data plane evaluates) stays as sent."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws
from moto.apigateway.models import apigateway_backends

from scones.local.services import apigateway_control

POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "123456789012"},
            "Action": "execute-api:Invoke",
            "Resource": "execute-api:/*",
        }
    ],
}


def test_the_policy_is_answered_escaped_and_stored_as_sent() -> None:
    apigateway_control.install()
    with mock_aws():
        client = boto3.client("apigateway", region_name="us-east-1")
        api_id = client.create_rest_api(name="api")["id"]
        text = json.dumps(POLICY)
        client.update_rest_api(restApiId=api_id, patchOperations=[{"op": "replace", "path": "/policy", "value": text}])
        answered = client.get_rest_api(restApiId=api_id)["policy"]
        assert answered == text.replace('"', '\\"')
        # What the provider does with it: strconv.Unquote("\"" + policy + "\"").
        assert json.loads(json.loads(f'"{answered}"')) == POLICY
        stored = apigateway_backends["123456789012"]["us-east-1"].apis[api_id].policy
        assert json.loads(stored) == POLICY
