"""AccessDenied as each service answers it: status, error code and body in its protocol.

- S3: 403 `AccessDenied`, XML, the resource in quotes
  (https://docs.aws.amazon.com/AmazonS3/latest/userguide/troubleshoot-403-errors.html).
- Lambda: 403 `AccessDeniedException`, JSON (`Status Code: 403; Error Code: AccessDeniedException`
  is what Step Functions quotes in a Task's cause).
- SNS: 403 `AuthorizationError`, XML, the action spelled `SNS:Publish`
  (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html, Errors).
- SageMaker runtime: 400 `AccessDeniedException`, JSON
  (https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html).
- Step Functions: 400 `AccessDeniedException`, JSON
  (https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html).
- EventBridge: 400 `AccessDeniedException`, JSON
  (https://docs.aws.amazon.com/eventbridge/latest/APIReference/CommonErrors.html).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from xml.sax.saxutils import escape

from scones.local.iam.authorizer import AccessDeniedError


@dataclass(frozen=True)
class Denial:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def denial_for(service: str, error: AccessDeniedError, *, head: bool = False) -> Denial:
    request_id = str(uuid.uuid4())
    if service == "s3":
        message = escape(error.message(quoted_resource=True))
        body = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>{message}</Message>'
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()
        headers = [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
        return Denial("403 Forbidden", headers, b"" if head else body)
    if service == "sns":
        message = escape(error.message(action_name="SNS:Publish"))
        body = (
            '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>'
            f"<Code>AuthorizationError</Code><Message>{message}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        ).encode()
        return Denial("403 Forbidden", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body)
    status = "403 Forbidden" if service == "lambda" else "400 Bad Request"
    payload = {"Type": "User", "Message": error.message()} if service == "lambda" else {"message": error.message()}
    if service in ("states", "events"):  # awsJson: the SDKs read the code from the body's __type
        payload["__type"] = "AccessDeniedException"
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-ErrorType", "AccessDeniedException"),
        ("x-amzn-RequestId", request_id),
    ]
    return Denial(status, headers, json.dumps(payload).encode())
