"""scones classify: the request is SigV4-signed for execute-api with the caller's credentials and carries the
API key; the API's answers become a verdict or a named error (against a local HTTP server)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from click.testing import CliRunner

from scones.classify import ClassifyError, classify, classify_cmd
from tests.support.local_fixtures import png

KEY_ID, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
VERDICT = {
    "vehicle": "motorcycle",
    "confidence": 0.91,
    "probabilities": {"bicycle": 0.09, "motorcycle": 0.91},
    "accepted": False,
    "reason": "low_confidence",
    "request_id": "r-1",
}


class Api(BaseHTTPRequestHandler):
    """Answers like API Gateway would: 403 unless the signature verifies, then the scripted answer."""

    answer: ClassVar[tuple[int, dict[str, Any]]] = (200, VERDICT)
    seen: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Api.seen.append(
            {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": json.loads(body)}
        )
        status, answer = self.answer if self.verified(body) else (403, {"message": "signature does not match"})
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def verified(self, body: bytes) -> bool:
        """Re-sign the request as received with the known secret and compare the signatures."""
        auth = self.headers.get("Authorization", "")
        if f"Credential={KEY_ID}/" not in auth or "/us-east-1/execute-api/aws4_request" not in auth:
            return False
        signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
        url = f"http://{self.headers['Host']}{self.path}"
        request = AWSRequest(
            method="POST", url=url, data=body, headers={h: self.headers[h] for h in signed if h != "authorization"}
        )
        # At the request's own X-Amz-Date: add_auth would stamp the current second, which differs from the
        # client's whenever the request crosses a second boundary.
        request.context["timestamp"] = self.headers["X-Amz-Date"]
        signer = SigV4Auth(Credentials(KEY_ID, SECRET), "execute-api", "us-east-1")
        signature = signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)
        return auth.endswith(f"Signature={signature}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    Api.seen = []
    Api.answer = (200, VERDICT)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/restapis/abc/v1/_user_request_"
    finally:
        server.shutdown()
        server.server_close()


def session(secret: str = SECRET) -> boto3.Session:
    return boto3.Session(aws_access_key_id=KEY_ID, aws_secret_access_key=secret, region_name="us-east-1")


def test_a_file_is_sent_signed_with_the_api_key_and_the_verdict_parsed(api: str, tmp_path: Path) -> None:
    image = tmp_path / "bike.png"
    image.write_bytes(png((10, 20, 30)))
    verdict = classify(str(image), api_url=api, api_key="team-key", session=session(), region="us-east-1")
    assert (verdict.vehicle, verdict.accepted, verdict.reason) == ("motorcycle", False, "low_confidence")
    (seen,) = Api.seen
    assert seen["path"] == "/restapis/abc/v1/_user_request_/classify"
    assert seen["headers"]["x-api-key"] == "team-key"
    assert "x-api-key" in seen["headers"]["authorization"].split("SignedHeaders=")[1].split(",")[0]
    assert set(seen["body"]) == {"image"}


def test_an_s3_uri_is_sent_as_a_location(api: str) -> None:
    classify("s3://bucket/data/test/a.png", api_url=api, api_key="k", session=session(), region="us-east-1")
    assert Api.seen[0]["body"] == {"s3_uri": "s3://bucket/data/test/a.png"}


def test_wrong_credentials_are_a_403_access_denied(api: str) -> None:
    with pytest.raises(ClassifyError) as caught:
        classify("s3://b/k.png", api_url=api, api_key="k", session=session("wrong"), region="us-east-1")
    assert (caught.value.status, caught.value.error, caught.value.exit_code) == (403, "AccessDeniedError", 2)


@pytest.mark.parametrize(
    ("status", "answer", "name"),
    [
        (400, {"error": "InvalidImageError", "message": "not a PNG/JPEG", "request_id": "r"}, "InvalidImageError"),
        (
            502,
            {"error": "EndpointInvocationError", "message": "endpoint down", "request_id": "r"},
            "EndpointInvocationError",
        ),
        (429, {"message": "Too Many Requests"}, "TooManyRequestsError"),
    ],
)
def test_the_apis_errors_keep_their_names(api: str, status: int, answer: dict[str, Any], name: str) -> None:
    Api.answer = (status, answer)
    with pytest.raises(ClassifyError) as caught:
        classify("s3://b/k.png", api_url=api, api_key="k", session=session(), region="us-east-1")
    assert (caught.value.status, caught.value.error) == (status, name)


def test_the_command_prints_json_for_scripts_and_exits_2_on_bad_input(
    api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    args = ["s3://b/k.png", "--api-url", api, "--api-key", "k", "--region", "us-east-1", "--json"]
    result = CliRunner().invoke(classify_cmd, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == VERDICT
    Api.answer = (400, {"error": "InvalidEventError", "message": "bad body", "request_id": "r"})
    result = CliRunner().invoke(classify_cmd, args)
    assert result.exit_code == 2
    assert json.loads(result.output.splitlines()[0])["error"] == "InvalidEventError"
