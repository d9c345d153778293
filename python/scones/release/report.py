"""A release's record: build/release/<env>/<timestamp>/report.json, kept up to date after every stage,
and summary.md, its Markdown for a pull-request comment.

report.json is also what makes a release resumable: a run whose status is still "running" or "failed"
is the environment's unfinished run, and the next release of the same inputs continues it, taking the
finished results of the stages that cost money or time (training, evaluation, registration) instead of
doing them again. A run that ended (released, unchanged, refused, rolled back) is never resumed.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scones.tfvars import write_atomically

REPORT_FILE = "report.json"
SUMMARY_FILE = "summary.md"
UNFINISHED = ("running", "failed")
# The stages, numbered as issue 19 lists them; plan and apply are its step 7.
STAGES = {
    "data": 1,
    "train": 2,
    "evaluate": 3,
    "gate": 4,
    "register": 5,
    "record": 6,
    "plan": 7,
    "apply": 7,
    "verify": 8,
    "smoke": 9,
    "rollback": 10,
}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Run:
    folder: Path
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def report_file(self) -> Path:
        return self.folder / REPORT_FILE

    @property
    def stages(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.setdefault("stages", {}))

    def result(self, stage: str) -> dict[str, Any] | None:
        """A finished stage's result (None when it has not finished)."""
        entry = self.data.get("stages", {}).get(stage)
        return entry.get("result") if entry and entry["outcome"] in ("done", "skipped") else None

    def record_stage(self, stage: str, outcome: str, seconds: float, detail: str, result: Any = None) -> None:
        self.data.setdefault("stages", {})[stage] = {
            "number": STAGES[stage],
            "outcome": outcome,
            "seconds": round(seconds, 2),
            "detail": detail,
            "result": result,
        }
        self.save()

    def set(self, **values: Any) -> None:
        self.data.update(values)
        self.save()

    def finish(self, status: str, error: str | None = None) -> None:
        self.data.update(status=status, error=error, finished_at=_now())
        self.save()
        (self.folder / SUMMARY_FILE).write_text(summary_markdown(self.data))

    def save(self) -> None:
        write_atomically(self.report_file, self.data)


def new_run(env_out: Path, inputs: dict[str, Any]) -> Run:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = env_out / stamp
    suffix = 1
    while folder.exists():  # two releases in one second
        folder, suffix = env_out / f"{stamp}-{suffix}", suffix + 1
    folder.mkdir(parents=True)
    run = Run(folder, {"env": env_out.name, "run": folder.name, "status": "running", "started_at": _now()})
    run.set(inputs=inputs, started=time.time())
    return run


def unfinished_run(env_out: Path) -> Run | None:
    """The environment's latest run, if it did not end (status running or failed)."""
    if not env_out.is_dir():
        return None
    for folder in sorted((p for p in env_out.iterdir() if (p / REPORT_FILE).is_file()), reverse=True):
        try:
            data = json.loads((folder / REPORT_FILE).read_text())
        except json.JSONDecodeError:
            continue
        return Run(folder, data) if data.get("status") in UNFINISHED else None
    return None


def _figure(value: Any) -> str:
    return "-" if not isinstance(value, int | float) or isinstance(value, bool) else f"{value:.4f}"


def summary_markdown(report: dict[str, Any]) -> str:
    """The pull-request comment: outcome, metrics side by side, gate, registry, plan, checks, timings."""
    status = report.get("status", "?")
    lines = [f"### Release `{report.get('env')}` {report.get('run')}: **{status}**", ""]
    if report.get("error"):
        lines += [f"> {report['error']}", ""]
    candidate = report.get("candidate", {})
    deployed = report.get("deployed", {})
    if candidate:
        lines += [f"Candidate: `{candidate.get('model_data_url')}` ({candidate.get('source')})"]
    deployed_name = deployed.get("model_package_arn") or deployed.get("model_data_url")
    lines += [f"Deployed before: `{deployed_name}`" if deployed_name else "Deployed before: nothing", ""]
    metrics_c, metrics_d = candidate.get("metrics") or {}, deployed.get("metrics") or {}
    if metrics_c:
        lines += ["| metric | candidate | deployed |", "|---|---|---|"]
        for name in ("accuracy", "coverage", "accepted_accuracy"):
            lines.append(f"| {name} | {_figure(metrics_c.get(name))} | {_figure(metrics_d.get(name))} |")
        lines.append("")
    gate = report.get("gate")
    if gate:
        lines.append(f"Gate: **{'passed' if gate['passed'] else 'refused'}**")
        lines += [
            f"- {c['metric']} {c['kind']}: {_figure(c['value'])} vs {_figure(c['required'])}"
            f"{'' if c['passed'] else ' **refused**'}"
            for c in gate["checks"]
        ]
        if not gate.get("compared_with_deployed"):
            lines.append("- no registered metrics of the deployed model to compare with")
        lines.append("")
    registry = report.get("registry")
    if registry:
        lines += [
            f"Registry: version {registry.get('version')} of `{registry.get('group')}` ({registry.get('approval')}, "
            f"{'new' if registry.get('created') else 'already registered'}): `{registry.get('arn')}`",
            "",
        ]
    if report.get("plan"):
        lines += [report["plan"].get("markdown", report["plan"].get("headline", "")), ""]
    if report.get("verification"):
        v = report["verification"]
        lines += [
            f"Verification: `{v.get('endpoint_name')}` {v.get('status')} on `{v.get('endpoint_config_name')}`"
            + (f", FailureReason: {v['failure_reason']}" if v.get("failure_reason") else ""),
            "",
        ]
    if report.get("smoke"):
        s = report["smoke"]
        lines += [
            f"Smoke test: **{'passed' if s['passed'] else 'failed'}**: {s.get('line', s['outcomes'])}; "
            f"{s['captured']} of {s['captures_expected']} capture records",
            "",
        ]
    if report.get("rollback"):
        lines += [f"Rollback: {report['rollback'].get('detail')}", ""]
    lines += ["| # | stage | outcome | seconds | detail |", "|---|---|---|---|---|"]
    for name, stage in report.get("stages", {}).items():
        detail = str(stage.get("detail", "")).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {stage['number']} | {name} | {stage['outcome']} | {stage['seconds']:.1f} | {detail} |")
    return "\n".join(lines) + "\n"
