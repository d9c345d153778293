"""The summary of a saved plan, from `terraform show -json` of real release plans of the local root (trimmed
to the fields the summary reads: tests/unit/release/data/)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scones.release.plan_file import summarize, summary_path, write_summary

DATA = Path(__file__).parent / "data"
OLD = "s3://scones-local-data-123456789012-us-east-1/models/local-20261204-000431/model.tar.gz"
NEW = "s3://scones-local-data-123456789012-us-east-1/models/local-20261204-000431/fails-in-serving/model.tar.gz"


def _plan(name: str) -> dict[str, Any]:
    return dict(json.loads((DATA / f"plan_{name}_model.json").read_text()))


def test_a_new_model_replaces_the_model_and_configuration_and_updates_the_endpoint() -> None:
    summary = summarize(_plan("update"))
    assert summary.headline() == "1 to update, 2 to replace"
    assert summary.changes == [
        {"address": "module.stack.module.endpoint.aws_sagemaker_endpoint.this[0]", "action": "update"},
        {"address": "module.stack.module.endpoint.aws_sagemaker_endpoint_configuration.this[0]", "action": "replace"},
        {"address": "module.stack.module.endpoint.aws_sagemaker_model.this[0]", "action": "replace"},
    ]
    assert summary.model is not None
    assert (summary.model["before"]["model_data_url"], summary.model["after"]["model_data_url"]) == (OLD, NEW)


def test_the_markdown_shows_the_model_before_and_after_and_every_change() -> None:
    text = summarize(_plan("update")).markdown()
    assert text.startswith("**Plan:** 1 to update, 2 to replace\n")
    assert f"| model_data_url | `{OLD}` | `{NEW}` |" in text
    assert "-/+ module.stack.module.endpoint.aws_sagemaker_model.this[0]" in text
    assert "Destroys" not in text  # a replacement is how a model ships


def test_the_first_model_creates_the_endpoint() -> None:
    summary = summarize(_plan("create"))
    assert summary.counts["create"] == 8 and summary.counts["delete"] == 0
    assert summary.model is not None and summary.model["before"] == {}
    assert summary.model["after"]["model_data_url"].endswith("/model.tar.gz")


def test_a_plan_of_no_ops_changes_nothing() -> None:
    plan = _plan("update")
    for change in plan["resource_changes"]:
        change["change"]["actions"] = ["no-op"]
    summary = summarize(plan)
    assert not summary.has_changes and summary.headline() == "no changes" and summary.changes == []


def test_a_destroy_is_called_out() -> None:
    plan = _plan("update")
    for change in plan["resource_changes"]:
        if change["type"] == "aws_sagemaker_endpoint":
            change["change"]["actions"] = ["delete"]
    text = summarize(plan).markdown()
    assert "> **Destroys 1 resource(s)**" in text
    assert "  - module.stack.module.endpoint.aws_sagemaker_endpoint.this[0]" in text


def test_the_summary_is_written_next_to_the_plan_file(tmp_path: Path) -> None:
    plan_file = tmp_path / "dev.tfplan"
    write_summary(plan_file, _plan("update"))
    assert summary_path(plan_file) == tmp_path / "dev.tfplan.summary.md"
    assert summary_path(plan_file).read_text().startswith("**Plan:** 1 to update, 2 to replace")
