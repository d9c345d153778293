"""The README and docs say what the code does: the state machine diagram, examples, deploy steps; and
docs/plan-testing.md documents what scones.plan_testing exports."""

from __future__ import annotations

import ast
import inspect
import itertools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import scones.plan_testing
from scones.bench import SEEDS
from scones.plan_testing import Plan
from scones.plan_testing import plugin as plan_testing_plugin

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
COMMANDS = (REPO / "docs" / "commands.md").read_text()
ASL = json.loads((REPO / "asl" / "classify_image.asl.json").read_text())


def section(heading: str, text: str = README) -> str:
    """The text (the README's by default) under `heading` up to the next heading of the same or a higher level."""
    level = heading.split()[0]
    start = text.index(heading + "\n") + len(heading) + 1
    ends = [m.start() for m in re.finditer(rf"^#{{1,{len(level)}}} ", text[start:], re.MULTILINE)]
    return text[start : start + ends[0]] if ends else text[start:]


def code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^ *```{language}\n(.*?)^ *```", text, re.MULTILINE | re.DOTALL)


# ------------------------------------------------------------------------------ make targets


# Every target `make help` lists is documented in docs/reference/make.md, generated from the Makefiles and
# checked by tests/unit/toolchain/test_reference.py.


def make_dry_run(*args: str) -> str:
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "data", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return " ".join(done.stdout.replace("\\\n", " ").split())


def test_make_data_stages_the_shipped_images_without_uploading() -> None:
    command = make_dry_run()
    assert 'scones prepare --source "data/cifar-100-python-bicycle-motorcycle.tar.gz" --no-upload' in command
    assert "--bucket" not in command


def test_make_data_uploads_when_given_a_bucket() -> None:
    command = make_dry_run("DATA_BUCKET=b", "DATA_PREFIX=p", "DATA_ENDPOINT_URL=http://127.0.0.1:4588")
    assert '--bucket "b" --prefix "p" --endpoint-url "http://127.0.0.1:4588"' in command
    assert "--no-upload" not in command


# ---------------------------------------------------------------------- architecture diagram

_NODE = re.compile(r"^(\w+)(?:\s*(?:\(\[|\[\(|\{\{|\[)(.*?)(?:\]\)|\)\]|\}\}|\]))?$")
_ARROW = re.compile(r"\s*(?:-\.->|-->)\s*(?:\|[^|]*\|)?\s*")


def diagram() -> tuple[dict[str, str], set[tuple[str, str]], list[tuple[str, str, str]]]:
    """Node labels by id, edges (source, target), and labelled edges (source, target, label)."""
    (block,) = code_blocks(section("### The workflow"), "mermaid")
    labels: dict[str, str] = {}
    edges: set[tuple[str, str]] = set()
    labelled: list[tuple[str, str, str]] = []
    for line in block.splitlines()[1:]:
        line = line.strip()
        if not line or line.startswith(("subgraph", "end")):
            continue
        arrows = [m.group(0).strip() for m in _ARROW.finditer(line)]
        groups: list[list[str]] = []
        for segment in _ARROW.split(line):
            ids = []
            for node in segment.split(" & "):
                match = _NODE.match(node.strip())
                assert match, f"cannot read node {node!r} in {line!r}"
                ids.append(match.group(1))
                if match.group(2):
                    labels[match.group(1)] = match.group(2)
            groups.append(ids)
        for (sources, targets), arrow in zip(itertools.pairwise(groups), arrows, strict=True):
            label = arrow.split("|")[1] if "|" in arrow else ""
            for source in sources:
                for target in targets:
                    edges.add((source, target))
                    labelled.append((source, target, label))
    return labels, edges, labelled


def node_named(labels: dict[str, str], name: str) -> str:
    (node,) = [node for node, label in labels.items() if label.split("<br/>")[0].split(" ")[0] == name]
    return node


def test_diagram_publishes_to_sns_from_the_state_machine_not_from_a_lambda() -> None:
    labels, edges, labelled = diagram()
    sns = node_named(labels, "SNS")
    publishers = {s for s, t in edges if t == sns}
    lambdas = {node for node, label in labels.items() if "λ" in label}
    assert {labels[node].split(" ")[0] for node in lambdas} == {
        name for name, state in ASL["States"].items() if state.get("Resource") == "arn:aws:states:::lambda:invoke"
    }
    assert not publishers & lambdas, "a Lambda is drawn publishing to SNS; the state machine does"

    notify_states = {name for name, state in ASL["States"].items() if state.get("Resource", "").endswith("sns:publish")}
    # The states the Lambda tasks' Catch clauses go to are the ones that publish.
    caught_by = {
        catch["Next"]: catch["ErrorEquals"]
        for state in ASL["States"].values()
        for catch in state.get("Catch", [])
        if state.get("Resource") == "arn:aws:states:::lambda:invoke"
    }
    assert set(caught_by) <= notify_states
    for state in caught_by:
        assert node_named(labels, state) in publishers, f"{state} is not drawn publishing to SNS"

    low_confidence = node_named(labels, "NotifyLowConfidence")
    assert caught_by["NotifyLowConfidence"] == ["ThresholdConfidenceNotMetError"]
    (label,) = [
        label for s, t, label in labelled if s == node_named(labels, "FilterLowConfidence") and t == low_confidence
    ]
    assert "ThresholdConfidenceNotMetError" in label


# ------------------------------------------------------------------------------- examples


def test_build_lambdas_section_has_a_runnable_example() -> None:
    blocks = code_blocks(section("## `scones build-lambdas`", COMMANDS), "sh")
    commands = [line.split("#")[0].split() for block in blocks for line in block.splitlines()]
    assert ["scones", "build-lambdas"] in commands
    from scones.build_lambdas import build_lambdas_cmd as build

    options = {opt for param in build.params for opt in param.opts}
    for command in commands:
        if command[:2] == ["scones", "build-lambdas"]:
            assert {word for word in command if word.startswith("--")} <= options


def test_bench_table_quotes_the_seeds() -> None:
    rows = {line.split(" | ")[0].strip("| "): line for line in section("## Figures").splitlines()}
    coverage = rows["coverage at 0.93"]
    assert f'"~{SEEDS["share_below_threshold"]:.0%}"' in coverage and f"{SEEDS['threshold']:g} threshold" in coverage
    assert "0.40" not in coverage
    assert f'"slightly over {SEEDS["validation_accuracy"]:.0%}"' in rows["test accuracy (200 real test images)"]


# -------------------------------------------------------------------------- deploy to AWS


def git_ignored(path: str) -> bool:
    done = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO, check=False)
    assert done.returncode in (0, 1), f"git check-ignore failed on {path}"
    return done.returncode == 0


@pytest.mark.parametrize("env", ["dev", "prod", "local", "staging"])
def test_environment_tfvars_are_not_committed(env: str) -> None:
    assert git_ignored(f"terraform/envs/{env}/terraform.tfvars")
    assert not git_ignored(f"terraform/envs/{env}/main.tf")
    assert "`terraform/envs/*/terraform.tfvars` is git-ignored" in README


@pytest.mark.parametrize("env", ["dev", "prod", "local", "staging"])
def test_the_model_tfvars_are_not_committed_in_any_environment(env: str) -> None:
    # Bucket names in them hold the account id; Terraform's state records the deployed model (issue 17, 3).
    assert git_ignored(f"terraform/envs/{env}/model.auto.tfvars.json")
    tracked = subprocess.run(
        ["git", "ls-files", "terraform/envs"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert "model.auto.tfvars.json" not in tracked.stdout
    assert "git-ignored for every environment" in section("## `scones tfvars`", COMMANDS)
    assert "stack` output" in (REPO / "docs" / "model-record.md").read_text()


def test_the_state_bucket_is_bootstrapped_by_the_command_that_works_in_every_region() -> None:
    # `aws s3api create-bucket --region R` without a location constraint fails outside us-east-1;
    # scones bootstrap-state (tests/unit/commands/test_bootstrap_state.py) sets it where S3 needs one.
    step = README[README.index("1. Bootstrap the state bucket") : README.index("2. Write `terraform/envs/dev/")]
    (block,) = code_blocks(step, "sh")
    assert "create-bucket" not in step
    assert [line.split()[:2] for line in block.splitlines()] == [["make", "bootstrap-state"]] * 2
    assert all("REGION=<region>" in line for line in block.splitlines())


# ------------------------------------------------------------------ plan-testing reference

PLAN_TESTING = (REPO / "docs" / "plan-testing.md").read_text()
_REFERENCE_HEADING = re.compile(r"^### `(?P<name>[\w.]+)(?P<signature>\(.*\))?`$", re.MULTILINE)


def reference_headings() -> dict[str, str | None]:
    """Name -> signature (None where the heading gives none) of every `### ` heading of the Reference."""
    reference = section("## Reference", PLAN_TESTING)
    return {m["name"]: m["signature"] for m in _REFERENCE_HEADING.finditer(reference)}


def bare_signature(obj: Any) -> str:
    """`(plan, allow=())`: the signature as the reference writes it, without annotations or self."""
    signature = inspect.signature(obj)
    parameters = [p.replace(annotation=inspect.Parameter.empty) for p in signature.parameters.values()]
    if parameters and parameters[0].name == "self":
        parameters = parameters[1:]
    return str(signature.replace(parameters=parameters, return_annotation=inspect.Signature.empty))


def test_plan_testing_reference_documents_exactly_the_public_names() -> None:
    documented = {name for name in reference_headings() if "." not in name}
    assert documented == set(scones.plan_testing.__all__)


def test_plan_testing_reference_signatures_are_the_code_s() -> None:
    for name, signature in reference_headings().items():
        if signature is None:
            continue
        obj: Any = scones.plan_testing
        for part in name.split("."):
            obj = getattr(obj, part)
        assert signature == bare_signature(obj), name


def table_names(text: str) -> set[str]:
    """The name in backticks that starts each row of the tables in `text` (`| `with_action(*actions)` |`)."""
    return set(re.findall(r"^\| `(\w+)", text, re.MULTILINE))


def test_plan_testing_reference_lists_every_member_of_plan() -> None:
    documented = table_names(section("### `Plan(root, raw)`", PLAN_TESTING))
    assert documented == {name for name in dir(Plan) if not name.startswith("_")}


def test_plan_testing_fixtures_table_lists_the_plugin_s_fixtures() -> None:
    documented = table_names(section("## Fixtures", PLAN_TESTING))
    defined = {
        name
        for name, obj in vars(plan_testing_plugin).items()
        if getattr(obj, "__module__", None) == plan_testing_plugin.__name__ and not name.startswith(("_", "pytest_"))
    }
    assert documented == defined


def test_plan_testing_examples_are_python_importing_public_names() -> None:
    blocks = code_blocks(PLAN_TESTING, "python")
    assert blocks
    for block in blocks:
        tree = ast.parse(block)
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "scones.plan_testing"
            for alias in node.names
        }
        assert imported <= set(scones.plan_testing.__all__)
