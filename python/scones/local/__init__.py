"""The local AWS emulator: moto's server plus what moto lacks for this system.

The parts:

- The background process, `scones local up|down|status|env|alarms`: `cli.py` (the commands),
  `control.py` (start, stop and find the daemon and its process group), `daemon.py` (the process
  itself), `state.py` (its `state.json`), `inventory.py` (what is deployed, for `status`).
- The server: `server.py` (`LocalAWS`: moto's WSGI app on 127.0.0.1, in a thread) and
  `retry_replay.py` (middleware that answers an SDK's retry with the first attempt's answer).
- What the emulator changes in moto: `services/`, one module per AWS service (`lambda_.py`,
  `stepfunctions.py`, `sagemaker.py` (with `sagemaker_deployments.py`: blue/green updates, their bakes
  on the alarms' clock and auto-rollback), `sagemaker_runtime.py`, `application_autoscaling.py`,
  `s3.py`, `s3_events.py` (S3's events to EventBridge), `eventbridge.py` (rules delivering to
  their targets: input transformers, retries, dead-letter queues), `sqs_lambda.py` (the poller of
  SQS event source mappings, started and stopped with the server), `cloudwatch_alarms.py`,
  `sns.py`: the record of what each topic sent, served over
  HTTP and read by `notifications.py` and `scones local notifications`), and `speedups.py`
  (shortcuts that change how fast moto answers, never what; each with the measurement that
  justified it). Step Functions has two more, installed by `stepfunctions.py`:
  `stepfunctions_express.py` (EXPRESS machines: `StartSyncExecution`, and no `DescribeExecution`
  of their executions), `stepfunctions_errors.py` (`States.Runtime` is never caught nor
  retried; no Python exception as a cause) and `stepfunctions_distributed_map.py` (Distributed
  Map: every page of an S3 listing, tolerated failures, ResultWriter's files). User reference: docs/emulator.md.
- API Gateway's data plane (moto has only the control plane): `services/apigateway.py`, WSGI
  middleware built by `server.py` (no moto patch, so no `install()`), answering
  `/restapis/{id}/{stage}/_user_request_/{path}`: `apigateway_routes.py` (stage, resource,
  method), `apigateway_sigv4.py` (SigV4 for `execute-api`, with `iam/credentials.py`),
  `apigateway_throttle.py` (token buckets and quotas on `LocalAWS.apigateway.clock`),
  `apigateway_proxy.py` (the Lambda permission, invocation and answer), `apigateway_context.py`
  (the request's `$context`: the proxy event, the access log's variables) and
  `apigateway_access_log.py` (the stage's access log); it publishes `AWS/ApiGateway` metrics.
- CloudWatch alarms: `alarms.py` evaluates every alarm at a given time (injectable clock), sets
  its state and notifies its SNS actions (then tells its observers, `after_evaluation`: endpoint
  deployments move on the same clock), with `metric_math.py` (the expression parser);
  `services/cloudwatch_alarms.py` gives alarms AWS's initial state and DescribeAlarmHistory;
  `scones local alarms` asks the running emulator through its route.
- The emulator's own routes (under `/_scones/` on its port, for what only its process can answer):
  `emulator_api.py`, one WSGI router and one client (`call`); each route's handler lives with
  what it serves (`fault_api.faults_route`, `alarms.evaluate_route`,
  `services/sns.sent_notifications_route`). A new route is a path there and a handler here.
- IAM, enforced under `scones local up` (`LocalAWS(enforce_iam=True)`): `iam/`. Lambdas call with
  their execution role's STS keys, Task states as the state machine's role, the model server
  reads artifacts and writes capture as the model's role; any other keys are the admin
  (docs/emulator.md, IAM).
- What runs the deployed code: `runtime/`. `lambda_runtime.py` keeps warm Lambda sandboxes
  (`lambda_worker.py` in a subprocess), `model_server.py` serves SageMaker endpoints from model
  workers (`model_worker.py`) and writes data capture (`data_capture.py`); both log to moto's
  CloudWatch Logs (`cloudwatch_logs.py`) and talk to their workers through `worker_process.py`,
  `worker_channel.py` and `framing.py`. `active.py` holds the running server's runtimes, which
  the service modules hand invocations to.
- CloudWatch metrics: what runs publishes what AWS publishes, all through one function,
  `runtime/cloudwatch_metrics.py` (`publish(account, region, namespace, [Datum])`, the way
  PutMetricData stores a datapoint in moto's backend): `AWS/Lambda` from `lambda_runtime.py`
  (Invocations, Errors, Duration) and `services/lambda_.py` (Throttles), `AWS/ApiGateway` from
  `services/apigateway.py`, `AWS/States` from
  `services/stepfunctions_metrics.py` (hooks on moto's execution start and end), `AWS/SageMaker`
  from `model_server.py`, and embedded-metric-format log lines from `cloudwatch_logs.py`
  (parsed by `runtime/emf.py`). docs/emulator.md lists them with their AWS sources.
- Fault injection: `faults.py` (typed faults and the `FaultRegistry` each `LocalAWS` has as
  `.faults`), `fault_api.py` (the registry over HTTP at `/_scones/faults`, and `FaultClient`),
  `scones local fault add|list|clear` in `cli.py`. Each fault acts where the real failure
  happens: `LambdaError` in `lambda_runtime.py`, `LambdaThrottle` in `services/lambda_.py`,
  `EndpointError`/`EndpointLatency` in `model_server.py`, `S3ReadDenied` in `services/s3.py`.

To add an emulated behaviour: put it in the module of its AWS service under `services/` (a new
service gets a new module with one idempotent `install()`, added to `MOTO_EXTENSIONS` in
`server.py`, the one list of what is installed); a patch that only makes moto faster goes in
`speedups.py` with its measurement. Test it through `LocalAWS` and boto3, as a user would, in
`tests/unit/local/` (helpers in `tests/support/local_fixtures.py`).
"""
