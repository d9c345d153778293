"""Start, stop and find the background emulator process (`scones local up|down|status`).

The daemon runs in its own session, so it and every worker it starts share one process group:
`down` asks the daemon to stop cleanly, then makes sure nothing of that group is left.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from scones.local.state import LOG_FILE, EmulatorState, clear_state, read_state

DEFAULT_PORT = 4588
STATE_DIR_ENV = "SCONES_LOCAL_STATE_DIR"
# The admin's keys: with IAM enforced, any keys but a role session's have full access (scones.local.iam).
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
_DAEMON_MODULE = "scones.local.daemon"


class EmulatorError(Exception):
    """Base for emulator control errors."""


class PortInUseError(EmulatorError):
    """Something else already listens on the requested port."""


class EmulatorStartError(EmulatorError):
    """The daemon exited or did not answer in time; the message carries its log."""


def env_exports(url: str) -> list[str]:
    return [f"export AWS_ENDPOINT_URL={url}"] + [f"export {k}={v}" for k, v in FAKE_CREDENTIALS.items()]


# -- processes -------------------------------------------------------------------------------


def _reap_if_child(pid: int) -> None:
    """A daemon started from this very process is our child: reap it so it is not a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def pid_alive(pid: int) -> bool:
    _reap_if_child(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_our_daemon(pid: int) -> bool:
    """Guards against a recycled pid: the process must be the emulator daemon."""
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.parent.exists():
        return pid_alive(pid)
    try:
        return _DAEMON_MODULE.encode() in cmdline.read_bytes()
    except OSError:
        return False


def processes_in_group(pgid: int) -> list[int]:
    """Live processes of a process group (Linux /proc; empty elsewhere)."""
    pids: list[int] = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields[0] is the state, fields[2] the process group; zombies are already dead.
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return sorted(pids)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0):
            return True
    except OSError:
        return False


def running_state(state_dir: Path) -> EmulatorState | None:
    """The state of a live emulator daemon, or None (a stale state file is removed)."""
    state = read_state(state_dir)
    if state is None:
        return None
    if pid_alive(state.pid) and _is_our_daemon(state.pid):
        return state
    clear_state(state_dir, only_pid=state.pid)
    return None


# -- up / down -------------------------------------------------------------------------------


def _log_tail(log_path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log_path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def up(
    state_dir: Path, port: int = DEFAULT_PORT, timeout_seconds: float = 60.0, enforce_iam: bool = True
) -> tuple[EmulatorState, bool]:
    """Start the daemon unless one runs; (state, already_running). `enforce_iam`: roles act as
    themselves and are held to their policies (docs/emulator.md, IAM)."""
    current = running_state(state_dir)
    if current is not None:
        return current, True
    if not _port_free(port):
        raise PortInUseError(
            f"port {port} on 127.0.0.1 is in use (another emulator, such as `make local-up`'s, or another "
            "program); pick another with --port"
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    log_path = state_dir / LOG_FILE
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                _DAEMON_MODULE,
                "--port",
                str(port),
                "--state-dir",
                str(state_dir.resolve()),
                "--enforce-iam" if enforce_iam else "--no-enforce-iam",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise EmulatorStartError(
                f"the emulator exited with status {proc.returncode}; log {log_path}:\n{_log_tail(log_path)}"
            )
        state = read_state(state_dir)
        if state is not None and state.pid == proc.pid and _answers(state.port):
            return state, False
        time.sleep(0.1)
    _terminate_group(proc.pid, grace_seconds=5.0)
    proc.wait()
    raise EmulatorStartError(
        f"the emulator did not answer within {timeout_seconds:.0f} s; log {log_path}:\n{_log_tail(log_path)}"
    )


def _terminate_group(pid: int, grace_seconds: float) -> None:
    """SIGTERM the daemon, wait, then SIGKILL whatever is left of its process group."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while (pid_alive(pid) or processes_in_group(pid)) and time.monotonic() < deadline:
        time.sleep(0.05)


def down(state_dir: Path, grace_seconds: float = 20.0) -> EmulatorState | None:
    """Stop the daemon and everything it started; None when nothing was running (idempotent)."""
    state = read_state(state_dir)
    if state is None:
        return None
    if pid_alive(state.pid) and _is_our_daemon(state.pid):
        _terminate_group(state.pid, grace_seconds)
    elif processes_in_group(state.pid):
        # The daemon died but left workers behind (e.g. it was SIGKILLed).
        _terminate_group(state.pid, grace_seconds=0.0)
    if state.work_dir:
        shutil.rmtree(state.work_dir, ignore_errors=True)
    clear_state(state_dir)
    return state


# -- status ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    state: EmulatorState | None
    worker_pids: list[int] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return self.state is not None


def status(state_dir: Path) -> Status:
    """Whether the daemon runs, and the worker processes it started (what is deployed: `inventory`)."""
    state = running_state(state_dir)
    if state is None:
        return Status(state=None)
    return Status(state=state, worker_pids=[p for p in processes_in_group(state.pid) if p != state.pid])
