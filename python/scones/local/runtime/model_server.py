"""sagemaker-runtime InvokeEndpoint for the emulator: real inference on the deployed artifact.

endpoint -> endpoint config -> production variant -> model (or the model package version it was created
from) -> ModelDataUrl (a model.tar.gz in emulated S3). Each artifact is unpacked and loaded once, in a
model worker subprocess that stays warm (torch stays out of the emulator process, and a crashing model
cannot take it down).
Every invocation is captured as the endpoint config's DataCaptureConfig says, and publishes
SageMaker's endpoint invocation metrics (`AWS/SageMaker` by EndpointName and VariantName). The
`EndpointError` and `EndpointLatency` faults of the emulator's `FaultRegistry` act here.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import shutil
import sys
import tarfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from moto.s3.exceptions import MissingBucket, MissingKey
from moto.s3.models import s3_backends
from moto.sagemaker.models import sagemaker_backends

from scones.local.faults import EndpointError, EndpointLatency, FaultRegistry
from scones.local.iam.authorizer import AccessDeniedError, Authorizer, Principal
from scones.local.runtime import cloudwatch_metrics
from scones.local.runtime.cloudwatch_logs import CloudWatchLogs, LogStreamRef, now_ms
from scones.local.runtime.data_capture import (
    CapturedInvocation,
    CaptureSettings,
    DataCaptureConfigError,
    capture_record,
    new_event_id,
    to_jsonl,
)
from scones.local.runtime.worker_process import WorkerExitedError, WorkerProcess, WorkerTimeoutError
from scones.local.services import sagemaker_deployments, sagemaker_live_fleets
from scones.local.services.sagemaker_model_packages import serving_container

MODEL_LOAD_TIMEOUT_SECONDS = 300.0
# SageMaker real-time endpoints give the container 60 s per request.
INVOCATION_TIMEOUT_SECONDS = 60.0
MAX_LOADED_MODELS = 3
# The session name in the execution role's assumed-role ARN that SageMaker's calls carry.
SAGEMAKER_SESSION_NAME = "SageMaker"
_PASSED_THROUGH_ENV = ("PATH", "LANG", "LC_ALL", "TMPDIR", "HOME", "OMP_NUM_THREADS")
SAGEMAKER_NAMESPACE = "AWS/SageMaker"


class EndpointNotFoundError(Exception):
    def __init__(self, endpoint_name: str, account_id: str) -> None:
        super().__init__(f"Endpoint {endpoint_name} of account {account_id} not found.")


class EndpointConfigurationError(Exception):
    """The endpoint exists but its config/model/artifact cannot be served (SageMaker: ValidationError)."""


class ModelInvocationError(Exception):
    """The model container failed on this request (SageMaker: ModelError, HTTP 424)."""

    def __init__(self, message: str, original_status: int, original_message: str, log_stream_arn: str) -> None:
        super().__init__(message)
        self.original_status = original_status
        self.original_message = original_message
        self.log_stream_arn = log_stream_arn


@dataclass(frozen=True)
class EndpointRequest:
    account_id: str
    region: str
    endpoint_name: str
    body: bytes
    content_type: str
    accept: str | None
    inference_id: str | None = None
    target_variant: str | None = None


@dataclass(frozen=True)
class EndpointResponse:
    body: bytes
    content_type: str
    variant: str
    worker_pid: int


@dataclass(frozen=True)
class _Target:
    variant: str
    model_data_url: str
    environment: dict[str, str]
    capture: CaptureSettings | None
    role_arn: str  # the model's execution role: SageMaker reads the artifact and writes capture as it


class _LoadedModel:
    def __init__(self, model_dir: Path, environment: dict[str, str], logs: CloudWatchLogs, name: str) -> None:
        self.model_dir = model_dir
        self.lock = threading.Lock()
        self._logs = logs
        self._pending: list[tuple[int, str]] = []
        self._pending_lock = threading.Lock()
        env = {k: v for k, v in os.environ.items() if k in _PASSED_THROUGH_ENV}
        # One request is one small image: intra-op threads only spin, burning the CPU the Lambdas
        # and the emulator share (SageMaker's PyTorch serving scales by workers per vCPU instead).
        # The model's own Environment may still set it.
        env["OMP_NUM_THREADS"] = "1"
        env.update(environment)
        env.update({"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"})
        self.worker = WorkerProcess(
            [sys.executable, "-m", "scones.local.runtime.model_worker", str(model_dir)],
            env=env,
            cwd=model_dir,
            on_output=self._collect,
            name=name,
        )

    def _collect(self, line: str) -> None:
        with self._pending_lock:
            self._pending.append((now_ms(), line))

    def flush_logs(self, ref: LogStreamRef) -> str:
        with self._pending_lock:
            events, self._pending = self._pending, []
        self._logs.put(ref, events)
        return "\n".join(line for _, line in events)

    def stop(self) -> None:
        self.worker.stop(grace_seconds=5.0)
        shutil.rmtree(self.model_dir, ignore_errors=True)


def _split_s3_url(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise EndpointConfigurationError(f"ModelDataUrl must be an s3:// URL, got {url!r}")
    bucket, _, key = url[len("s3://") :].partition("/")
    if not bucket or not key:
        raise EndpointConfigurationError(f"ModelDataUrl has no bucket or key: {url!r}")
    return bucket, key


def _extract_artifact(data: bytes, into: Path) -> None:
    into.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            archive.extractall(into, filter="data")
    except (tarfile.TarError, OSError) as exc:
        shutil.rmtree(into, ignore_errors=True)
        raise EndpointConfigurationError(f"the model artifact is not a readable tar.gz: {exc}") from exc


@dataclass(frozen=True)
class _ModelAnswer:
    reply: dict[str, Any]
    body: bytes
    seconds: float

    @property
    def status(self) -> int:
        """The model's HTTP status as SageMaker sees it."""
        if self.reply.get("ok"):
            return 200
        return int(self.reply.get("status") or (408 if self.reply.get("error") == "timeout" else 500))


class ModelServer:
    def __init__(
        self,
        work_dir: Path,
        logs: CloudWatchLogs,
        faults: FaultRegistry,
        rng: random.Random | None = None,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._models_dir = work_dir / "models"
        self._authorizer = authorizer
        self._logs = logs
        self._faults = faults
        self._rng = rng or random.Random()
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, _LoadedModel] = OrderedDict()
        self._loading: dict[str, threading.Lock] = {}
        self._stopped = False

    # -- resolving what an endpoint serves --------------------------------------------------

    def _resolve(self, request: EndpointRequest) -> _Target:
        backend = sagemaker_backends[request.account_id][request.region]
        endpoint = backend.endpoints.get(request.endpoint_name)
        if endpoint is None:
            raise EndpointNotFoundError(request.endpoint_name, request.account_id)
        # During a blue/green deployment the new configuration serves its step's share of the requests.
        config_name = sagemaker_deployments.serving_config_name(endpoint)
        config = sagemaker_live_fleets.serving_config(backend, config_name)
        if config is None:
            raise EndpointConfigurationError(
                f"Endpoint config {config_name} of endpoint {request.endpoint_name} not found."
            )
        variants: list[dict[str, Any]] = list(config.production_variants)
        if not variants:
            raise EndpointConfigurationError(f"Endpoint {request.endpoint_name} has no production variants.")
        if request.target_variant:
            chosen = [v for v in variants if v.get("VariantName") == request.target_variant]
            if not chosen:
                raise EndpointConfigurationError(
                    f"Target variant {request.target_variant} not found for endpoint {request.endpoint_name}."
                )
            variant = chosen[0]
        else:
            weights = [float(v.get("InitialVariantWeight", 1.0) or 0.0) for v in variants]
            variant = self._rng.choices(variants, weights=weights if sum(weights) > 0 else None)[0]
        model = sagemaker_live_fleets.serving_model(backend, variant.get("ModelName", ""))
        if model is None:
            raise EndpointConfigurationError(
                f"Model {variant.get('ModelName')} of endpoint {request.endpoint_name} not found."
            )
        container = serving_container(model)
        url = (container or {}).get("ModelDataUrl")
        if not url:
            raise EndpointConfigurationError(
                f"Model {model.model_name} has no PrimaryContainer.ModelDataUrl; "
                "the emulator serves model.tar.gz artifacts"
            )
        try:
            capture = CaptureSettings.from_endpoint_config(config.data_capture_config)
        except DataCaptureConfigError as exc:
            raise EndpointConfigurationError(str(exc)) from exc
        environment = {str(k): str(v) for k, v in (container.get("Environment") or {}).items()}
        return _Target(str(variant["VariantName"]), str(url), environment, capture, str(model.execution_role_arn))

    # -- loading models ---------------------------------------------------------------------

    def _check_role(self, target: _Target, action: str, bucket: str, key: str) -> None:
        """Raise AccessDeniedError unless the execution role may do `action` on the object."""
        if self._authorizer is not None:
            principal = Principal.of_role(target.role_arn, SAGEMAKER_SESSION_NAME)
            self._authorizer.check(principal, action, f"arn:{principal.partition}:s3:::{bucket}/{key}")

    def _check_artifact_read(self, request: EndpointRequest, target: _Target, bucket: str, key: str) -> None:
        # Checked when a model is loaded, not on every request: SageMaker reads the artifact when
        # it provisions the endpoint's instances, and a running endpoint keeps serving after.
        try:
            self._check_role(target, "s3:GetObject", bucket, key)
        except AccessDeniedError as exc:
            # SageMaker's words when it cannot read the model data (the endpoint fails to create).
            raise EndpointConfigurationError(
                f"Could not access model data at {target.model_data_url}. Please ensure that the role "
                f'"{target.role_arn}" exists and that its trust relationship policy allows the action '
                '"sts:AssumeRole" for the service principal "sagemaker.amazonaws.com". Also ensure that the role '
                f'has "s3:GetObject" permissions and that the object is located in {request.region}. ({exc})'
            ) from exc

    def _model_for(self, request: EndpointRequest, target: _Target, log_ref: LogStreamRef) -> _LoadedModel:
        bucket, key = _split_s3_url(target.model_data_url)
        try:
            s3_object = s3_backends[request.account_id]["aws"].get_object(bucket, key)
        except (MissingBucket, MissingKey):
            s3_object = None
        if s3_object is None:
            raise EndpointConfigurationError(f"Could not find model data at {target.model_data_url}.")
        cache_key = hashlib.sha256(
            json.dumps([target.model_data_url, s3_object.etag, target.environment], sort_keys=True).encode()
        ).hexdigest()[:24]
        with self._lock:
            if self._stopped:
                raise EndpointConfigurationError("the emulator is shutting down")
            loaded = self._loaded.get(cache_key)
            if loaded is not None and loaded.worker.alive:
                self._loaded.move_to_end(cache_key)
                return loaded
            load_lock = self._loading.setdefault(cache_key, threading.Lock())
        with load_lock:
            with self._lock:
                loaded = self._loaded.get(cache_key)
                if loaded is not None and loaded.worker.alive:
                    return loaded
            self._check_artifact_read(request, target, bucket, key)
            loaded = self._load(cache_key, s3_object.value, target, log_ref)
            with self._lock:
                stale = self._loaded.pop(cache_key, None)
                self._loaded[cache_key] = loaded
                evicted = []
                while len(self._loaded) > MAX_LOADED_MODELS:
                    evicted.append(self._loaded.popitem(last=False)[1])
            for old in [m for m in (stale, *evicted) if m is not None]:
                old.stop()
            return loaded

    def _load(self, cache_key: str, artifact: bytes, target: _Target, log_ref: LogStreamRef) -> _LoadedModel:
        model_dir = self._models_dir / cache_key
        shutil.rmtree(model_dir, ignore_errors=True)
        _extract_artifact(artifact, model_dir)
        loaded = _LoadedModel(model_dir, target.environment, self._logs, name=f"model:{cache_key[:8]}")
        try:
            header, _ = loaded.worker.wait_for_message(MODEL_LOAD_TIMEOUT_SECONDS)
        except (WorkerTimeoutError, WorkerExitedError) as exc:
            header = {"type": "init_error", "error": str(exc)}
        log_text = loaded.flush_logs(log_ref)
        if header.get("type") != "ready":
            loaded.stop()
            detail = header.get("error") or log_text[-2000:]
            raise EndpointConfigurationError(f"The model in {target.model_data_url} failed to load: {detail}")
        return loaded

    # -- invoking ---------------------------------------------------------------------------

    def invoke(self, request: EndpointRequest) -> EndpointResponse:
        target = self._resolve(request)
        log_ref = LogStreamRef(
            request.account_id,
            request.region,
            f"/aws/sagemaker/Endpoints/{request.endpoint_name}",
            f"{target.variant}/scones-local",
        )
        # On SageMaker the model is loaded when the endpoint is created, so the clock starts after.
        loaded = self._model_for(request, target, log_ref)
        received_at = datetime.now(tz=UTC)
        started = time.monotonic()
        answer = self._call_model(request, loaded, log_ref)
        overhead_seconds = max(time.monotonic() - started - answer.seconds, 0.0)
        _publish_invocation_metrics(request, target.variant, received_at, answer, overhead_seconds)
        if not answer.reply.get("ok"):
            raise self._model_error(request, log_ref, str(answer.reply.get("error")), answer.status)
        content_type = str(answer.reply.get("content_type"))
        response = EndpointResponse(answer.body, content_type, target.variant, loaded.worker.pid)
        self._capture(request, target, response, log_ref)
        return response

    def _call_model(self, request: EndpointRequest, loaded: _LoadedModel, log_ref: LogStreamRef) -> _ModelAnswer:
        """The model's answer, with the faults injected for this endpoint, and how long it took."""
        started = time.monotonic()
        latency = self._faults.take(EndpointLatency, request.endpoint_name)
        delay = min(latency.seconds, INVOCATION_TIMEOUT_SECONDS) if latency else 0.0
        time.sleep(delay)
        error = self._faults.take(EndpointError, request.endpoint_name)
        if error is not None:
            reply: dict[str, Any] = {"ok": False, "error": "fault injected by the emulator", "status": error.status}
            return _ModelAnswer(reply, b"", time.monotonic() - started)
        if delay >= INVOCATION_TIMEOUT_SECONDS:
            return _ModelAnswer({"ok": False, "error": "timeout"}, b"", time.monotonic() - started)
        header_out = {"type": "invoke", "content_type": request.content_type, "accept": request.accept}
        with loaded.lock:
            try:
                reply, body = loaded.worker.call(header_out, request.body, timeout=INVOCATION_TIMEOUT_SECONDS - delay)
            except WorkerTimeoutError:
                reply, body = {"ok": False, "error": "timeout"}, b""
            except WorkerExitedError as exc:
                reply, body = {"ok": False, "error": f"the model server exited ({exc.detail})"}, b""
            seconds = time.monotonic() - started
            loaded.flush_logs(log_ref)
        return _ModelAnswer(reply, body, seconds)

    def _model_error(
        self, request: EndpointRequest, log_ref: LogStreamRef, error: str, status: int
    ) -> ModelInvocationError:
        stream_arn = (
            f"arn:aws:logs:{request.region}:{request.account_id}:log-group:{log_ref.group}:log-stream:{log_ref.stream}"
        )
        if error == "timeout":
            return ModelInvocationError(
                "Your invocation timed out while waiting for a response from container primary. "
                "Review the latency metrics for each container in Amazon CloudWatch, "
                "resolve the issue, and try again.",
                408,
                error,
                stream_arn,
            )
        side = "client" if status < 500 else "server"
        message = (
            f'Received {side} error ({status}) from primary with message "{error}". See '
            f"{log_ref.group} in account {request.account_id} for more information."
        )
        return ModelInvocationError(message, status, error, stream_arn)

    def _capture(
        self, request: EndpointRequest, target: _Target, response: EndpointResponse, log_ref: LogStreamRef
    ) -> None:
        settings = target.capture
        if settings is None or not settings.sampled(self._rng):
            return
        event_id = new_event_id()
        when = datetime.now(tz=UTC)
        invocation = CapturedInvocation(
            request.body, request.content_type, response.body, response.content_type, request.inference_id, when
        )
        record = capture_record(settings, invocation, event_id)
        key = settings.object_key(request.endpoint_name, target.variant, when, event_id)
        try:
            self._check_role(target, "s3:PutObject", settings.bucket, key)
        except AccessDeniedError as exc:
            self._logs.put(log_ref, [(now_ms(), f"data capture: {exc}; record dropped")])
            return
        try:
            s3_backends[request.account_id]["aws"].put_object(settings.bucket, key, to_jsonl([record]))
        except MissingBucket:
            # SageMaker drops capture it cannot deliver; say so where an operator would look.
            self._logs.put(
                log_ref, [(now_ms(), f"data capture: bucket {settings.bucket} does not exist; record dropped")]
            )

    # -- lifecycle --------------------------------------------------------------------------

    def worker_pids(self) -> list[int]:
        with self._lock:
            return [m.worker.pid for m in self._loaded.values() if m.worker.alive]

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            loaded = list(self._loaded.values())
            self._loaded.clear()
        for model in loaded:
            model.stop()
        shutil.rmtree(self._models_dir, ignore_errors=True)


def _publish_invocation_metrics(
    request: EndpointRequest, variant: str, received_at: datetime, answer: _ModelAnswer, overhead_seconds: float
) -> None:
    """SageMaker's endpoint invocation metrics: the counts are unit None, one datapoint of 0 or 1
    per request for the error counts, latencies in microseconds ("Monitor Amazon SageMaker AI with
    Amazon CloudWatch", https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html)."""
    dimensions = {"EndpointName": request.endpoint_name, "VariantName": variant}
    status = answer.status

    def datum(name: str, value: float, unit: str = "None") -> cloudwatch_metrics.Datum:
        return cloudwatch_metrics.Datum(name, value, unit, dimensions, received_at)

    data = [
        datum("Invocations", 1),
        datum("Invocation4XXErrors", 1 if 400 <= status < 500 else 0),
        datum("Invocation5XXErrors", 1 if status >= 500 else 0),
        datum("ModelLatency", answer.seconds * 1_000_000, "Microseconds"),
        datum("OverheadLatency", overhead_seconds * 1_000_000, "Microseconds"),
    ]
    cloudwatch_metrics.publish(request.account_id, request.region, SAGEMAKER_NAMESPACE, data)
