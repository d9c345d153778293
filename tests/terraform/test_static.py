"""fmt, checkov and provider-6 compatibility: the checks that need no apply. Validation needs no test of its
own: every plan validates, and test_plans plans every root (and so every module); `make validate` also
validates each module on its own."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from scones.plan_testing import Plan
from scones.toolchain.module_readme import declared
from scones.toolchain.module_readme import problems as module_readme_problems
from scones.toolchain.provider_compat import check_plan, find_assembly, load_schema
from tests.terraform.conftest import REPO, terraform_binary

pytestmark = pytest.mark.terraform

CHECKOV_VENV = REPO / ".venv-checkov"
CDKTN_VENV = REPO / ".venv-cdktn"


MODULES = sorted(path for path in (REPO / "terraform" / "modules").iterdir() if path.is_dir())


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_every_module_variable_is_used(module: Path) -> None:
    # Validation rules live in variables.tf and mention the variable themselves: only other files count.
    body = "".join(path.read_text() for path in module.glob("*.tf") if path.name != "variables.tf")
    unused = sorted(name for name in declared(module, "variable") if not re.search(rf"\bvar\.{name}\b", body))
    assert unused == [], f"{module.name}: declared but never used: {unused}"


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_module_readme_documents_every_input_and_output(module: Path) -> None:
    # The same check `make lint` and the commit hook run.
    assert module_readme_problems(module) == []


def _minimum_version(versions_tf: Path) -> tuple[int, ...]:
    found = re.search(r'required_version\s*=\s*">=\s*([0-9.]+)"', versions_tf.read_text())
    assert found, f'{versions_tf}: no `required_version = ">= x.y.z"`'
    return tuple(int(part) for part in found.group(1).split("."))


def test_roots_require_the_terraform_their_backend_settings_need() -> None:
    for root in sorted((REPO / "terraform" / "envs").iterdir()):
        example = root / "backend.hcl.example"
        # use_lockfile (S3-native state locking) exists from Terraform 1.10; every root keeps one floor.
        if example.exists():
            assert re.search(r"^use_lockfile\s*=\s*true", example.read_text(), flags=re.MULTILINE)
        assert _minimum_version(root / "versions.tf") >= (1, 10), root.name


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_real_account_roots_pin_the_provider_to_their_account(env: str) -> None:
    # The tests plan these roots with an override that lifts the pin (the emulator reports no account),
    # so the pin is checked here, in the file.
    providers = (REPO / "terraform" / "envs" / env / "providers.tf").read_text()
    assert re.search(r"^\s*allowed_account_ids\s*=\s*\[var\.account_id\]\s*$", providers, flags=re.MULTILINE)
    assert re.search(r'^variable "account_id" \{\n[^}]*type\s*=\s*string\n\}', _root_variables(env), flags=re.MULTILINE)


def _root_variables(env: str) -> str:
    return (REPO / "terraform" / "envs" / env / "variables.tf").read_text()


def test_terraform_is_formatted(tf_env: dict[str, str]) -> None:
    result = subprocess.run(
        [terraform_binary(), "fmt", "-check", "-recursive", "-list=true", "terraform", "examples"],
        cwd=REPO,
        env=tf_env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"not fmt-clean (run `make fmt`):\n{result.stdout}{result.stderr}"


def test_checkov_finds_nothing_and_every_skip_has_a_reason() -> None:
    if not (CHECKOV_VENV / "bin" / "checkov").exists():
        pytest.fail("checkov venv missing: run `make tf-tool-venvs`")
    result = subprocess.run(
        [str(REPO / "scripts" / "checkov.sh"), "--output", "json"], capture_output=True, text=True, check=False
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, failed
    assert summary["passed"] > 100
    assert summary["skipped"] == len(report["results"]["skipped_checks"]) > 0
    for skipped in report["results"].get("skipped_checks", []):
        reason = skipped.get("check_result", {}).get("suppress_comment", "")
        assert len(reason) > 40, (skipped["check_id"], skipped["resource"], reason)


def test_modules_use_only_what_provider_6_has(env_plan: Callable[[str], Plan]) -> None:
    if not CDKTN_VENV.exists():
        pytest.fail("cdktn venv missing: run `make tf-tool-venvs`")
    schema = load_schema(find_assembly(CDKTN_VENV))
    assert schema.version.startswith("6.")
    assert check_plan(schema, env_plan("local").raw) == []


def test_compat_check_reports_removed_types_and_unknown_arguments() -> None:
    if not CDKTN_VENV.exists():
        pytest.fail("cdktn venv missing: run `make tf-tool-venvs`")
    schema = load_schema(find_assembly(CDKTN_VENV))
    plan = {
        "configuration": {
            "root_module": {
                "resources": [
                    {
                        "address": "aws_opsworks_stack.x",
                        "mode": "managed",
                        "type": "aws_opsworks_stack",
                        "expressions": {},
                    },
                    {
                        "address": "aws_lambda_function.f",
                        "mode": "managed",
                        "type": "aws_lambda_function",
                        "expressions": {"function_name": {}, "no_such_argument": {}, "tracing_config": [{"modez": {}}]},
                    },
                ]
            }
        }
    }
    problems = check_plan(schema, plan)
    assert any("aws_opsworks_stack does not exist" in p for p in problems)
    assert any("'no_such_argument'" in p for p in problems)
    assert any("tracing_config[0]: argument or block 'modez'" in p for p in problems)
    assert not any("function_name" in p for p in problems)
