"""The background emulator process behind `scones local up`.

`python -m scones.local.daemon --port N --state-dir DIR [--no-enforce-iam]` runs `LocalAWS`
(IAM enforced unless told otherwise) until SIGTERM/SIGINT, then stops every worker, removes its
temp dirs and its state file.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from scones.local.server import LocalAWS
from scones.local.state import EmulatorState, clear_state, write_state


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scones.local.daemon")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--enforce-iam", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)

    stop_requested = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        print(f"scones-local: received {signal.Signals(signum).name}, stopping", flush=True)
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    aws = LocalAWS(host="127.0.0.1", port=args.port, log_requests=True, enforce_iam=args.enforce_iam)
    try:
        aws.start()
    except OSError as exc:
        print(f"scones-local: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr, flush=True)
        return 2
    state = EmulatorState.for_this_process(aws.port, aws.url, aws.work_dir)
    try:
        write_state(args.state_dir, state)
        iam = "enforced" if args.enforce_iam else "not enforced"
        print(f"scones-local: serving {aws.url} (pid {state.pid}, IAM {iam})", flush=True)
        while not stop_requested.wait(timeout=1.0):
            pass
    finally:
        aws.stop()
        clear_state(args.state_dir, only_pid=state.pid)
        print("scones-local: stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
