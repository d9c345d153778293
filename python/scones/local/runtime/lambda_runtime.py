"""Runs deployed Lambda functions in warm subprocess sandboxes, the way Lambda reports results.

A sandbox is one worker process per function version + code + configuration: it imports the
handler once and serves invocations one at a time, so warm invocations do not pay the Python
and boto3 imports again. New code or configuration retires the old sandboxes. A timeout kills
the sandbox, like Lambda does. Every invocation publishes Lambda's invocation metrics
(`AWS/Lambda` Invocations, Errors, Duration by FunctionName), and a `LambdaError` fault injected
in the emulator's `FaultRegistry` makes the invocation end in a function error.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import shutil
import sys
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from scones.local.faults import FaultRegistry, LambdaError
from scones.local.iam.authorizer import AccessDeniedError, Authorizer, Principal, RoleCredentials
from scones.local.runtime import cloudwatch_metrics
from scones.local.runtime.cloudwatch_logs import CloudWatchLogs, LogStreamRef, now_ms
from scones.local.runtime.worker_process import WorkerExitedError, WorkerProcess, WorkerTimeoutError

# Lambda limits init to 10 s; a cold import of boto3 on a busy 2-core laptop can take longer,
# and failing a demo on a slow import teaches nothing, so the emulator is more generous.
INIT_TIMEOUT_SECONDS = 60.0
DEFAULT_MAX_SANDBOXES_PER_FUNCTION = 4
_LOG_TAIL_BYTES = 4096
_PASSED_THROUGH_ENV = ("PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
LAMBDA_NAMESPACE = "AWS/Lambda"


class LambdaCodeError(Exception):
    """The function's deployment package cannot be run here (not a zip, no Python runtime)."""


@dataclass(frozen=True)
class FunctionSpec:
    """What the runtime needs of a deployed function."""

    account_id: str
    region: str
    function_name: str
    function_arn: str
    version: str
    handler: str
    runtime: str
    timeout_seconds: float
    memory_size: int
    environment: dict[str, str]
    code_sha256: str
    code_zip: bytes = field(repr=False)
    # The execution role's keys when the emulator enforces IAM; else the admin's.
    credentials: RoleCredentials | None = field(default=None, repr=False)
    role_arn: str = ""

    @property
    def sandbox_key(self) -> str:
        """Sandboxes are reused only while code and configuration are unchanged."""
        config = json.dumps(
            [
                self.function_arn,
                self.version,
                self.handler,
                self.runtime,
                self.memory_size,
                self.environment,
                self.credentials and self.credentials.access_key_id,
            ],
            sort_keys=True,
        )
        return hashlib.sha256(f"{config}|{self.code_sha256}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class InvocationResult:
    payload: bytes
    function_error: str | None
    log_tail: str
    executed_version: str
    sandbox_pid: int | None
    duration_ms: float | None = None  # None when the handler never started (init failed)

    @property
    def log_result_header(self) -> str:
        tail = self.log_tail.encode("utf-8")[-_LOG_TAIL_BYTES:]
        return base64.b64encode(tail).decode("ascii")


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


class _Sandbox:
    """One warm worker process and its log stream."""

    def __init__(
        self,
        spec: FunctionSpec,
        code_dir: Path,
        endpoint_url: str,
        logs: CloudWatchLogs,
        may_write_logs: Callable[[LogStreamRef], bool],
    ) -> None:
        self._may_write_logs = may_write_logs
        self.log_ref = LogStreamRef(
            spec.account_id,
            spec.region,
            f"/aws/lambda/{spec.function_name}",
            time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{spec.version}]{uuid.uuid4().hex}",
        )
        self._logs = logs
        self._pending: list[tuple[int, str]] = []
        self._pending_lock = threading.Lock()
        self.worker = WorkerProcess(
            [sys.executable, "-m", "scones.local.runtime.lambda_worker", spec.handler],
            env=_sandbox_env(spec, code_dir, endpoint_url, self.log_ref.stream),
            cwd=code_dir,
            on_output=self._collect,
            name=f"lambda:{spec.function_name}",
        )

    def _collect(self, line: str) -> None:
        with self._pending_lock:
            self._pending.append((now_ms(), line))

    def log(self, line: str) -> None:
        self._collect(line)

    def flush_logs(self) -> str:
        """Write the collected lines to CloudWatch; returns them as text (for LogType=Tail)."""
        with self._pending_lock:
            events, self._pending = self._pending, []
        if self._may_write_logs(self.log_ref):
            self._logs.put(self.log_ref, events)
        return "\n".join(message for _, message in events) + ("\n" if events else "")


def _sandbox_env(spec: FunctionSpec, code_dir: Path, endpoint_url: str, log_stream: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_THROUGH_ENV if name in os.environ}
    env.update({str(k): str(v) for k, v in spec.environment.items()})
    env.setdefault("AWS_ENDPOINT_URL", endpoint_url)
    env.update(_credentials_env(spec.credentials))
    env.update(
        {
            # Reserved variables: Lambda sets these whatever the function's configuration says.
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "LAMBDA_TASK_ROOT": str(code_dir),
            "_HANDLER": spec.handler,
            "TZ": ":UTC",
            "PYTHONUNBUFFERED": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _credentials_env(credentials: RoleCredentials | None) -> dict[str, str]:
    """Lambda gives the function its execution role's keys in these reserved variables."""
    if credentials is None:
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    return {
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token,
    }


class _FunctionSandboxes:
    """The sandboxes of one function version with one code + configuration."""

    def __init__(self, spec: FunctionSpec, code_dir: Path, max_sandboxes: int) -> None:
        self.spec = spec
        self.code_dir = code_dir
        self.max_sandboxes = max_sandboxes
        self.idle: list[_Sandbox] = []
        self.all: set[_Sandbox] = set()
        self.busy = 0
        self.retired = False
        self.changed = threading.Condition()


class LambdaRuntime:
    def __init__(
        self,
        endpoint_url: str,
        work_dir: Path,
        logs: CloudWatchLogs,
        faults: FaultRegistry,
        max_sandboxes_per_function: int = DEFAULT_MAX_SANDBOXES_PER_FUNCTION,
        authorizer: Authorizer | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self._authorizer = authorizer
        self._code_root = work_dir / "lambda"
        self._logs = logs
        self._faults = faults
        self._max_sandboxes = max_sandboxes_per_function
        self._lock = threading.Lock()
        self._by_key: dict[str, _FunctionSandboxes] = {}
        self._current_key: dict[tuple[str, str], str] = {}
        self._stopped = False

    # -- sandbox bookkeeping -------------------------------------------------------------

    def _sandboxes_for(self, spec: FunctionSpec) -> _FunctionSandboxes:
        key = spec.sandbox_key
        retired: _FunctionSandboxes | None = None
        with self._lock:
            if self._stopped:
                raise LambdaCodeError("the emulator is shutting down")
            group = self._by_key.get(key)
            if group is None:
                group = _FunctionSandboxes(spec, self._unpack(spec, key), self._max_sandboxes)
                self._by_key[key] = group
            previous = self._current_key.get((spec.function_arn, spec.version))
            if previous is not None and previous != key:
                retired = self._by_key.pop(previous, None)
            self._current_key[(spec.function_arn, spec.version)] = key
        if retired is not None:
            self._retire(retired)
        return group

    def _unpack(self, spec: FunctionSpec, key: str) -> Path:
        if not spec.runtime.startswith("python"):
            raise LambdaCodeError(
                f"runtime {spec.runtime or '(none)'} is not supported: the local emulator runs Python handlers"
            )
        code_dir = self._code_root / f"{spec.function_name}-{key}"
        if code_dir.exists():
            shutil.rmtree(code_dir)
        code_dir.mkdir(parents=True)
        try:
            with zipfile.ZipFile(io.BytesIO(spec.code_zip)) as archive:
                archive.extractall(code_dir)
        except zipfile.BadZipFile as exc:
            shutil.rmtree(code_dir, ignore_errors=True)
            raise LambdaCodeError(f"the deployment package of {spec.function_name} is not a zip: {exc}") from exc
        return code_dir

    def _retire(self, group: _FunctionSandboxes, kill_busy: bool = False) -> None:
        """Stop the idle sandboxes now (busy ones when released, or now with `kill_busy`)."""
        with group.changed:
            group.retired = True
            idle, group.idle = group.idle, []
            busy = [s for s in group.all if s not in idle] if kill_busy else []
            remove_code = group.busy == 0
            group.changed.notify_all()
        for sandbox in idle:
            sandbox.worker.stop()
        for sandbox in busy:
            sandbox.worker.kill()
        if remove_code:
            shutil.rmtree(group.code_dir, ignore_errors=True)

    def _acquire(self, group: _FunctionSandboxes) -> tuple[_Sandbox | None, bool] | None:
        """An idle sandbox, or (None, True) when the caller may start one; None if the group retired."""
        with group.changed:
            while True:
                if group.retired:
                    return None
                while group.idle:
                    sandbox = group.idle.pop()
                    if sandbox.worker.alive:
                        group.busy += 1
                        return sandbox, False
                    group.all.discard(sandbox)
                if group.busy < group.max_sandboxes:
                    group.busy += 1
                    return None, True
                group.changed.wait()

    def _release(self, group: _FunctionSandboxes, sandbox: _Sandbox | None, keep: bool) -> None:
        with group.changed:
            group.busy -= 1
            retired = group.retired
            if sandbox is not None and keep and not retired:
                group.idle.append(sandbox)
                sandbox = None
            elif sandbox is not None:
                group.all.discard(sandbox)
            remove_code = retired and group.busy == 0
            group.changed.notify()
        if sandbox is not None:
            sandbox.worker.stop()
        if remove_code:
            shutil.rmtree(group.code_dir, ignore_errors=True)

    def _may_write_logs(self, spec: FunctionSpec, ref: LogStreamRef) -> bool:
        """Lambda sends a function's logs as its execution role; a role that may not write them
        loses them silently ("Lambda execution role": https://docs.aws.amazon.com/lambda/latest/dg/
        lambda-intro-execution-role.html). Both actions are checked on the stream's ARN, which the
        usual `log-group:NAME:*` resource matches."""
        if self._authorizer is None or not spec.role_arn:
            return True
        principal = Principal.of_role(spec.role_arn, spec.function_name)
        group = f"arn:{principal.partition}:logs:{ref.region}:{ref.account_id}:log-group:{ref.group}"
        stream = f"{group}:log-stream:{ref.stream}"
        try:
            for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
                self._authorizer.check(principal, action, stream)
        except AccessDeniedError:
            return False
        return True

    # -- invocation ----------------------------------------------------------------------

    def invoke(self, spec: FunctionSpec, payload: bytes) -> InvocationResult:
        """Run the handler on `payload` (JSON) in a warm sandbox; errors come back as Lambda reports them."""
        # "The timestamp on an error metric reflects when the function was invoked" (Types of
        # metrics for Lambda functions, https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html).
        invoked_at = datetime.now(tz=UTC)
        result = self._invoke(spec, payload, self._faults.take(LambdaError, spec.function_name))
        _publish_invocation_metrics(spec, result, invoked_at)
        return result

    def _invoke(self, spec: FunctionSpec, payload: bytes, fault: LambdaError | None) -> InvocationResult:
        while True:
            try:
                group = self._sandboxes_for(spec)
            except LambdaCodeError as exc:
                return InvocationResult(
                    _error_payload("Runtime.InvalidEntrypoint", str(exc)), "Unhandled", "", spec.version, None
                )
            acquired = self._acquire(group)
            if acquired is not None:
                break
        sandbox, start_new = acquired
        keep = False
        try:
            if start_new:
                sandbox, init_error = self._start_sandbox(spec, group)
                if init_error is not None:
                    return init_error
            assert sandbox is not None
            result, keep = self._invoke_in(sandbox, spec, payload, fault)
            return result
        finally:
            self._release(group, sandbox, keep)

    def _start_sandbox(
        self, spec: FunctionSpec, group: _FunctionSandboxes
    ) -> tuple[_Sandbox | None, InvocationResult | None]:
        sandbox = _Sandbox(
            spec, group.code_dir, self.endpoint_url, self._logs, lambda ref: self._may_write_logs(spec, ref)
        )
        with group.changed:
            group.all.add(sandbox)
        sandbox.log(f"INIT_START Runtime Version: {spec.runtime} (scones local emulator, pid {sandbox.worker.pid})")
        try:
            header, body = sandbox.worker.wait_for_message(INIT_TIMEOUT_SECONDS)
        except WorkerTimeoutError:
            body = _error_payload("Sandbox.Timedout", f"Init timed out after {INIT_TIMEOUT_SECONDS:.2f} seconds")
            header = {"type": "init_error"}
        except WorkerExitedError as exc:
            body = _error_payload("Runtime.ExitError", f"Runtime exited with error: {exc.detail}")
            header = {"type": "init_error"}
        if header.get("type") == "ready":
            return sandbox, None
        sandbox.worker.stop()
        with group.changed:
            group.all.discard(sandbox)
        sandbox.log(f"INIT_REPORT Status: error\t{body.decode('utf-8', errors='replace')}")
        tail = sandbox.flush_logs()
        return None, InvocationResult(body, "Unhandled", tail, spec.version, None)

    def _invoke_in(
        self, sandbox: _Sandbox, spec: FunctionSpec, payload: bytes, fault: LambdaError | None
    ) -> tuple[InvocationResult, bool]:
        request_id = str(uuid.uuid4())
        started = time.monotonic()
        sandbox.log(f"START RequestId: {request_id} Version: {spec.version}")
        header = {
            "type": "invoke",
            "request_id": request_id,
            "deadline_ms": now_ms() + int(spec.timeout_seconds * 1000),
            "function_arn": spec.function_arn,
        }
        keep = True
        try:
            if fault is not None:
                # The handler is not run: the injected error stands for whatever it would have raised.
                sandbox.log(f"[ERROR] {fault.error_type}: {fault.message} (fault injected by the emulator)")
                body, error = _error_payload(fault.error_type, fault.message), "Unhandled"
            else:
                response_header, body = sandbox.worker.call(header, payload, timeout=spec.timeout_seconds)
                error = None if response_header.get("ok") else "Unhandled"
        except WorkerTimeoutError:
            keep = False
            message = f"Task timed out after {spec.timeout_seconds:.2f} seconds"
            sandbox.log(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z {request_id} {message}")
            body, error = _error_payload("Sandbox.Timedout", f"RequestId: {request_id} Error: {message}"), "Unhandled"
        except WorkerExitedError as exc:
            keep = False
            message = f"RequestId: {request_id} Error: Runtime exited with error: {exc.detail}"
            sandbox.log(message)
            body, error = _error_payload("Runtime.ExitError", message), "Unhandled"
        duration_ms = (time.monotonic() - started) * 1000
        sandbox.log(f"END RequestId: {request_id}")
        sandbox.log(
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
            f"Billed Duration: {int(duration_ms) + 1} ms\tMemory Size: {spec.memory_size} MB"
        )
        tail = sandbox.flush_logs()
        return InvocationResult(body, error, tail, spec.version, sandbox.worker.pid, duration_ms), keep

    def invoke_async(self, spec: FunctionSpec, payload: bytes) -> None:
        """InvocationType=Event: run in the background, results only in the logs."""
        threading.Thread(target=self.invoke, args=(spec, payload), name="lambda-event", daemon=True).start()

    # -- lifecycle -----------------------------------------------------------------------

    def stop(self) -> None:
        """Stop every sandbox and remove the unpacked code."""
        with self._lock:
            self._stopped = True
            groups = list(self._by_key.values())
            self._by_key.clear()
            self._current_key.clear()
        for group in groups:
            self._retire(group, kill_busy=True)
        shutil.rmtree(self._code_root, ignore_errors=True)


def _publish_invocation_metrics(spec: FunctionSpec, result: InvocationResult, invoked_at: datetime) -> None:
    """Invocations and Errors (Count, one datapoint of 0 or 1 per invocation) and Duration (Milliseconds)."""
    dimensions = {"FunctionName": spec.function_name}
    data = [
        cloudwatch_metrics.Datum("Invocations", 1, "Count", dimensions, invoked_at),
        cloudwatch_metrics.Datum("Errors", 1 if result.function_error else 0, "Count", dimensions, invoked_at),
    ]
    if result.duration_ms is not None:
        data.append(cloudwatch_metrics.Datum("Duration", result.duration_ms, "Milliseconds", dimensions, invoked_at))
    cloudwatch_metrics.publish(spec.account_id, spec.region, LAMBDA_NAMESPACE, data)
