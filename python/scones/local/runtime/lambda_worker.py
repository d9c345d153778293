"""A warm Lambda sandbox: imports the handler once, then serves invocations over pipes.

Run by the emulator as `python -m scones.local.runtime.lambda_worker <handler>` with the unpacked zip as
the working directory. Mirrors the AWS Python runtime where users can see it: the error payload
shape, the `[LEVEL]\\t<time>\\t<request id>\\t<message>` log format, and the context object.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from scones.local.runtime.worker_channel import WorkerChannel

Handler = Callable[[Any, Any], Any]


class LambdaContext:
    """The attributes of the AWS runtime's context object that handlers use."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


class _RequestIdFilter(logging.Filter):
    request_id = ""

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = self.request_id
        return True


_REQUEST_ID = _RequestIdFilter()


def _install_lambda_logging() -> None:
    """The AWS runtime puts one handler on the root logger; handlers rely on it being there."""
    handler = logging.StreamHandler(sys.stdout)
    formatter = logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s")
    formatter.converter = time.gmtime
    formatter.default_time_format = "%Y-%m-%dT%H:%M:%S"
    handler.setFormatter(formatter)
    handler.addFilter(_REQUEST_ID)
    logging.getLogger().addHandler(handler)


def _error(error_type: str, message: str, stack: list[str] | None = None) -> dict[str, Any]:
    return {"errorMessage": message, "errorType": error_type, "requestId": "", "stackTrace": stack or []}


def _user_stack(exc: BaseException) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)
    # Drop this module's own frames, as the AWS runtime drops its bootstrap frames.
    user_frames = [frame for frame in frames if frame.filename != __file__]
    return traceback.format_list(user_frames)


def load_handler(spec: str) -> tuple[Handler | None, dict[str, Any] | None]:
    """The handler function, or the init error payload the AWS runtime would report."""
    module_path, _, function_name = spec.rpartition(".")
    if not module_path or not function_name:
        return None, _error("Runtime.MalformedHandlerName", f"Bad handler '{spec}': not enough values to unpack")
    module_name = module_path.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        return None, _error("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}")
    except SyntaxError as exc:
        return None, _error(
            "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", _user_stack(exc)
        )
    except Exception as exc:
        return None, _error(type(exc).__name__, str(exc), _user_stack(exc))
    handler = getattr(module, function_name, None)
    if not callable(handler):
        return None, _error("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return handler, None


def invoke(handler: Handler, header: dict[str, Any], payload: bytes) -> tuple[bool, bytes]:
    """Run the handler once; (succeeded, response payload)."""
    request_id = str(header["request_id"])
    context = LambdaContext(request_id, int(header["deadline_ms"]), str(header.get("function_arn", "")))
    try:
        event = json.loads(payload or b"{}")
    except ValueError as exc:
        error = _error("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}")
        return False, json.dumps({**error, "requestId": request_id}).encode()
    try:
        result = handler(event, context)
    except Exception as exc:
        stack = _user_stack(exc)
        error = {**_error(type(exc).__name__, str(exc), stack), "requestId": request_id}
        # The AWS runtime logs the failure in the function's log stream as well.
        trace = "".join(stack).rstrip("\n")
        print(f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):\n{trace}")
        return False, json.dumps(error).encode()
    try:
        return True, json.dumps(result).encode()
    except (TypeError, ValueError) as exc:
        error = _error("Runtime.MarshalError", f"Unable to marshal response: {exc}")
        return False, json.dumps({**error, "requestId": request_id}).encode()


def main(argv: list[str]) -> int:
    channel = WorkerChannel()
    _install_lambda_logging()
    handler, init_error = load_handler(argv[0])
    if handler is None:
        channel.end_of_request(0)
        channel.send({"type": "init_error"}, json.dumps(init_error).encode())
        return 1
    channel.end_of_request(0)
    channel.send({"type": "ready", "pid": os.getpid()})
    for header, payload in channel.requests():
        _REQUEST_ID.request_id = str(header.get("request_id", ""))
        ok, response = invoke(handler, header, payload)
        channel.end_of_request(int(header["seq"]))
        channel.send({"type": "result", "ok": ok}, response)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
