"""An in-process moto server on 127.0.0.1 that runs what is deployed on it.

On top of moto: Step Functions executions run (moto's ASL interpreter, switched on here), and
through the extensions `MOTO_EXTENSIONS` installs (`services/`, `speedups.py`) Lambda
invocations run the deployed zip in warm subprocess sandboxes, sagemaker-runtime InvokeEndpoint
runs the deployed model artifact with data capture (both in `runtime/`), and the APIs the
Terraform provider needs that moto lacks are answered. `retry_replay` answers an SDK's retry of
a call already carried out with the first answer. What runs publishes the CloudWatch metrics
AWS publishes, `faults` (a `FaultRegistry`) makes chosen calls fail as AWS would, and
`emulator_api` serves the emulator's own routes: the fault registry, alarm evaluation and the
record of what each SNS topic sent. `services/apigateway.py` answers invocations of deployed API
Gateway REST API stages at `{url}/restapis/{api_id}/{stage}/_user_request_/{path}`. One
`LocalAWS` at a time per process: moto's state and its Step Functions callback port (MOTO_PORT)
are process-wide.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from moto.core.base_backend import BackendDict
from moto.core.config import default_user_config
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from scones.local import speedups
from scones.local.alarms import evaluate_route
from scones.local.emulator_api import EVALUATE_ALARMS_PATH, FAULTS_PATH, SENT_NOTIFICATIONS_PATH, EmulatorApi
from scones.local.fault_api import faults_route
from scones.local.faults import FaultRegistry
from scones.local.iam.authorizer import Authorizer
from scones.local.iam.middleware import IAMEnforcement
from scones.local.retry_replay import RetryReplay
from scones.local.runtime import active
from scones.local.runtime.cloudwatch_logs import CloudWatchLogs
from scones.local.runtime.lambda_runtime import DEFAULT_MAX_SANDBOXES_PER_FUNCTION, LambdaRuntime
from scones.local.runtime.model_server import ModelServer
from scones.local.services import (
    apigateway,
    apigateway_control,
    application_autoscaling,
    cloudwatch_alarms,
    cloudwatch_dashboards,
    eventbridge,
    lambda_,
    s3,
    s3_events,
    sagemaker,
    sagemaker_runtime,
    sqs_lambda,
    stepfunctions,
    stepfunctions_metrics,
)
from scones.local.services.sns import sent_notifications_route

# Every change the emulator makes to moto, one install() per module (services/ and speedups.py);
# start() runs them all, and each is idempotent.
MOTO_EXTENSIONS: tuple[Callable[[], None], ...] = (
    lambda_.install,
    stepfunctions.install,
    stepfunctions_metrics.install,
    sagemaker.install,
    sagemaker_runtime.install,
    application_autoscaling.install,
    s3.install,
    eventbridge.install,
    s3_events.install,
    sqs_lambda.install,
    cloudwatch_alarms.install,
    cloudwatch_dashboards.install,
    apigateway_control.install,
    speedups.install,
)

LAMBDA_CONCURRENCY_ENV = "SCONES_LOCAL_LAMBDA_CONCURRENCY"
# moto's ASL interpreter logs every task error at ERROR level, including the ones a Catch
# handles by design (a low-confidence prediction); the execution history has them all.
_ASL_ERROR_LOGGER = "moto.stepfunctions.parser.asl.component.eval_component"


class _RequestHandler(MotoRequestHandler):
    """moto's handler; request lines are logged only when asked (they drown test output)."""

    log_requests = False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.log_requests:
            super().log_request(code, size)


class _LoggingRequestHandler(_RequestHandler):
    log_requests = True


class LocalAWS:
    """moto's server in a thread. `url` is valid after `start()`.

    With `enforce_iam`, Lambda functions, Step Functions executions and SageMaker endpoints act
    as their roles and their calls are checked against the roles' policies (`scones.local.iam`);
    any other keys keep full access. Off by default here, for tests that build ad hoc resources
    without roles; `scones local up` turns it on.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        work_dir: Path | None = None,
        log_requests: bool = False,
        enforce_iam: bool = False,
    ) -> None:
        self._host = host
        self.enforce_iam = enforce_iam
        self._log_requests = log_requests
        self._port = port
        self._work_dir_parent = work_dir
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._sqs_poller: sqs_lambda.SqsPoller | None = None
        self._runtimes: active.Runtimes | None = None
        self._apigateway: apigateway.ApiGatewayDataPlane | None = None
        self._saved_config: dict[str, Any] = {}
        self._saved_moto_port: str | None = None
        self.work_dir: Path | None = None
        self.url = ""
        # Faults outlive start/stop so a test or a game day can set them up before starting.
        self.faults = FaultRegistry()

    @property
    def port(self) -> int:
        assert self._server is not None, "call start() first"
        return int(self._server.server_address[1])

    @property
    def apigateway(self) -> apigateway.ApiGatewayDataPlane:
        """API Gateway's data plane; set its `clock` to move throttling and quotas in time."""
        assert self._apigateway is not None, "call start() first"
        return self._apigateway

    @property
    def models(self) -> ModelServer:
        assert self._runtimes is not None, "call start() first"
        return self._runtimes.models

    def start(self) -> LocalAWS:
        for install in MOTO_EXTENSIONS:
            install()
        logging.getLogger(_ASL_ERROR_LOGGER).setLevel(logging.CRITICAL)
        # A fresh emulator starts empty, whatever ran in this process before.
        BackendDict.reset()
        authorizer = Authorizer() if self.enforce_iam else None
        app: Any = RetryReplay(DomainDispatcherApplication(create_backend_app))
        if authorizer is not None:
            app = IAMEnforcement(app, authorizer)
        logs = CloudWatchLogs()
        # API Gateway verifies its callers' signatures itself: its methods' auth is the API's, not
        # the emulator's IAM switch.
        app = self._apigateway = apigateway.ApiGatewayDataPlane(app, logs)
        routes = {
            FAULTS_PATH: faults_route(self.faults),
            EVALUATE_ALARMS_PATH: evaluate_route,
            SENT_NOTIFICATIONS_PATH: sent_notifications_route,
        }
        app = EmulatorApi(app, routes)  # the emulator's own routes, before IAM and moto
        server = make_server(
            self._host,
            self._port,
            app,
            threaded=True,
            request_handler=_LoggingRequestHandler if self._log_requests else _RequestHandler,
        )
        self._server = server
        self.url = f"http://{self._host}:{self.port}"
        self.work_dir = Path(tempfile.mkdtemp(prefix="scones-local-", dir=self._work_dir_parent))
        concurrency = int(os.environ.get(LAMBDA_CONCURRENCY_ENV, DEFAULT_MAX_SANDBOXES_PER_FUNCTION))
        self._runtimes = active.Runtimes(
            lambdas=LambdaRuntime(
                self.url,
                self.work_dir,
                logs,
                self.faults,
                max_sandboxes_per_function=concurrency,
                authorizer=authorizer,
            ),
            models=ModelServer(self.work_dir, logs, self.faults, authorizer=authorizer),
            faults=self.faults,
            authorizer=authorizer,
        )
        try:
            active.activate(self._runtimes)
        except RuntimeError:
            server.server_close()
            shutil.rmtree(self.work_dir, ignore_errors=True)
            raise
        self._configure_moto()
        self._thread = threading.Thread(target=server.serve_forever, name="scones-local-aws", daemon=True)
        self._thread.start()
        self._sqs_poller = sqs_lambda.SqsPoller().start()
        return self

    def _configure_moto(self) -> None:
        self._saved_config = {
            "stepfunctions": dict(default_user_config.get("stepfunctions", {})),
            "lambda": dict(default_user_config.get("lambda", {})),
        }
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        # The full Lambda backend is the one whose invoke the emulator replaces.
        default_user_config["lambda"] = {**self._saved_config["lambda"], "use_docker": True}
        # moto's Step Functions interpreter calls back into "the" moto server on MOTO_PORT.
        self._saved_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(self.port)

    def _restore_moto(self) -> None:
        for section, saved in self._saved_config.items():
            default_user_config[section] = saved  # type: ignore[literal-required]
        if self._saved_moto_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = self._saved_moto_port

    def stop(self) -> None:
        """Stop serving, end every worker process, remove the temp dirs (idempotent)."""
        poller, self._sqs_poller = self._sqs_poller, None
        if poller is not None:
            poller.stop()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        runtimes, self._runtimes = self._runtimes, None
        if runtimes is not None:
            runtimes.lambdas.stop()
            runtimes.models.stop()
            active.deactivate(runtimes)
            self._restore_moto()
        if self.work_dir is not None:
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self.work_dir = None

    def __enter__(self) -> LocalAWS:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
