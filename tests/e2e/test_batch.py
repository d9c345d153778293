"""End to end on the local emulator: `scones batch` over the 200 test images of one applied stack (the committed
trained model, tests/support/e2e_stacks.trained_stack), with two objects that are not images among them; an empty
prefix; a prefix over the batch's MaxItems, refused before anything starts; a prefix outside the batch's
input_prefix, refused its listing (the role's s3:prefix condition, enforced by the emulator). The local root runs
the chunked variant (10 images per chunk, the default: ItemBatcher, classify_chunk); the last test applies the
same stack again with one image per child and checks the per-item design summarizes a batch of 22 of the objects
(copied under data/compared/) as the chunked one does.

The stack's batch_max_items is 202, the test prefix's objects exactly (200 images and the two others), so the
bucket's whole data/ prefix (the same and data/test.lst) is one over it. One batch runs over the test prefix,
and its summary is read once (`test_batch`); every test reads it or runs what it adds itself.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner

from scones.batch import BatchMachine, Item, read_items
from scones.batch_cli import batch_cmd
from tests.support.e2e_stacks import Stack, trained_stack
from tests.support.iam_statements import inline_policy, without_statement

pytestmark = pytest.mark.e2e
NOT_IMAGES = {"data/test/bicycle/notes.txt": b"not an image at all\n", "data/test/motorcycle/broken.png": b""}
MAX_ITEMS = 202


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with trained_stack(tmp_path_factory.mktemp("e2e-batch"), {"batch_max_items": str(MAX_ITEMS)}) as deployed:
        s3 = deployed.client("s3")
        for key, body in NOT_IMAGES.items():
            s3.put_object(Bucket=deployed.bucket, Key=key, Body=body)
        yield deployed


def _machine_arn(stack: Stack) -> str:
    return str(stack.deployment.outputs["stack"]["batch_state_machine_arn"])


@dataclass
class Batch:
    summary: dict[str, Any]
    items: dict[str, Item]
    seconds: float
    stderr: str


def _run(stack: Stack, prefix: str) -> Batch:
    """A batch over `prefix` that succeeds: its summary and every item of its results."""
    started = time.monotonic()
    result = stack.batch(prefix)
    seconds = time.monotonic() - started
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    bucket, manifest = summary["results"].removeprefix("s3://").split("/", 1)
    items = {item.key: item for item in read_items(stack.client("s3"), bucket, manifest)}
    return Batch(summary, items, seconds, result.stderr)


@pytest.fixture(scope="module")
def test_batch(stack: Stack) -> Batch:
    return _run(stack, "data/test/")


def test_a_batch_classifies_every_test_image_and_fails_the_others_by_name(stack: Stack, test_batch: Batch) -> None:
    summary, items = test_batch.summary, test_batch.items
    assert summary["status"] == "SUCCEEDED"
    assert set(items) == {*stack.confidences, *NOT_IMAGES}
    counted = sum(summary["classified"].values()) + summary["low_confidence"] + summary["out_of_distribution"]
    assert summary["total"] == len(items) == counted + summary["failed"] == 202
    # The two objects that are not images: failed items with SerializeImage's error name; the batch went on.
    assert summary["failed_items"] == [
        {"key": "data/test/bicycle/notes.txt", "error": "InvalidImageError"},
        {"key": "data/test/motorcycle/broken.png", "error": "InvalidImageError"},
    ]
    # Each image's verdict and probabilities are what the served model says about it (scored apart, in process).
    for key, (confidence, probabilities) in stack.confidences.items():
        item = items[key]
        assert item.probabilities == pytest.approx(probabilities, abs=1e-5)
        if key in stack.flagged:
            assert item.verdict == "out_of_distribution", key
        else:
            assert item.verdict == ("classified" if confidence >= stack.threshold else "low_confidence"), key
    verdicts = [item.verdict for item in items.values()]
    assert summary["low_confidence"] == verdicts.count("low_confidence") > 0
    assert summary["classified"] == {
        name: sum(1 for item in items.values() if item.verdict == "classified" and item.predicted_class == name)
        for name in ("bicycle", "motorcycle")
    }
    # Accuracy against the class folders, over every image the model answered.
    correct = sum(item.predicted_class == item.true_class for item in items.values() if item.verdict)
    assert (summary["labelled"], summary["correct"]) == (200, correct)
    assert summary["accuracy"] == pytest.approx(correct / 200) and summary["accuracy"] > 0.7
    print(f"\nbatch of 202 objects: {test_batch.seconds:.1f} s, accuracy {summary['accuracy']:.1%}")


def test_the_batch_shows_progress_and_leaves_its_summary_beside_the_results(stack: Stack, test_batch: Batch) -> None:
    assert "/202 items done" in test_batch.stderr
    # The chunked Map Run counts only chunks that failed whole; the two non-images are failed items of the summary.
    assert "202/202 items done, 0 in failed chunks of 10" in test_batch.stderr
    summary = test_batch.summary
    results_prefix = stack.deployment.outputs["stack"]["batch_results_prefix"]
    assert summary["results"].startswith(f"s3://{stack.bucket}/{results_prefix}/")
    assert summary["results"].endswith("/manifest.json")
    key = summary["summary"].removeprefix(f"s3://{stack.bucket}/")
    assert key == summary["results"].removeprefix(f"s3://{stack.bucket}/").replace("manifest.json", "summary.json")
    stored = json.loads(stack.client("s3").get_object(Bucket=stack.bucket, Key=key)["Body"].read())
    assert stored == {name: value for name, value in summary.items() if name != "summary"}


def test_an_empty_prefix_ends_cleanly_with_an_empty_summary(stack: Stack) -> None:
    result = stack.batch("data/nothing-here/")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "SUCCEEDED"
    assert (summary["total"], summary["failed"], summary["failed_items"]) == (0, 0, [])
    assert summary["classified"] == {"bicycle": 0, "motorcycle": 0}


def test_a_prefix_over_max_items_is_refused_before_anything_starts(stack: Stack) -> None:
    sfn = stack.client("stepfunctions")
    arn = _machine_arn(stack)
    assert BatchMachine.describe(sfn, arn).max_items == MAX_ITEMS
    before = sfn.list_executions(stateMachineArn=arn)["executions"]
    result = CliRunner().invoke(
        batch_cmd, ["--prefix", "data/", "--state-machine-arn", arn, "--endpoint-url", stack.deployment.url]
    )
    assert result.exit_code == 1
    assert f"holds more than {MAX_ITEMS} objects, the batch's limit (batch_max_items): nothing was started" in (
        result.output
    )
    assert sfn.list_executions(stateMachineArn=arn)["executions"] == before


def _batch_role(stack: Stack) -> str:
    role = stack.client("stepfunctions").describe_state_machine(stateMachineArn=_machine_arn(stack))["roleArn"]
    return str(role).rsplit("/", 1)[-1]


@pytest.mark.parametrize(
    ("sid", "error", "cause"),
    [
        ("WriteResults", "States.ResultWriterFailed", "not authorized to perform: s3:PutObject"),
        ("ListInputPrefix", "States.ItemReaderFailed", "not authorized to perform: s3:ListBucket"),
    ],
    ids=["WriteResults", "ListInputPrefix"],
)
def test_the_batch_role_needs_its_listing_and_result_writing_statements(
    stack: Stack, sid: str, error: str, cause: str
) -> None:
    """The emulator enforces IAM: without either statement, a batch of one image fails with the Map's reader or
    writer error. (Without the Lambda statement its item would fail too, after the retries' 10 s of backoff:
    left out for time.)"""
    iam, role = stack.client("iam"), _batch_role(stack)
    with without_statement(iam, role, inline_policy(iam, role), sid):
        result = stack.batch(sorted(stack.confidences)[0])
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["error"]) == ("FAILED", error)
    assert f"assumed-role/{role}/StepFunctions is {cause}" in summary["cause"]


def test_a_batch_outside_the_input_prefix_is_refused_its_listing(stack: Stack) -> None:
    """The role may list only under the batch's input_prefix (data/, the ListInputPrefix statement's s3:prefix
    condition): a prefix elsewhere in the bucket fails the Map's ItemReader, whatever the prefix holds."""
    stack.client("s3").put_object(Bucket=stack.bucket, Key="elsewhere/red.png", Body=b"x")
    result = stack.batch("elsewhere/")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["error"]) == ("FAILED", "States.ItemReaderFailed")
    assert "(AccessDenied) when calling the ListObjectsV2 operation" in summary["cause"]
    assert f'not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::{stack.bucket}"' in summary["cause"]


def test_a_batch_over_its_tolerated_failures_fails_and_says_so(stack: Stack) -> None:
    # Only the empty object: one failed item of one, over the 10 % tolerated (batch_tolerated_failure_percentage).
    # In the chunked variant the image's failure is its chunk's result, so `scones batch` applies the threshold.
    result = stack.batch("data/test/motorcycle/broken")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert (summary["status"], summary["error"]) == ("SUCCEEDED", "TooManyFailedItems")
    assert summary["failed_items"] == [{"key": "data/test/motorcycle/broken.png", "error": "InvalidImageError"}]
    assert "the batch ended SUCCEEDED with TooManyFailedItems: 1 of 1 items failed" in result.stderr


# The per-item comparison's objects: ten images of each class, low-confidence ones among them, and both objects
# that are not images, copied under a prefix of their own (class folders kept, so accuracy is counted the same).
COMPARED = "data/compared/"


def _compared_objects(stack: Stack) -> list[str]:
    """Copy the comparison's objects under COMPARED; their keys there."""
    low = sorted(key for key, (confidence, _) in stack.in_distribution().items() if confidence < stack.threshold)
    chosen = set(low[:4])
    for folder in ("bicycle", "motorcycle"):
        mine = sorted(key for key in stack.confidences if f"/{folder}/" in key and key not in chosen)
        chosen.update(mine[: 10 - sum(f"/{folder}/" in key for key in chosen)])
    chosen.update(NOT_IMAGES)
    s3 = stack.client("s3")
    for key in sorted(chosen):
        s3.copy_object(
            Bucket=stack.bucket,
            Key=COMPARED + key.removeprefix("data/test/"),
            CopySource={"Bucket": stack.bucket, "Key": key},
        )
    return sorted(COMPARED + key.removeprefix("data/test/") for key in chosen)


def test_one_image_per_child_summarizes_the_same_batch_the_same_way(stack: Stack) -> None:
    """The per-item design (the stack applied again with batch_items_per_chunk 1: three functions per image) over
    the same 22 objects as the chunked one: the same summary, item for item; and its Map Run applies the
    tolerance itself. (22 objects, not all 202: every per-item child runs three functions on the emulator, and
    the smaller batch already holds every kind of item.)"""
    keys = _compared_objects(stack)
    chunked = _run(stack, COMPARED)
    assert sorted(chunked.items) == keys
    assert chunked.summary["low_confidence"] > 0 and chunked.summary["failed"] == 2
    stack.deployment.config.extra_vars["batch_items_per_chunk"] = "1"  # and in every later apply
    stack.deployment.terraform.apply("terraform apply (one image per child)")
    assert BatchMachine.describe(stack.client("stepfunctions"), _machine_arn(stack)).items_per_chunk == 1
    per_item = _run(stack, COMPARED)
    assert "22/22 items done, 2 failed" in per_item.stderr
    ignored = ("results", "summary")
    assert {k: v for k, v in per_item.summary.items() if k not in ignored} == {
        k: v for k, v in chunked.summary.items() if k not in ignored
    }
    assert set(per_item.items) == set(chunked.items)
    for key, item in per_item.items.items():
        expected = chunked.items[key]
        assert (item.verdict, item.error) == (expected.verdict, expected.error), key
        if expected.probabilities is None:
            assert item.probabilities is None, key
        else:
            assert item.probabilities == pytest.approx(expected.probabilities, abs=1e-5), key
    tolerance = stack.batch("data/test/motorcycle/broken")
    assert tolerance.exit_code == 1
    assert json.loads(tolerance.stdout)["error"] == "States.ExceedToleratedFailureThreshold"
