"""Existing deployments upgrade in place: against the golden records of the code before issue 14's refactor
(tests/terraform/golden, from commit fe74125), every resource an old state holds is still planned, at its
address or at the `to` of a moved block, and planned with the same values."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scones.plan_testing import Plan
from scones.toolchain.tfvars_check import declared_variables, undeclared
from tests.terraform.conftest import REPO
from tests.terraform.golden import (
    ENVS,
    INTENDED_CHANGES,
    added_on_purpose,
    load_addresses,
    load_values,
    load_variables,
    moved_blocks,
    new_address,
    planned_values,
    removed_on_purpose,
)

pytestmark = pytest.mark.terraform


def _plan(env_plan: Callable[[str], Plan], env: str) -> dict[str, dict[str, Any]]:
    return planned_values(env_plan(env).raw)


@pytest.mark.parametrize("env", ENVS)
def test_every_old_address_is_planned_or_moved(env_plan: Callable[[str], Plan], env: str) -> None:
    moves = moved_blocks(REPO / "terraform", env)
    planned = _plan(env_plan, env)
    lost = {address for address in load_addresses(env) if new_address(address, moves) not in planned}
    # Exactly the intended removals: any other would be destroyed by surprise, and an intended one still
    # planned is a stale entry that would hide the next, unintended one.
    assert lost == removed_on_purpose(env), f"{env}: resources of an existing state neither planned nor moved"
    # Nothing new either, but the intended additions: the refactor changes where things are written, not
    # what is built. An intended addition no longer planned is stale, as an intended removal still planned is.
    old = {new_address(address, moves) for address in set(load_addresses(env)) - lost}
    assert set(planned) - old == added_on_purpose(env)


@pytest.mark.parametrize("env", ENVS)
def test_every_resource_is_planned_with_the_values_it_had(env_plan: Callable[[str], Plan], env: str) -> None:
    moves = moved_blocks(REPO / "terraform", env)
    planned = _plan(env_plan, env)
    removed = removed_on_purpose(env)
    for address, values in load_values(env).items():
        if address in removed:
            continue
        now = planned[new_address(address, moves)]
        differing = {
            name: (value, now.get(name))
            for name, value in values.items()
            if now.get(name) != value
            and env not in INTENDED_CHANGES.get((new_address(address, moves), name), ("", ()))[1]
        }
        assert differing == {}, f"{env}: {address} (old value, new value)"
        assert set(now) == set(values), f"{env}: {address} gained or lost attributes"
    # An intended change that no longer differs is a stale entry: it would hide the next, unintended one.
    for (address, name), (reason, envs) in INTENDED_CHANGES.items():
        if env not in envs:
            continue
        kept = {new_address(a, moves): v for a, v in load_values(env).items() if a not in removed}
        old_values = kept.get(address, {})
        stale = old_values.get(name) == planned[address].get(name)
        assert not stale, f"{env}: {address}.{name} no longer changes ({reason})"


def test_moved_addresses_follow_modules_and_instance_keys() -> None:
    moves = {
        "module.stack.module.a.aws_x.y": "module.stack.module.b.aws_x.y",
        "module.stack.module.c": "module.stack.module.d",
    }
    assert new_address('module.stack.module.a.aws_x.y["k"]', moves) == 'module.stack.module.b.aws_x.y["k"]'
    assert new_address("module.stack.module.c.aws_z.this[0]", moves) == "module.stack.module.d.aws_z.this[0]"
    assert new_address("module.stack.module.cc.aws_z.this", moves) == "module.stack.module.cc.aws_z.this"


def _documented_removals() -> dict[str, set[str]]:
    """Root -> variables the upgrade notes list as removed from it."""
    section = (REPO / "docs" / "upgrading.md").read_text().split("### Removed root variables", 1)[1]
    removed: dict[str, set[str]] = {env: set() for env in ENVS}
    for row in re.findall(r"^\| `([a-z_]+)` \| ([a-z, ]+) \|", section, flags=re.MULTILINE):
        for env in row[1].split(","):
            removed[env.strip()].add(row[0])
    return removed


@pytest.mark.parametrize("env", ENVS)
def test_every_removed_root_variable_is_documented_and_refused(env: str, tmp_path: Path) -> None:
    root = REPO / "terraform" / "envs" / env
    removed = load_variables(env) - declared_variables(root)
    assert removed == _documented_removals()[env], "docs/upgrading.md must list every variable a root dropped"
    # A terraform.tfvars written for the previous version: the preflight names every dropped variable.
    copy = tmp_path / env
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfvars*"))
    (copy / "terraform.tfvars").write_text("".join(f"{name} = null\n" for name in sorted(load_variables(env))))
    assert {problem.name for problem in undeclared(copy)} == removed


def test_moved_blocks_are_read_with_the_address_of_their_module(tmp_path: Path) -> None:
    (tmp_path / "modules" / "lambdas").mkdir(parents=True)
    (tmp_path / "modules" / "lambdas" / "moved.tf").write_text(
        'moved {\n  from = aws_lambda_function.old\n  to   = aws_lambda_function.this["x"]\n}\n'
    )
    (tmp_path / "envs" / "dev").mkdir(parents=True)
    (tmp_path / "envs" / "dev" / "main.tf").write_text("moved {\n  from = module.old\n  to   = module.stack\n}\n")
    lambdas = "module.stack.module.lambdas."
    assert moved_blocks(tmp_path, "dev") == {
        f"{lambdas}aws_lambda_function.old": f'{lambdas}aws_lambda_function.this["x"]',
        "module.old": "module.stack",
    }
    assert moved_blocks(tmp_path, "prod") == {
        f"{lambdas}aws_lambda_function.old": f'{lambdas}aws_lambda_function.this["x"]'
    }
