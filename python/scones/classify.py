"""`scones classify`: classify one image through the classification API, signed with the caller's credentials.

The request is `POST <api_url>/classify` with `{"image": <base64>}` (a local FILE) or `{"s3_uri": ...}`
(docs/contracts.md "Classification API"), signed with SigV4 for the `execute-api` service as the API's AWS_IAM
authorization requires ("Signing requests", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
and carries the team's API key in `x-api-key` (the usage plan that throttles and counts it).
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import click
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from scones.aws import aws_options, make_session

SERVICE = "execute-api"
ROUTE = "classify"
DEFAULT_TIMEOUT = 35.0  # a little above API Gateway's 29 s integration timeout


class ClassifyError(click.ClickException):
    """The API refused or failed the request: its HTTP status and named error."""

    def __init__(self, status: int, error: str, message: str, request_id: str | None = None) -> None:
        super().__init__(f"{status} {error}: {message}" + (f" (request {request_id})" if request_id else ""))
        self.status = status
        self.error = error
        self.request_id = request_id
        self.exit_code = 2 if 400 <= status < 500 else 1


@dataclass(frozen=True)
class Verdict:
    vehicle: str
    confidence: float
    probabilities: dict[str, float]
    accepted: bool
    request_id: str
    reason: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_answer(cls, answer: dict[str, Any]) -> Verdict:
        try:
            return cls(
                vehicle=str(answer["vehicle"]),
                confidence=float(answer["confidence"]),
                probabilities={str(k): float(v) for k, v in answer["probabilities"].items()},
                accepted=bool(answer["accepted"]),
                request_id=str(answer["request_id"]),
                reason=answer.get("reason"),
                raw=answer,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ClassifyError(200, "InvalidAnswerError", f"the API's answer is not a verdict: {exc}") from None

    def line(self) -> str:
        verdict = "accepted" if self.accepted else f"not accepted ({self.reason})"
        return f"{self.vehicle} {self.confidence:.4f} {verdict} [request {self.request_id}]"


def request_body(target: str) -> dict[str, str]:
    """The request for a local FILE (its bytes, base64) or an s3://bucket/key the API reads itself."""
    if target.startswith("s3://"):
        return {"s3_uri": target}
    path = Path(target)
    if not path.is_file():
        raise click.BadParameter(f"{target} is neither a file nor an s3://bucket/key URI", param_hint="TARGET")
    return {"image": base64.b64encode(path.read_bytes()).decode()}


def signed_request(url: str, body: bytes, *, api_key: str, session: boto3.Session, region: str) -> AWSRequest:
    credentials = session.get_credentials()
    if credentials is None:
        raise click.UsageError("no AWS credentials to sign the request with (AWS_PROFILE, AWS_ACCESS_KEY_ID, ...)")
    request = AWSRequest(
        method="POST", url=url, data=body, headers={"Content-Type": "application/json", "x-api-key": api_key}
    )
    SigV4Auth(credentials.get_frozen_credentials(), SERVICE, region).add_auth(request)
    return request


def send(request: AWSRequest, *, timeout: float = DEFAULT_TIMEOUT) -> tuple[int, dict[str, Any]]:
    prepared = request.prepare()
    http = urllib.request.Request(prepared.url, data=prepared.body, headers=dict(prepared.headers), method="POST")
    try:
        with urllib.request.urlopen(http, timeout=timeout) as answer:
            status, text = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    try:
        parsed = json.loads(text or b"{}")
    except json.JSONDecodeError:
        parsed = {"message": text.decode(errors="replace")[:500]}
    return status, parsed if isinstance(parsed, dict) else {"message": str(parsed)}


def error_of(status: int, answer: dict[str, Any]) -> ClassifyError:
    """The API's error: the function's {"error", "message", "request_id"}, or API Gateway's own {"message"}
    (a denied signature, a missing key, a throttle, a body the model rejects) named after its status."""
    gateway_names = {400: "BadRequestError", 403: "AccessDeniedError", 429: "TooManyRequestsError"}
    name = answer.get("error") or answer.get("__type") or gateway_names.get(status, f"Http{status}Error")
    message = answer.get("message") or answer.get("Message") or "(no message)"
    return ClassifyError(status, str(name), str(message), answer.get("request_id"))


def classify(
    target: str, *, api_url: str, api_key: str, session: boto3.Session, region: str, timeout: float = DEFAULT_TIMEOUT
) -> Verdict:
    """Classify one image through the API; a named ClassifyError for any answer but a verdict."""
    body = json.dumps(request_body(target)).encode()
    url = f"{api_url.rstrip('/')}/{ROUTE}"
    status, answer = send(signed_request(url, body, api_key=api_key, session=session, region=region), timeout=timeout)
    if status != 200:
        raise error_of(status, answer)
    return Verdict.from_answer(answer)


@click.command("classify")
@click.argument("target", metavar="FILE|s3://bucket/key")
@click.option(
    "--api-url",
    envvar="SCONES_API_URL",
    required=True,
    help="The API's stage URL (terraform output api_url locally, api_invoke_url on AWS) [env SCONES_API_URL].",
)
@click.option(
    "--api-key",
    envvar="SCONES_API_KEY",
    required=True,
    help="Your team's API key (terraform output api_key) [env SCONES_API_KEY].",
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's answer as JSON (errors too, on stdout).")
@aws_options
def classify_cmd(
    target: str,
    api_url: str,
    api_key: str,
    as_json: bool,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Classify FILE or s3://bucket/key through the classification API and print the verdict."""
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    try:
        verdict = classify(target, api_url=api_url, api_key=api_key, session=session, region=session.region_name)
    except ClassifyError as exc:
        if as_json:
            click.echo(json.dumps({"error": exc.error, "status": exc.status, "message": exc.message}))
        raise
    click.echo(json.dumps(verdict.raw) if as_json else verdict.line())
