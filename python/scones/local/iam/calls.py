"""The IAM action and resource ARN of each HTTP call the emulator checks.

Only the calls the workflow's principals make are named here; any other call by a role is let
through (docs/emulator.md, "IAM", lists them). Resource ARNs follow the Service Authorization
Reference:
- S3 object: `arn:${Partition}:s3:::${BucketName}/${ObjectName}`; GetObject (HEAD included), PutObject and
  DeleteObject, each of a given `versionId` `s3:GetObjectVersion` / `s3:DeleteObjectVersion` ("GetObject",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, and "DeleteObject",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html, Permissions),
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
- S3 bucket, HeadBucket: `s3:ListBucket` ("HeadBucket", https://docs.aws.amazon.com/AmazonS3/latest/API/
  API_HeadBucket.html, Permissions); ListObjectVersions (GET `?versions`): `s3:ListBucketVersions`, with the
  same three condition keys as a listing ("ListObjectVersions",
  https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html: "Be aware of the name
  difference").
- S3 bucket: `arn:${Partition}:s3:::${BucketName}`; ListObjects and ListObjectsV2 are `s3:ListBucket`
  ("ListObjectsV2", https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html,
  Permissions), whose condition keys `s3:prefix`, `s3:delimiter` and `s3:max-keys` (same Service
  Authorization page) are the request's `prefix`, `delimiter` and `max-keys` parameters; a policy
  keeps a role's listing under a prefix with `s3:prefix` ("Bucket policy examples using condition
  keys", https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html). A
  parameter the request does not send is a key its context lacks, so `StringLike s3:prefix` refuses
  a listing without a prefix (policies.py: missing keys); one sent empty (boto3's `Prefix=""`
  sends `prefix=`) is the empty string. moto evaluates no S3 condition key of its
  own: its S3 authorization (moto/core/authorization.py) runs only past INITIAL_NO_AUTH_ACTION_COUNT,
  which the emulator leaves unset, and its request context (moto/iam/utils.py,
  format_incoming_conditional_values) holds `sts:ExternalId` alone, so a listing is judged once, here.
- Lambda function: `arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}`, with
  `:${Qualifier}` for a version or alias; Invoke is `lambda:InvokeFunction`,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awslambda.html
- SNS topic: `arn:${Partition}:sns:${Region}:${Account}:${TopicName}`; Publish and PublishBatch
  are `sns:Publish`, https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsns.html
- SageMaker endpoint: `arn:${Partition}:sagemaker:${Region}:${Account}:endpoint/${EndpointName}`
  (SageMaker ARNs carry the name in lower case); InvokeEndpoint is `sagemaker:InvokeEndpoint`,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html
- EventBridge event bus: `arn:${Partition}:events:${Region}:${Account}:event-bus/${EventBusName}`;
  PutEvents is `events:PutEvents` on each entry's bus (no EventBusName: `default`),
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoneventbridge.html
- Step Functions state machine: `arn:${Partition}:states:${Region}:${Account}:stateMachine:${Name}`;
  StartExecution is `states:StartExecution`, StartSyncExecution `states:StartSyncExecution`,
  https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

# S3 query parameters that keep a GET/HEAD/PUT an object read or write (others name a subresource).
_OBJECT_QUERY = re.compile(r"^(versionId|partNumber|response-[a-z-]+|x-id|x-amz-[a-z-]+)$", re.IGNORECASE)
# The parameters of ListObjects and ListObjectsV2; a GET of the bucket with any other names a subresource
# (?location, ?versions, ?uploads, ...), which is not checked.
_LIST_QUERY = frozenset(
    {
        "list-type",
        "prefix",
        "delimiter",
        "max-keys",
        "marker",
        "encoding-type",
        "continuation-token",
        "fetch-owner",
        "start-after",
    }
)
# The parameters of ListObjectVersions (GET ?versions).
_VERSIONS_QUERY = frozenset(
    {"versions", "prefix", "delimiter", "max-keys", "key-marker", "version-id-marker", "encoding-type"}
)
# The request parameters that are s3:ListBucket's (and s3:ListBucketVersions') condition keys, by parameter.
_LIST_CONDITION_KEYS = {"prefix": "s3:prefix", "delimiter": "s3:delimiter", "max-keys": "s3:max-keys"}
_LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")
_ENDPOINT_INVOKE = re.compile(r"^/endpoints/([^/]+)/invocations$")


@dataclass(frozen=True)
class Call:
    service: str  # the signing name: s3, lambda, sns, sagemaker, states, events
    action: str
    resource: str
    also: tuple[str, ...] = ()  # further resources of the same call (PutEvents to several buses)
    context: Mapping[str, str] = field(default_factory=dict)  # the request's condition keys


@dataclass(frozen=True)
class Signature:
    """What the request's SigV4 Authorization header says: who signs, for which region and service."""

    access_key_id: str
    region: str
    service: str

    @classmethod
    def of(cls, environ: dict[str, Any]) -> Signature | None:
        header = str(environ.get("HTTP_AUTHORIZATION", ""))
        match = re.search(r"Credential=([^/]+)/\d{8}/([^/]+)/([^/]+)/aws4_request", header)
        return cls(match.group(1), match.group(2), match.group(3)) if match else None


def _query(environ: dict[str, Any]) -> dict[str, list[str]]:
    return parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)


def _bucket_call(bucket: str, method: str, query: dict[str, list[str]], partition: str) -> Call | None:
    """ListObjects(V2), ListObjectVersions and HeadBucket; None for any other call on the bucket."""
    if method == "HEAD":
        action = "s3:ListBucket" if not query else None
    elif method != "GET":
        action = None
    elif "versions" in query:
        action = "s3:ListBucketVersions" if set(query) <= _VERSIONS_QUERY else None
    else:
        action = "s3:ListBucket" if set(query) <= _LIST_QUERY and query.get("list-type", ["2"]) == ["2"] else None
    if action is None:
        return None
    context = {key: query[name][0] for name, key in _LIST_CONDITION_KEYS.items() if query.get(name)}
    return Call("s3", action, f"arn:{partition}:s3:::{bucket}", context=context)


_OBJECT_ACTIONS = {"GET": "s3:GetObject", "HEAD": "s3:GetObject", "PUT": "s3:PutObject", "DELETE": "s3:DeleteObject"}
_VERSION_ACTIONS = {"s3:GetObject": "s3:GetObjectVersion", "s3:DeleteObject": "s3:DeleteObjectVersion"}


def _s3(environ: dict[str, Any], partition: str) -> Call | None:
    method = str(environ.get("REQUEST_METHOD", "GET")).upper()
    bucket, _, key = unquote(str(environ.get("PATH_INFO", ""))).lstrip("/").partition("/")
    query = _query(environ)
    if bucket and not key:
        return _bucket_call(bucket, method, query, partition)
    if not bucket or not key or any(not _OBJECT_QUERY.match(name) for name in query):
        return None
    action = _OBJECT_ACTIONS.get(method)
    if action is None or (method == "PUT" and "HTTP_X_AMZ_COPY_SOURCE" in environ):
        return None
    if query.get("versionId"):
        action = _VERSION_ACTIONS.get(action, action)
    return Call("s3", action, f"arn:{partition}:s3:::{bucket}/{key}")


def _function_arn(name: str, qualifier: str | None, partition: str, region: str, account: str) -> str:
    # FunctionName may be a name, a partial ARN (ACCOUNT:function:NAME) or a full ARN, each
    # possibly with its qualifier.
    parts = name.split(":")
    if name.startswith("arn:"):
        region, account, parts = parts[3], parts[4], parts[6:]
    elif len(parts) >= 3 and parts[1] == "function":
        account, parts = parts[0], parts[2:]
    function, *rest = parts
    qualifier = qualifier or (rest[0] if rest else None)
    arn = f"arn:{partition}:lambda:{region}:{account}:function:{function}"
    return f"{arn}:{qualifier}" if qualifier else arn


def _lambda(environ: dict[str, Any], partition: str, region: str, account: str) -> Call | None:
    match = _LAMBDA_INVOKE.match(str(environ.get("PATH_INFO", "")))
    if not match or str(environ.get("REQUEST_METHOD", "")).upper() != "POST":
        return None
    qualifier = (_query(environ).get("Qualifier") or [None])[0]
    return Call(
        "lambda", "lambda:InvokeFunction", _function_arn(unquote(match.group(1)), qualifier, partition, region, account)
    )


def _read_form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """The form body, left readable for the app behind."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)


def _sns(environ: dict[str, Any]) -> Call | None:
    if str(environ.get("REQUEST_METHOD", "")).upper() != "POST":
        return None
    form = _read_form(environ)
    if (form.get("Action") or [""])[0] not in ("Publish", "PublishBatch"):
        return None
    topic = (form.get("TopicArn") or [""])[0]
    return Call("sns", "sns:Publish", topic) if topic else None


def _sagemaker(environ: dict[str, Any], partition: str, region: str, account: str) -> Call | None:
    match = _ENDPOINT_INVOKE.match(str(environ.get("PATH_INFO", "")))
    if not match or str(environ.get("REQUEST_METHOD", "")).upper() != "POST":
        return None
    name = unquote(match.group(1)).lower()
    return Call(
        "sagemaker", "sagemaker:InvokeEndpoint", f"arn:{partition}:sagemaker:{region}:{account}:endpoint/{name}"
    )


def _read_json(environ: dict[str, Any]) -> dict[str, Any]:
    """The JSON body, left readable for the app behind ({} when it is not an object)."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


_STATES_STARTS = {
    "AWSStepFunctions.StartExecution": "states:StartExecution",
    "AWSStepFunctions.StartSyncExecution": "states:StartSyncExecution",
}


def _states(environ: dict[str, Any]) -> Call | None:
    action = _STATES_STARTS.get(str(environ.get("HTTP_X_AMZ_TARGET", "")))
    if action is None:
        return None
    machine = str(_read_json(environ).get("stateMachineArn") or "")
    return Call("states", action, machine) if machine else None


def _events(environ: dict[str, Any], partition: str, region: str, account: str) -> Call | None:
    if str(environ.get("HTTP_X_AMZ_TARGET", "")) != "AWSEvents.PutEvents":
        return None
    buses: list[str] = []
    for entry in _read_json(environ).get("Entries") or []:
        name = str((entry or {}).get("EventBusName") or "default")
        arn = name if name.startswith("arn:") else f"arn:{partition}:events:{region}:{account}:event-bus/{name}"
        if arn not in buses:
            buses.append(arn)
    return Call("events", "events:PutEvents", buses[0], tuple(buses[1:])) if buses else None


def call_of(environ: dict[str, Any], signature: Signature, partition: str, account: str) -> Call | None:
    """The checked call this request makes, or None for a call the emulator does not check."""
    if signature.service == "s3":
        return _s3(environ, partition)
    if signature.service == "lambda":
        return _lambda(environ, partition, signature.region, account)
    if signature.service == "sns":
        return _sns(environ)
    if signature.service == "sagemaker":
        return _sagemaker(environ, partition, signature.region, account)
    if signature.service == "states":
        return _states(environ)
    if signature.service == "events":
        return _events(environ, partition, signature.region, account)
    return None
