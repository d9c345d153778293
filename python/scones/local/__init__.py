"""The local AWS emulator: moto's server plus what moto lacks for this system.

The parts:

- The background process, `scones local up|down|status|env`: `cli.py` (the commands),
  `control.py` (start, stop and find the daemon and its process group), `daemon.py` (the process
  itself), `state.py` (its `state.json`), `inventory.py` (what is deployed, for `status`).
- The server: `server.py` (`LocalAWS`: moto's WSGI app on 127.0.0.1, in a thread) and
  `retry_replay.py` (middleware that answers an SDK's retry with the first attempt's answer).
- What the emulator changes in moto: `services/`, one module per AWS service (`lambda_.py`,
  `stepfunctions.py`, `sagemaker.py`, `sagemaker_runtime.py`, `application_autoscaling.py`,
  `s3.py`, `sns.py`: the record of what each topic sent, served over HTTP and read by
  `notifications.py` and `scones local notifications`), and `speedups.py` (shortcuts that
  change how fast moto answers, never what; each with the measurement that justified it).
- What runs the deployed code: `runtime/`. `lambda_runtime.py` keeps warm Lambda sandboxes
  (`lambda_worker.py` in a subprocess), `model_server.py` serves SageMaker endpoints from model
  workers (`model_worker.py`) and writes data capture (`data_capture.py`); both log to moto's
  CloudWatch Logs (`cloudwatch_logs.py`) and talk to their workers through `worker_process.py`,
  `worker_channel.py` and `framing.py`. `active.py` holds the running server's runtimes, which
  the service modules hand invocations to.

To add an emulated behaviour: put it in the module of its AWS service under `services/` (a new
service gets a new module with one idempotent `install()`, added to `MOTO_EXTENSIONS` in
`server.py`, the one list of what is installed); a patch that only makes moto faster goes in
`speedups.py` with its measurement. Test it through `LocalAWS` and boto3, as a user would, in
`tests/unit/local/` (helpers in `tests/support/local_fixtures.py`).
"""
