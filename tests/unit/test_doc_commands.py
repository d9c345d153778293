"""Every command line the documentation shows works as written (issue 17): each `scones ...` line parses
against the CLI (commands resolved, options converted and checked, nothing run), each `make ...` line's
targets exist (`make -n`, nothing run); and the names and paths the docs, the Makefile and the code share agree."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from scones.cli import main
from scones.training.sagemaker_train import JOB_NAME
from tests.support.doc_commands import DocCommand, doc_commands, make_dry_run

COMMANDS = doc_commands()
SCONES = [command for command in COMMANDS if command.text.startswith("scones ")]
MAKE = [command for command in COMMANDS if command.text.startswith("make")]


def all_commands(group: click.Group, ctx: click.Context) -> Iterator[click.Command]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield command
        if isinstance(command, click.Group):
            yield from all_commands(command, click.Context(command, info_name=name, parent=ctx))


@pytest.fixture
def paths_need_not_exist(monkeypatch: pytest.MonkeyPatch) -> None:
    """The docs' paths (build/model.tar.gz, a capture folder) are the reader's, not this checkout's."""
    for command in all_commands(main, click.Context(main, info_name="scones")):
        for param in command.params:
            if isinstance(param.type, click.Path) and param.type.exists:
                monkeypatch.setattr(param.type, "exists", False)


def parse(argv: list[str]) -> click.Context:
    """The context of the command `scones ARGV` would run, parsed as click parses it; nothing runs."""
    command: click.Command = main
    ctx = main.make_context("scones", argv)
    while isinstance(command, click.Group):
        rest = [*getattr(ctx, "_protected_args", ()), *ctx.args]
        name, found, rest = command.resolve_command(ctx, rest)
        assert name is not None and found is not None
        command, ctx = found, found.make_context(name, rest, parent=ctx)
    return ctx


def make(*args: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.skip("GNU make is not installed")
    return make_dry_run(*args)


def make_recipe(*args: str) -> str:
    done = make(*args)
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.replace("\\\n", " ").split())


def test_the_docs_show_commands_of_both_kinds() -> None:
    docs = {command.doc for command in COMMANDS}
    assert {"README.md", "docs/emulator.md", "docs/model-record.md"} <= docs
    assert len(SCONES) > 30 and len(MAKE) > 5


@pytest.mark.usefixtures("paths_need_not_exist")
@pytest.mark.parametrize("command", SCONES, ids=str)
def test_scones_line_parses(command: DocCommand) -> None:
    try:
        parse(command.argv[1:])
    except click.ClickException as exc:
        pytest.fail(f"{command}\n  {type(exc).__name__}: {exc.format_message()}")


def test_a_line_the_cli_refuses_is_caught() -> None:
    with pytest.raises(click.NoSuchOption):
        parse(["train", "--local", "--bucket", "my-data-bucket", "--recipes", "fast"])
    with pytest.raises(click.BadParameter):
        parse(["invoke", "--count", "N"])
    with pytest.raises(click.UsageError):
        parse(["local", "fault", "list", "|", "clear"])


@pytest.mark.parametrize("command", MAKE, ids=str)
def test_make_line_names_targets_that_exist(command: DocCommand) -> None:
    done = make(*command.argv[1:])
    assert done.returncode == 0, f"{command}\n{done.stderr}"


def test_make_without_such_a_target_fails() -> None:
    assert make("no-such-target").returncode != 0


# -------------------------------------------------------------- what the docs, Makefile and code share


def option_values(option: str) -> list[tuple[DocCommand, str]]:
    return [
        (command, argv[i + 1])
        for command in SCONES
        for argv in [command.argv]
        for i, word in enumerate(argv[:-1])
        if word == option
    ]


def test_the_training_result_is_where_make_keeps_it() -> None:
    (result,) = re.findall(r"--result-json (\S+)", make_recipe("train-local"))
    assert make_recipe("tfvars").endswith(f"--from-json {result}")
    shown = option_values("--result-json") + option_values("--from-json")
    assert shown
    for command, path in shown:
        assert path == result, f"{command}: Make keeps the training result in {result}"


def test_training_job_names_are_the_names_jobs_get() -> None:
    shown = option_values("--training-job")
    assert shown
    for command, name in shown:
        assert JOB_NAME.fullmatch(name), f"{command}: jobs are named like scones-pytorch-20261122100000"
    help_text = CliRunner().invoke(main, ["tfvars", "--help"]).output
    (example,) = re.findall(r"--training-job (\S+)", help_text.split("Options:")[0])
    assert JOB_NAME.fullmatch(example)


def test_make_invoke_reads_the_invoke_variables() -> None:
    recipe = make_recipe("invoke", "INVOKE_BUCKET=b", "INVOKE_STATE_MACHINE_ARN=arn", "INVOKE_SEED=4", "TRAIN_BUCKET=t")
    assert "--bucket b" in recipe and "--state-machine-arn arn" in recipe and "--seed 4" in recipe
    assert "--bucket t" not in recipe


@pytest.mark.parametrize("target", ["plan", "destroy"])
def test_local_port_reaches_terraform_on_the_local_root(target: str) -> None:
    assert "-var=emulator_url=http://127.0.0.1:4599" in make_recipe(target, "ENV=local", "LOCAL_PORT=4599")
    assert "emulator_url" not in make_recipe(target, "ENV=dev")


def test_apply_applies_the_plan_file_make_plan_saved_and_nothing_else() -> None:
    plan = make_recipe("plan", "ENV=dev")
    apply = make_recipe("apply", "ENV=dev")
    assert "-out=" in plan and "scones.release.plan_file" in plan  # the summary next to the plan
    saved = plan.split("-out=", 1)[1].split()[0]
    assert saved.endswith("build/terraform/dev.tfplan")
    assert f"apply -input=false -parallelism=10 {saved}" in apply
    assert "-var" not in apply and "-auto-approve" not in apply  # a saved plan takes neither


def test_make_release_reaches_the_emulator_on_local_port() -> None:
    assert "release --env local --endpoint-url http://127.0.0.1:4599" in make_recipe(
        "release", "ENV=local", "LOCAL_PORT=4599"
    )
    assert "--endpoint-url" not in make_recipe("release", "ENV=dev")
