"""A short human summary of a saved Terraform plan, from `terraform show -json` of it, written next to
the plan file (`<plan>.summary.md`) for the reviewer and the release report.

What a reviewer of a model release looks for: how many resources are created, changed, replaced and
destroyed (a destroy stands out), and which model the endpoint moves to. Actions are read from
`resource_changes[].change.actions` ("JSON Output Format",
https://developer.hashicorp.com/terraform/internals/json-format#change-representation): ["create"],
["update"], ["delete"], a replacement as ["delete", "create"] or ["create", "delete"], and ["no-op"]
or ["read"] for nothing to do.

    python -m scones.release.plan_file PLAN_FILE [--chdir ROOT]   (what `make plan` runs)
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ACTIONS = ("create", "update", "replace", "delete")
_SYMBOL = {"create": "+", "update": "~", "replace": "-/+", "delete": "-"}
# The fields of a SageMaker model's container that say which model it serves.
_MODEL_FIELDS = ("model_package_name", "model_data_url", "image")


@dataclass
class PlanSummary:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ACTIONS, 0))
    changes: list[dict[str, str]] = field(default_factory=list)  # address, action
    model: dict[str, Any] | None = None  # the endpoint's model: before and after

    @property
    def has_changes(self) -> bool:
        return any(self.counts.values())

    def headline(self) -> str:
        if not self.has_changes:
            return "no changes"
        return ", ".join(f"{self.counts[action]} to {action}" for action in ACTIONS if self.counts[action])

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "headline": self.headline()}

    def markdown(self) -> str:
        lines = [f"**Plan:** {self.headline()}"]
        if self.counts["delete"]:
            # A replacement is the usual way a new model ships (name_prefix + create_before_destroy); a
            # delete removes something for good.
            lines += ["", f"> **Destroys {self.counts['delete']} resource(s)**: read the `-` lines below."]
        if self.model is not None:
            lines += ["", "| model | before | after |", "|---|---|---|"]
            for name in _MODEL_FIELDS:
                before, after = self.model["before"].get(name), self.model["after"].get(name)
                if before or after:
                    lines.append(f"| {name} | {_code(before)} | {_code(after)} |")
        if self.changes:
            lines += ["", "```"]
            lines += [f"{_SYMBOL[c['action']]:>3} {c['address']}" for c in self.changes]
            lines.append("```")
        return "\n".join(lines) + "\n"


def _code(value: Any) -> str:
    return f"`{value}`" if value else "-"


def _action(actions: list[str]) -> str | None:
    if sorted(actions) == ["create", "delete"]:
        return "replace"
    if len(actions) == 1 and actions[0] in ACTIONS:
        return actions[0]
    return None  # no-op, read


def _container(values: Any) -> dict[str, Any]:
    if not isinstance(values, dict):
        return {}
    containers = values.get("primary_container") or values.get("container") or []
    first = containers[0] if isinstance(containers, list) and containers else {}
    return {name: first.get(name) for name in _MODEL_FIELDS} if isinstance(first, dict) else {}


def summarize(plan: dict[str, Any]) -> PlanSummary:
    """The summary of `terraform show -json PLAN`."""
    summary = PlanSummary()
    for change in plan.get("resource_changes", []):
        if change.get("mode") == "data":
            continue
        details = change.get("change", {})
        action = _action(details.get("actions", []))
        if action is None:
            continue
        summary.counts[action] += 1
        summary.changes.append({"address": change["address"], "action": action})
        if change.get("type") == "aws_sagemaker_model":
            summary.model = {"before": _container(details.get("before")), "after": _container(details.get("after"))}
    summary.changes.sort(key=lambda c: (ACTIONS.index(c["action"]), c["address"]))
    return summary


def summary_path(plan_file: Path) -> Path:
    return plan_file.with_name(plan_file.name + ".summary.md")


def write_summary(plan_file: Path, plan: dict[str, Any]) -> PlanSummary:
    summary = summarize(plan)
    summary_path(plan_file).write_text(summary.markdown())
    return summary


def main(argv: list[str] | None = None) -> int:
    import argparse

    from scones.toolchain.binary import find_terraform

    parser = argparse.ArgumentParser(description="Write PLAN.summary.md next to a saved Terraform plan.")
    parser.add_argument("plan_file", type=Path)
    parser.add_argument("--chdir", type=Path, default=None, help="The root the plan was made in.")
    args = parser.parse_args(argv)
    terraform = find_terraform()
    if terraform is None:
        print("no terraform: run through make", file=sys.stderr)
        return 2
    chdir = [f"-chdir={args.chdir}"] if args.chdir else []
    result = subprocess.run(
        [terraform, *chdir, "show", "-json", str(args.plan_file.resolve())], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        print(result.stderr, file=sys.stderr)
        return result.returncode
    summary = write_summary(args.plan_file, json.loads(result.stdout))
    print(summary.markdown(), end="")
    print(f"(written to {summary_path(args.plan_file)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
