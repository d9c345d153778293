"""Path defaults of the `scones` commands are in the checkout, whatever the current folder (issue 17, 6):
`scones evaluate` from tests/ writes to <repo>/build/evaluate, not to tests/build/evaluate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scones.cli import main
from scones.paths import DEMO_TARBALL, repo_root
from scones.prepare import prepare_cmd


def commands(group: click.Group, ctx: click.Context) -> Iterator[tuple[str, click.Command]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield f"{ctx.command_path} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, click.Context(command, info_name=name, parent=ctx))


def path_defaults() -> list[tuple[str, str, object]]:
    """(command, option, default) of every option of every command whose type is a path."""
    ctx = click.Context(main, info_name="scones")
    found = []
    for path, command in commands(main, ctx):
        sub = click.Context(command, info_name=path.split()[-1], parent=ctx)
        for param in command.params:
            if isinstance(param.type, click.Path):
                found.append((path, param.name or "", param.get_default(sub)))
    return found


def test_every_path_default_is_in_the_checkout_whatever_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCONES_LOCAL_STATE_DIR", raising=False)
    defaults = path_defaults()
    assert {(command, name) for command, name, _ in defaults} >= {
        ("scones evaluate", "data_dir"),
        ("scones local up", "state_dir"),
        ("scones monitor", "out_dir"),
        ("scones prepare", "out"),
        ("scones train", "data_dir"),
    }
    for command, name, default in defaults:
        # No default: the command computes it from the checkout (its help says "<repo>/...") or it has none.
        if isinstance(default, str | Path):
            assert Path(default).is_relative_to(repo_root()), (command, name, default)


def test_prepare_from_another_folder_writes_into_the_checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkout, elsewhere = tmp_path / "checkout", tmp_path / "elsewhere"
    elsewhere.mkdir()
    source = repo_root() / DEMO_TARBALL
    monkeypatch.setenv("SCONES_REPO", str(checkout))
    monkeypatch.chdir(elsewhere)
    result = CliRunner().invoke(prepare_cmd, ["--source", str(source), "--no-upload"])
    assert result.exit_code == 0, result.output
    assert (checkout / "data" / "prepared" / "test.lst").is_file()
    assert not any(elsewhere.iterdir())


def test_help_shows_the_defaults_relative_to_the_checkout() -> None:
    result = CliRunner().invoke(main, ["evaluate", "--help"])
    assert "<repo>/data/prepared" in result.output and "<repo>/build/evaluate" in result.output
