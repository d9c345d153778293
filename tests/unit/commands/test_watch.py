"""scones watch: a temporary subscription to the results bus, the result events as they arrive, nothing left behind."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from scones.aws import make_session
from scones.cli import main
from scones.local.server import LocalAWS
from scones.watch import WatchError, results, subscribe
from tests.support.local_fixtures import client

BUS = "scones-watch-results"


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAWS]:
    with LocalAWS() as emulator:
        client("events", emulator.url).create_event_bus(Name=BUS)
        yield emulator


def announce(url: str, detail_type: str, key: str, **detail: object) -> None:
    entry = {
        "EventBusName": BUS,
        "Source": "scones.classification",
        "DetailType": detail_type,
        "Detail": json.dumps({"bucket": "b", "key": key, **detail}),
    }
    assert client("events", url).put_events(Entries=[entry])["FailedEntryCount"] == 0


def test_a_watch_sees_the_results_put_while_it_runs_and_leaves_nothing(aws: LocalAWS) -> None:
    session = make_session(endpoint_url=aws.url)
    sqs, events = client("sqs", aws.url), client("events", aws.url)
    announce(aws.url, "VehicleClassified", "before.png", vehicle="bicycle", confidence=0.99)  # nobody listens yet
    with subscribe(session, BUS) as subscription:
        announce(aws.url, "VehicleClassified", "incoming/a.png", vehicle="bicycle", confidence=0.97)
        announce(aws.url, "SomethingElse", "incoming/x.png")  # the rule matches result types only
        announce(aws.url, "VehicleNeedsReview", "incoming/b.png", reason="low_confidence")
        seen = list(results(sqs, subscription.queue_url, count=2, timeout_seconds=10))
    assert [(e["detail-type"], e["detail"]["key"]) for e in seen] == [
        ("VehicleClassified", "incoming/a.png"),
        ("VehicleNeedsReview", "incoming/b.png"),
    ]
    assert sqs.list_queues().get("QueueUrls", []) == []
    assert events.list_rules(EventBusName=BUS)["Rules"] == []


def test_the_command_prints_json_lines_from_a_given_queue_and_stops_at_count(aws: LocalAWS) -> None:
    session = make_session(endpoint_url=aws.url)
    with subscribe(session, BUS) as subscription:
        announce(aws.url, "VehicleClassified", "incoming/c.png", vehicle="motorcycle", confidence=0.95)
        announce(aws.url, "VehicleClassified", "incoming/d.png", vehicle="bicycle", confidence=0.96)
        args = ["watch", "--bus", BUS, "--queue-url", subscription.queue_url, "--count", "1", "--json"]
        result = CliRunner().invoke(main, [*args, "--endpoint-url", aws.url])
        assert result.exit_code == 0, result.output
        (line,) = result.stdout.splitlines()
        assert json.loads(line)["detail"]["key"] == "incoming/c.png"
        # A person's line: the verdict and the image.
        human = CliRunner().invoke(main, [*args[:-1], "--endpoint-url", aws.url])
        assert "bicycle (96.0%)" in human.stdout and "s3://b/incoming/d.png" in human.stdout
    # The given queue was the caller's: a watch with --queue-url does not delete it (subscribe did, above).


def test_the_timeout_ends_a_quiet_watch(aws: LocalAWS) -> None:
    result = CliRunner().invoke(main, ["watch", "--bus", BUS, "--timeout", "1", "--endpoint-url", aws.url])
    assert result.exit_code == 0 and result.stdout == ""
    assert client("sqs", aws.url).list_queues().get("QueueUrls", []) == []


def test_a_bus_that_does_not_exist_is_a_clear_error_and_creates_nothing(aws: LocalAWS) -> None:
    with (
        pytest.raises(WatchError, match="cannot watch event bus 'no-such-bus'"),
        subscribe(make_session(endpoint_url=aws.url), "no-such-bus"),
    ):
        pass
    result = CliRunner().invoke(main, ["watch", "--bus", "no-such-bus", "--endpoint-url", aws.url])
    assert result.exit_code == 1 and "cannot watch event bus 'no-such-bus'" in result.output
    assert client("sqs", aws.url).list_queues().get("QueueUrls", []) == []
