"""`scones local up|down|status`: a background daemon that leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import socket
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner

from scones.local import control
from scones.local.cli import local_group
from scones.local.state import read_state, write_state
from tests.support.local_fixtures import client, create_function, free_port, invoke, pid_alive, wait_until_dead


def listening_addresses(port: int) -> set[str]:
    """IPv4/IPv6 addresses with a socket listening on `port`, from the kernel's own table."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as handle:
            for line in handle.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                    raw = bytes.fromhex(address)
                    if len(raw) == 4:
                        found.add(socket.inet_ntop(socket.AF_INET, raw[::-1]))
                    else:  # four little-endian 32-bit words
                        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
                        found.add(socket.inet_ntop(socket.AF_INET6, words))
    return found


def test_up_status_down_leaves_no_process(state_dir: Path) -> None:
    runner = CliRunner()
    port = free_port()
    up = runner.invoke(local_group, ["up", "--port", str(port), "--state-dir", str(state_dir)])
    assert up.exit_code == 0, up.output
    url = f"http://127.0.0.1:{port}"
    assert f"export AWS_ENDPOINT_URL={url}" in up.output
    state = read_state(state_dir)
    assert state is not None and state.url == url and pid_alive(state.pid)
    assert json.loads((state_dir / "state.json").read_text())["port"] == port
    assert listening_addresses(port) == {"127.0.0.1"}  # loopback only, never 0.0.0.0

    # Deploy something and start a warm Lambda sandbox, so `down` has a worker to clean up.
    client("s3", url).create_bucket(Bucket="status-bucket")
    create_function(url, "status-fn", "import os\ndef handler(e, c):\n    return os.getpid()\n")
    _, worker_pid = invoke(url, "status-fn", {})
    assert pid_alive(worker_pid) and worker_pid != state.pid

    status = runner.invoke(local_group, ["status", "--state-dir", str(state_dir)])
    assert status.exit_code == 0, status.output
    assert "status-bucket" in status.output and "status-fn" in status.output
    assert "worker processes: 1" in status.output

    again = runner.invoke(local_group, ["up", "--port", str(port), "--state-dir", str(state_dir)])
    assert "already running" in again.output

    down = runner.invoke(local_group, ["down", "--state-dir", str(state_dir)])
    assert down.exit_code == 0 and "stopped" in down.output
    assert wait_until_dead(state.pid) and wait_until_dead(worker_pid)
    assert control.processes_in_group(state.pid) == []
    assert not Path(state.work_dir).exists()
    assert not (state_dir / "state.json").exists()

    twice = runner.invoke(local_group, ["down", "--state-dir", str(state_dir)])
    assert twice.exit_code == 0 and "not running" in twice.output
    stopped = runner.invoke(local_group, ["status", "--state-dir", str(state_dir)])
    assert stopped.exit_code == 3 and "not running" in stopped.output


def test_sigterm_stops_the_daemon_cleanly(state_dir: Path) -> None:
    state, already = control.up(state_dir, free_port())
    assert not already
    os.kill(state.pid, signal.SIGTERM)
    assert wait_until_dead(state.pid)
    # The daemon removed its own state file and temp dir on the way out.
    assert read_state(state_dir) is None
    assert not Path(state.work_dir).exists()
    assert "received SIGTERM" in (state_dir / "emulator.log").read_text()


def test_up_on_a_busy_port_is_a_clear_error(state_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(control.PortInUseError, match=str(port)):
            control.up(state_dir, port)
    assert read_state(state_dir) is None


def test_stale_state_file_is_ignored_and_removed(state_dir: Path) -> None:
    dead = control.EmulatorState(pid=2**22 + 12345, port=1, url="http://127.0.0.1:1", started_at="x", work_dir="")
    write_state(state_dir, dead)
    assert control.status(state_dir).running is False
    assert read_state(state_dir) is None


def test_env_prints_exports_only_when_running(state_dir: Path) -> None:
    runner = CliRunner()
    not_running = runner.invoke(local_group, ["env", "--state-dir", str(state_dir)])
    assert not_running.exit_code != 0 and "not running" in not_running.output
    state, _ = control.up(state_dir, free_port())
    running = runner.invoke(local_group, ["env", "--state-dir", str(state_dir)])
    assert running.output.splitlines() == [
        f"export AWS_ENDPOINT_URL={state.url}",
        "export AWS_ACCESS_KEY_ID=testing",
        "export AWS_SECRET_ACCESS_KEY=testing",
        "export AWS_DEFAULT_REGION=us-east-1",
    ]


@pytest.mark.parametrize("flag", ["--iam", "--no-iam"])
def test_up_enforces_iam_unless_told_not_to(state_dir: Path, flag: str) -> None:
    """A role session's read is refused with IAM on (the default) and let through with --no-iam;
    the keys `scones local env` prints are the admin's either way."""
    port = free_port()
    up = CliRunner().invoke(local_group, ["up", "--port", str(port), "--state-dir", str(state_dir), flag])
    assert up.exit_code == 0, up.output
    url = f"http://127.0.0.1:{port}"
    admin_s3 = client("s3", url)
    admin_s3.create_bucket(Bucket="iam-switch")
    admin_s3.put_object(Bucket="iam-switch", Key="k", Body=b"x")
    role = client("iam", url).create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    keys = client("sts", url).assume_role(RoleArn=role, RoleSessionName="me")["Credentials"]
    role_s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=keys["AccessKeyId"],
        aws_secret_access_key=keys["SecretAccessKey"],
        aws_session_token=keys["SessionToken"],
    )
    if flag == "--iam":
        with pytest.raises(ClientError, match="assumed-role/r/me is not authorized to perform: s3:GetObject"):
            role_s3.get_object(Bucket="iam-switch", Key="k")
    else:
        assert role_s3.get_object(Bucket="iam-switch", Key="k")["Body"].read() == b"x"


def test_notifications_prints_what_each_topic_sent(state_dir: Path) -> None:
    runner = CliRunner()
    not_running = runner.invoke(local_group, ["notifications", "--state-dir", str(state_dir)])
    assert not_running.exit_code != 0 and "not running" in not_running.output
    state, _ = control.up(state_dir, free_port())
    sns = client("sns", state.url)
    alerts, other = (sns.create_topic(Name=name)["TopicArn"] for name in ("alerts", "other"))
    sns.publish(TopicArn=alerts, Message='{"event": "failure"}', Subject="failed")
    sns.publish(TopicArn=other, Message="hello")

    every = runner.invoke(local_group, ["notifications", "--state-dir", str(state_dir)])
    assert every.exit_code == 0, every.output
    lines = [json.loads(line) for line in every.output.splitlines()]
    assert [(line["topic_arn"], line["subject"], line["message"]) for line in lines] == [
        (alerts, "failed", '{"event": "failure"}'),
        (other, None, "hello"),
    ]
    one = runner.invoke(local_group, ["notifications", "--topic-arn", other, "--state-dir", str(state_dir)])
    assert [json.loads(line)["message"] for line in one.output.splitlines()] == ["hello"]
