"""The emulator's state file (`<state dir>/state.json`): which daemon runs, where."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE = "state.json"
LOG_FILE = "emulator.log"


class StateFileError(Exception):
    """state.json exists but cannot be read as the emulator's state."""


@dataclass(frozen=True)
class EmulatorState:
    pid: int
    port: int
    url: str
    started_at: str
    work_dir: str

    @classmethod
    def for_this_process(cls, port: int, url: str, work_dir: Path | None) -> EmulatorState:
        return cls(
            pid=os.getpid(),
            port=port,
            url=url,
            started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            work_dir=str(work_dir or ""),
        )


def write_state(state_dir: Path, state: EmulatorState) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / f".{STATE_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(asdict(state), indent=2) + "\n")
    tmp.replace(state_dir / STATE_FILE)


def read_state(state_dir: Path) -> EmulatorState | None:
    path = state_dir / STATE_FILE
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise StateFileError(f"{path} is not JSON: {exc}") from exc
    try:
        return EmulatorState(
            pid=int(raw["pid"]),
            port=int(raw["port"]),
            url=str(raw["url"]),
            started_at=str(raw["started_at"]),
            work_dir=str(raw.get("work_dir", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError(f"{path} is missing or has a bad field: {exc}") from exc


def clear_state(state_dir: Path, only_pid: int | None = None) -> None:
    """Remove state.json (only if it names `only_pid`, when given)."""
    path = state_dir / STATE_FILE
    if only_pid is not None:
        try:
            current = read_state(state_dir)
        except StateFileError:
            return
        if current is None or current.pid != only_pid:
            return
    path.unlink(missing_ok=True)
