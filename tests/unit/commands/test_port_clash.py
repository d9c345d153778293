"""`scones demo` and `scones bench` on a port that is taken (say by `make local-up`'s emulator): a one-line
error naming --port, not a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scones.bench import bench_cmd
from scones.demo import demo_cmd


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        yield busy.getsockname()[1]


@pytest.mark.parametrize("command", [demo_cmd, bench_cmd], ids=["demo", "bench"])
def test_a_busy_port_is_a_one_line_error_naming_the_option(
    command: click.Command, busy_port: int, tmp_path: Path
) -> None:
    result = CliRunner().invoke(command, ["--out", str(tmp_path / "out"), "--port", str(busy_port)])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # click reported it; nothing escaped as a traceback
    (line,) = result.output.strip().splitlines()[-1:]
    assert line.startswith("Error: ") and f"port {busy_port}" in line and "--port" in line
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "local" / "state.json").exists()
