"""SigV4 verification of a request to an `AWS_IAM` method of an API Gateway REST API.

The signature is recomputed with botocore's own signer over what the request says it signed
(method, path, query, the `SignedHeaders`, the payload hash) and the secret of its access key
(`scones.local.iam.credentials`), then compared. The answers are API Gateway's ("How do I
troubleshoot HTTP 403 errors from API Gateway?",
https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden, and "Troubleshoot
signed requests for AWS APIs", https://docs.aws.amazon.com/IAM/latest/UserGuide/signature-v4-troubleshooting.html):
no Authorization header: MissingAuthenticationTokenException "Missing Authentication Token"; a
header without its parts: IncompleteSignatureException; a key nobody was issued (or a role
session's key without its token): AccessDeniedException "The security token included in the
request is invalid." (the error type the troubleshooting page gives); a
signature more than 5 minutes away from now: InvalidSignatureException "Signature expired: ...";
a different signature: InvalidSignatureException "The request signature we calculated does not
match ...", with the canonical request and string to sign the service computed.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from scones.local.iam.credentials import Caller, caller_for

SERVICE = "execute-api"
_SKEW = timedelta(minutes=5)
_AUTH = re.compile(r"^AWS4-HMAC-SHA256\s+(?P<params>.+)$", re.DOTALL)
_SCOPE = re.compile(r"^(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request$")
_AMZ_DATE = "%Y%m%dT%H%M%SZ"


class SignatureError(Exception):
    """The request's signature is refused: API Gateway's error type and message."""

    def __init__(self, error_type: str, message: str) -> None:
        self.error_type = error_type
        super().__init__(message)


@dataclass(frozen=True)
class SignedRequest:
    method: str
    url: str  # as the client sent it: scheme, Host, raw (still encoded) path and query
    headers: Mapping[str, str]  # lower-case names
    body: bytes


def _parameters(header: str) -> dict[str, str]:
    match = _AUTH.match(header.strip())
    if match is None:
        raise SignatureError("IncompleteSignatureException", f"Authorization header is not SigV4: {header[:40]!r}")
    parameters: dict[str, str] = {}
    for part in match.group("params").split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureError(
                "IncompleteSignatureException",
                f"Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and "
                f"encoded with Base64): '{part.strip()}'.",
            )
        parameters[name] = value
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if name not in parameters]
    if missing:
        raise SignatureError(
            "IncompleteSignatureException", " ".join(f"Authorization header requires '{m}' parameter." for m in missing)
        )
    return parameters


def verify(request: SignedRequest, region: str, now: datetime) -> Caller:
    """The caller whose valid signature this request carries; SignatureError otherwise."""
    header = request.headers.get("authorization")
    if not header:
        raise SignatureError("MissingAuthenticationTokenException", "Missing Authentication Token")
    parameters = _parameters(header)
    scope = _SCOPE.match(parameters["Credential"])
    if scope is None:
        raise SignatureError(
            "IncompleteSignatureException",
            f"Credential should be scoped to correct service: '{SERVICE}'. Authorization={parameters['Credential']}",
        )
    if scope.group("service") != SERVICE:
        raise SignatureError(
            "InvalidSignatureException", f"Credential should be scoped to correct service: '{SERVICE}'. "
        )
    if scope.group("region") != region:
        raise SignatureError(
            "InvalidSignatureException",
            f"Credential should be scoped to a valid region, not '{scope.group('region')}'. ",
        )
    caller = caller_for(scope.group("key"), region)
    token = request.headers.get("x-amz-security-token")
    if caller is None or (caller.session_token or None) != (token or None):
        raise SignatureError("AccessDeniedException", "The security token included in the request is invalid.")
    amz_date = request.headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(amz_date, _AMZ_DATE).replace(tzinfo=UTC)
    except ValueError as exc:
        raise SignatureError(
            "IncompleteSignatureException",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        ) from exc
    if signed_at < now - _SKEW:
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature expired: {amz_date} is now earlier than {(now - _SKEW).strftime(_AMZ_DATE)} "
            f"({now.strftime(_AMZ_DATE)} - 5 min.)",
        )
    if signed_at > now + _SKEW:
        raise SignatureError(
            "InvalidSignatureException",
            f"Signature not yet current: {amz_date} is still later than {(now + _SKEW).strftime(_AMZ_DATE)} "
            f"({now.strftime(_AMZ_DATE)} + 5 min.)",
        )
    signed = [name.strip() for name in parameters["SignedHeaders"].split(";") if name.strip()]
    headers = {name: request.headers.get(name, "") for name in signed}
    signer = SigV4Auth(
        Credentials(caller.access_key_id, caller.secret_access_key, caller.session_token), SERVICE, region
    )
    replay = AWSRequest(method=request.method, url=request.url, headers=headers, data=request.body)
    replay.context["timestamp"] = amz_date
    canonical = signer.canonical_request(replay)
    string_to_sign = signer.string_to_sign(replay, canonical)
    if not hmac.compare_digest(signer.signature(string_to_sign, replay), parameters["Signature"]):
        raise SignatureError(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret "
            "Access Key and signing method. Consult the service documentation for details.\n\n"
            f"The Canonical String for this request should have been\n'{canonical}'\n\n"
            f"The String-to-Sign should have been\n'{string_to_sign}'\n",
        )
    return caller
