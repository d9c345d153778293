"""Step Functions Distributed Map (`ProcessorConfig.Mode: DISTRIBUTED`), as AWS runs it.

moto's interpreter has a partial Distributed Map. Here:

- `ItemReader` with `arn:aws:states:::s3:listObjectsV2` lists EVERY page of the prefix (moto read
  only the first 1000 keys, and failed on an empty prefix, whose response has no `Contents`).
  Each item has the shape the ItemReader page shows for S3 objects: `Etag`, `Key`,
  `LastModified` (epoch seconds), `Size`, `StorageClass`; `ReaderConfig.MaxItems` keeps the first
  N ("ItemReader (Map)", https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html).
- Each item's child run is recorded (status, input, output, or error and cause, dates, a child
  execution ARN under the Map Run's state machine ARN). moto dropped a failed item's error.
- `ToleratedFailureCount` / `ToleratedFailurePercentage`: the Map Run fails with
  `States.ExceedToleratedFailureThreshold` when the failed (or timed-out) items exceed either
  threshold that is set; with neither set the tolerance is zero, so one failed item fails it. The
  percentage is failed items / all items; it may be written as an integer (moto's grammar wanted
  a decimal). ("Tolerated failure threshold for Distributed Map state",
  https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).
  `ProcessorConfig.ExecutionType` may be EXPRESS (moto's grammar refused it).
  moto never failed a Map Run for its items.
- Without a ResultWriter, a failed item appears in the Map state's output as its execution
  result unchanged (ExecutionArn, Input, Status "FAILED", Error, Cause, ...), as the
  ResultWriter page's note on failed child executions says; moto gave `null`.
- `ResultWriter` with `arn:aws:states:::s3:putObject` writes, under `<Prefix>/<map run id>/`,
  `SUCCEEDED_0.json`, `FAILED_0.json`, `PENDING_0.json` (JSON arrays of child execution results,
  only the statuses that have items) and `manifest.json` (DestinationBucket, MapRunArn,
  ResultFiles by status with each file's Key and Size), and the state's output is
  `{"MapRunArn", "ResultWriterDetails": {"Bucket", "Key"}}` ("ResultWriter (Map)",
  https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html). moto
  wrote a manifest listing no files. A result's Input is the child's input (the item after
  ItemSelector). A Map Run that fails on its threshold writes no results here.
- S3 refusing the listing or a write (a missing bucket, the role's missing permission) fails the
  Map state with `States.ItemReaderFailed` or `States.ResultWriterFailed` (the ResultWriter page
  names the latter), the S3 error as the cause; moto reported an interpreter error.

Child runs stay in process (moto's item processor workers), at most `MAX_WORKERS` at a time
whatever `MaxConcurrency` says: moto started one thread per item when MaxConcurrency is 0.
S3 calls go through the Task states' client, so with IAM enforced they are the role's.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import uuid
from typing import Any

from botocore.exceptions import ClientError
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import EvalTimeoutError
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import (
    resource_eval_s3 as reader_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.item_reader_decl import ItemReader
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.csv_header_location import (
    CSVHeaderLocation,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.csv_headers import (
    CSVHeaders,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.input_type import InputType
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.max_items_decl import (
    MaxItemsDecl,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.reader_config_decl import (
    ReaderConfig,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.reader_config.reader_config_props import (
    ReaderConfigProps,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
    distributed_iteration_component as iteration,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    distributed_item_processor_worker as item_worker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.map_run_record import (
    MapRunRecord,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
    resource_eval_s3 as writer_s3,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.state_map import StateMap
from moto.stepfunctions.parser.asl.component.state.exec.state_map.tolerated_failure import (
    ToleratedFailureCountDecl,
    ToleratedFailureCountInt,
    ToleratedFailurePercentage,
    ToleratedFailurePercentageDecl,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str

from scones.local.services import stepfunctions_item_batcher as item_batcher
from scones.local.services.stepfunctions_errors import states_failure

# Child runs at once, per Map Run. Enough to keep the emulator's Lambda sandboxes busy.
MAX_WORKERS = 40
EXCEEDED = StatesErrorNameType.StatesExceedToleratedFailureThreshold
EXCEEDED_CAUSE = "The specified tolerated failure threshold was exceeded"
STATUSES = ("SUCCEEDED", "FAILED", "PENDING")


class _Unset(int):
    """A tolerance the definition does not set (0, but not a threshold of its own)."""


class _UnsetPercentage(float):
    """A percentage the definition does not set (0.0, but not a threshold of its own)."""


# -- ItemReader: every page, AWS's item shape, MaxItems ---------------------------------------------


def _s3_object_item(listed: dict[str, Any]) -> dict[str, Any]:
    modified = listed.get("LastModified")
    return {
        "Etag": listed.get("ETag", ""),
        "Key": listed["Key"],
        "LastModified": int(modified.timestamp()) if isinstance(modified, datetime.datetime) else modified,
        "Size": listed.get("Size", 0),
        "StorageClass": listed.get("StorageClass", "STANDARD"),
    }


def _list_objects_v2(env: Environment, resource_runtime_part: Any, state_credentials: Any) -> None:
    parameters = dict(env.stack.pop())
    s3 = sfn_boto_client.boto_client_for(resource_runtime_part.region, "s3", state_credentials)
    items: list[dict[str, Any]] = []
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(**parameters):
            items += [_s3_object_item(listed) for listed in page.get("Contents", [])]
    except ClientError as exc:
        raise states_failure(env, StatesErrorNameType.StatesItemReaderFailed, str(exc)) from None
    env.stack.append(items)


def _item_reader_eval_body(self: ItemReader, env: Environment) -> None:
    reader_config = None
    if self.reader_config:
        self.reader_config.eval(env=env)
        reader_config = env.stack.pop()
    if self.parargs:
        self.parargs.eval(env=env)
    else:
        env.stack.append({})
    self.resource_eval.eval_resource(env=env)
    if reader_config is None:
        return
    if self.resource_output_transformer is not None:
        env.stack.append(reader_config)
        self.resource_output_transformer.eval(env=env)
    max_items = reader_config.get("MaxItemsValue") or 0
    if max_items > 0:
        env.stack.append(env.stack.pop()[:max_items])


def _visit_reader_config(self: Preprocessor, ctx: Any) -> ReaderConfig:
    """moto's, without requiring InputType: a listing's ReaderConfig has only MaxItems."""
    props = ReaderConfigProps()
    for child in ctx.children:
        props.add(self.visit(child))
    return ReaderConfig(
        input_type=props.get(typ=InputType),
        max_items_decl=props.get(typ=MaxItemsDecl),
        csv_header_location=props.get(CSVHeaderLocation),
        csv_headers=props.get(CSVHeaders),
    )


_original_reader_config_eval_body = ReaderConfig._eval_body


def _reader_config_eval_body(self: ReaderConfig, env: Environment) -> None:
    if self.input_type is not None:
        _original_reader_config_eval_body(self, env)
        return
    self.max_items_decl.eval(env=env)
    env.stack.append({"MaxItemsValue": env.stack.pop()})


# moto's grammar takes ToleratedFailurePercentage only as a decimal ("25.0"); AWS takes any JSON
# number, and Terraform's jsonencode writes 25. It also refuses `"ExecutionType": "EXPRESS"` in a
# ProcessorConfig, which AWS accepts (Express child workflows); child runs are in process here
# either way. The definition is rewritten for the parser only: DescribeStateMachine keeps it.
_INTEGER_PERCENTAGE = re.compile(r'("ToleratedFailurePercentage"\s*:\s*)(\d+)(?=\s*[,}])')
_EXPRESS_CHILDREN = re.compile(r'("ExecutionType"\s*:\s*)"EXPRESS"')
_original_parse = AmazonStateLanguageParser.parse


def _parse(definition: str) -> Any:
    batchers: dict[Any, item_batcher.ItemBatcher] = {}
    if "ItemBatcher" in definition:
        try:
            machine = json.loads(definition)
        except ValueError:
            machine = None  # moto's parser names what is wrong with it
        if isinstance(machine, dict):
            batchers = item_batcher.take_out(machine)
            definition = json.dumps(machine)
    definition = _INTEGER_PERCENTAGE.sub(r"\g<1>\g<2>.0", definition)
    parsed = _original_parse(_EXPRESS_CHILDREN.sub(r'\g<1>"STANDARD"', definition))
    item_batcher.attach(parsed[0], batchers)
    return parsed


_original_item_reader_init = ItemReader.__init__


def _item_reader_init(self: ItemReader, resource: Any, parargs: Any, reader_config: Any) -> None:
    # A ReaderConfig without InputType (MaxItems over a listing) has no output transformer; moto
    # required one.
    if reader_config is not None and getattr(reader_config, "input_type", None) is None:
        _original_item_reader_init(self, resource, parargs, None)
        self.reader_config = reader_config
        return
    _original_item_reader_init(self, resource, parargs, reader_config)


# -- Each item's child run, recorded ------------------------------------------------------------------


def _records(record: MapRunRecord) -> dict[int, dict[str, Any]]:
    return record.__dict__.setdefault("scones_items", {})


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _child_result(
    record: MapRunRecord,
    job: Any,
    child_input: Any,
    status: str,
    started: datetime.datetime,
    output: Any,
    failure: tuple[str, str],
) -> dict[str, Any]:
    name = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{record.map_run_arn}/{job.job_index}"))
    machine = record.map_state_machine_arn
    result: dict[str, Any] = {
        "ExecutionArn": machine.replace(":stateMachine:", ":execution:") + f":{name}",
        "Input": to_json_str(child_input),
        "InputDetails": {"Included": True},
        "Name": name,
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "StartDate": _iso(started),
        "StateMachineArn": machine,
        "Status": status,
        "StopDate": _iso(datetime.datetime.now(tz=datetime.UTC)),
    }
    if status == "SUCCEEDED":
        result["Output"] = to_json_str(output)
        result["OutputDetails"] = {"Included": True}
        result["RedriveStatusReason"] = "Execution is SUCCEEDED and cannot be redriven"
    else:
        result["Error"], result["Cause"] = failure
    return result


def _eval_job(self: item_worker.DistributedItemProcessorWorker, env: Environment, job: Any) -> None:
    """moto's `_eval_job`, keeping each item's outcome (its error and cause included)."""
    record = self._map_run_record
    batcher: item_batcher.ItemBatcher | None = record.__dict__.get("scones_batcher")
    # With an ItemBatcher a child runs a batch: items are counted one by one, executions once.
    items = len(job.job_input) if batcher is not None else 1
    _item_counts(record)[job.job_index] = items
    record.item_counter.total.count(items)
    record.item_counter.running.count(items)
    record.execution_counter.total.count()
    record.execution_counter.running.count()
    started = datetime.datetime.now(tz=datetime.UTC)
    status, output, failure = "FAILED", None, ("", "")
    # The child execution's input is the item after ItemSelector, as AWS writes it in the results.
    child_input: Any = job.job_input
    try:
        if batcher is not None:
            child_input = batcher.child_input([_selected(self, env, job.job_index, item) for item in job.job_input])
            env.states.reset(child_input)
            env.stack.append(child_input)  # the program's first state reads its input from the stack top
        else:
            child_input = _selected(self, env, job.job_index, job.job_input)
        job.job_program.eval(env)
        end_state = env.program_state()
        if isinstance(end_state, ProgramError):
            details = end_state.error or {}
            failure = (str(details.get("error", "")), str(details.get("cause", "")))
        elif isinstance(end_state, ProgramStopped):
            status = "ABORTED"
        else:
            status, output = "SUCCEEDED", env.states.get_input()
    except EvalTimeoutError:
        status, failure = "TIMED_OUT", ("States.Timeout", "")
    except FailureEventException as failed:
        pair = failed.extract_error_cause_pair()
        failure = (str(pair[0] or ""), str(pair[1] or "")) if pair else ("States.TaskFailed", "")
    except Exception as exc:  # an interpreter error fails the item, not the Map Run (as moto did)
        failure = ("States.Runtime", f"{type(exc).__name__}: {exc}")
    finally:
        record.item_counter.running.offset(-items)
        record.execution_counter.running.offset(-1)
    counts = {"SUCCEEDED": "succeeded", "ABORTED": "aborted", "TIMED_OUT": "timed_out"}.get(status, "failed")
    getattr(record.item_counter, counts).count(items)
    getattr(record.execution_counter, counts).count()
    if status == "SUCCEEDED":
        record.item_counter.results_written.count(items)
        record.execution_counter.results_written.count()
    result = _child_result(record, job, child_input, status, started, output, failure)
    _records(record)[job.job_index] = result
    job.job_output = output if status == "SUCCEEDED" else result


def _selected(worker: Any, env: Environment, index: int, item: Any) -> Any:
    """The item after ItemSelector (which sees it as $$.Map.Item.Value), as the child's state input."""
    env.states.context_object.context_object_data["Map"] = MapData(Item=ItemData(Index=index, Value=item))
    env.states.reset(item)
    env.stack.append(env.states.get_input())
    worker._eval_input(env_frame=env)
    return env.states.get_input()


def _item_counts(record: MapRunRecord) -> dict[int, int]:
    """{child's job index: its items} (1 each without an ItemBatcher)."""
    return record.__dict__.setdefault("scones_item_counts", {})


# -- Tolerated failures ---------------------------------------------------------------------------


def _exceeds(failed: int, total: int, count: int, percentage: float) -> bool:
    count_set, percentage_set = not isinstance(count, _Unset), not isinstance(percentage, _UnsetPercentage)
    if not count_set and not percentage_set:
        return failed > 0
    over_count = count_set and failed > count
    over_percentage = percentage_set and total > 0 and failed * 100.0 / total > percentage
    return over_count or over_percentage


_original_map_run = iteration.DistributedIterationComponent._map_run


def _map_run(self: Any, env: Environment, eval_input: Any) -> None:
    record: MapRunRecord = eval_input.map_run_record
    _records(record)  # an empty Map Run has a record too
    saved = record.max_concurrency
    items = env.stack[-1] if env.stack else []
    batcher = item_batcher.of(self)
    jobs = items
    if batcher is not None and env.stack:
        record.__dict__["scones_batcher"] = batcher
        jobs = env.stack[-1] = batcher.batches(items)
    wanted = saved if saved else len(jobs)
    record.max_concurrency = max(1, min(wanted, MAX_WORKERS))
    try:
        _original_map_run(self, env, eval_input)
    finally:
        record.max_concurrency = saved
    # A failed child fails every item of its batch.
    counts = _item_counts(record)
    records = _records(record)
    failed = sum(
        counts.get(index, 1) for index, result in records.items() if result["Status"] in ("FAILED", "TIMED_OUT")
    )
    if _exceeds(failed, len(items), eval_input.tolerated_failure_count, eval_input.tolerated_failure_percentage):
        raise states_failure(env, EXCEEDED, EXCEEDED_CAUSE)


_original_from_state_props = StateMap.from_state_props


class _StateNameLabel:
    """A Map Run's label when the state has none: its name, as in AWS's Map Run ARNs
    (arn:aws:states:REGION:ACCOUNT:mapRun:MACHINE/STATE:ID); moto put a random id there."""

    def __init__(self, name: str) -> None:
        self.label = name


def _from_state_props(self: StateMap, state_props: Any) -> None:
    _original_from_state_props(self, state_props)
    if self.label is None:
        self.label = _StateNameLabel(self.name)  # type: ignore[assignment]
    if state_props.get(ToleratedFailureCountDecl) is None:
        self.tolerated_failure_count_decl = ToleratedFailureCountInt(_Unset(0))
    if state_props.get(ToleratedFailurePercentageDecl) is None:
        self.tolerated_failure_percentage_decl = ToleratedFailurePercentage(_UnsetPercentage(0.0))


# -- ResultWriter: the result files and their manifest ---------------------------------------------


def result_files(record: MapRunRecord, bucket: str, prefix: str) -> tuple[dict[str, bytes], dict[str, Any]]:
    """({key: body} of the result files, the manifest) of a Map Run, as ResultWriter writes them."""
    run_id = record.map_run_arn.split(":")[-1]
    base = f"{prefix.rstrip('/')}/{run_id}/" if prefix else f"{run_id}/"
    by_status: dict[str, list[dict[str, Any]]] = {status: [] for status in STATUSES}
    for index in sorted(_records(record)):
        result = _records(record)[index]
        # A timed-out or aborted child is not a success: it goes with the failed ones.
        by_status["SUCCEEDED" if result["Status"] == "SUCCEEDED" else "FAILED"].append(result)
    bodies: dict[str, bytes] = {}
    listed: dict[str, list[dict[str, Any]]] = {status: [] for status in STATUSES}
    for status in STATUSES:
        if by_status[status]:
            key = f"{base}{status}_0.json"
            bodies[key] = json.dumps(by_status[status]).encode()
            listed[status].append({"Key": key, "Size": len(bodies[key])})
    manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn, "ResultFiles": listed}
    bodies[f"{base}manifest.json"] = json.dumps(manifest).encode()
    return bodies, manifest


def _put_object(env: Environment, resource_runtime_part: Any, state_credentials: Any) -> None:
    parameters = env.stack.pop()
    env.stack.pop()  # the items' outputs: the files are written from the Map Run's record
    record = env.map_run_record_pool_manager.get_all()[-1]
    bucket, prefix = parameters["Bucket"], parameters.get("Prefix", "")
    s3 = sfn_boto_client.boto_client_for(resource_runtime_part.region, "s3", state_credentials)
    bodies, _ = result_files(record, bucket, prefix)
    try:
        for key, body in bodies.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
    except ClientError as exc:
        raise states_failure(env, StatesErrorNameType.StatesResultWriterFailed, str(exc)) from None
    manifest_key = next(key for key in bodies if key.endswith("/manifest.json"))
    env.stack.append({"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": manifest_key}})


def _not_the_tolerance_warning(record: logging.LogRecord) -> bool:
    # moto's parser warns that tolerances have no effect; here they have.
    return not str(record.msg).startswith("ToleratedFailure")


def install() -> None:
    preprocessor_log = logging.getLogger("moto.stepfunctions.parser.asl.parse.preprocessor")
    if _not_the_tolerance_warning not in preprocessor_log.filters:
        preprocessor_log.addFilter(_not_the_tolerance_warning)
    reader_s3.ResourceEvalS3._handle_list_objects_v2 = staticmethod(_list_objects_v2)  # type: ignore[method-assign]
    writer_s3.ResourceEvalS3._handle_put_object = staticmethod(_put_object)  # type: ignore[method-assign]
    ItemReader._eval_body = _item_reader_eval_body  # type: ignore[method-assign]
    ItemReader.__init__ = _item_reader_init  # type: ignore[method-assign]
    ReaderConfig._eval_body = _reader_config_eval_body  # type: ignore[method-assign]
    Preprocessor.visitReader_config_decl = _visit_reader_config
    AmazonStateLanguageParser.parse = staticmethod(_parse)  # type: ignore[method-assign]  # type: ignore[method-assign]
    item_worker.DistributedItemProcessorWorker._eval_job = _eval_job  # type: ignore[method-assign]
    iteration.DistributedIterationComponent._map_run = _map_run  # type: ignore[method-assign]
    StateMap.from_state_props = _from_state_props  # type: ignore[method-assign]
