"""`scones monitor` end to end: real CIFAR images captured in SageMaker's layout, local and on S3."""

from __future__ import annotations

import base64
import io
import json
import pickle
import re
import tarfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner
from moto import mock_aws
from PIL import Image

from scones.cli import main
from scones.monitor.image_sample import ImageSample
from scones.monitor.run import collect
from scones.monitor.sources import LocalCaptureSource

REPO = Path(__file__).resolve().parents[3]
CIFAR = REPO / "data" / "cifar-100-python-bicycle-motorcycle.tar.gz"
ENDPOINT_PREFIX = "scones-endpoint/AllTraffic"
PLOT_NAMES = {
    "predictions_per_class",
    "confidence_histogram",
    "confidence_over_time",
    "below_threshold_per_hour",
    "confusion_matrix",
    "image_grid",
}


@dataclass(frozen=True)
class Capture:
    """One planned inference: when, the true class folder (None: no inference ID), the model's output."""

    time: str
    true_class: str | None
    probabilities: tuple[float, float]


# Two hours of traffic at the default threshold 0.93. Expected numbers, worked out by hand:
# hour 10: 10 records, 1 rejected; hour 11: 11 records, 5 rejected -> 6/21 below threshold.
# Accepted with ground truth: 14, of which 13 correct. Rejected: 6, of which 3 correct.
# Predicted bicycle: 9 (7 accepted); predicted motorcycle: 12 (8 accepted).
CAPTURES = [
    Capture("2026-11-22T10:01:00Z", "bicycle", (0.99, 0.01)),
    Capture("2026-11-22T10:05:00Z", "bicycle", (0.97, 0.03)),
    Capture("2026-11-22T10:09:00Z", "bicycle", (0.95, 0.05)),
    Capture("2026-11-22T10:14:00Z", "bicycle", (0.93, 0.07)),  # exactly at the threshold: accepted
    Capture("2026-11-22T10:20:00Z", "motorcycle", (0.02, 0.98)),
    Capture("2026-11-22T10:26:00Z", "motorcycle", (0.01, 0.99)),
    Capture("2026-11-22T10:33:00Z", "motorcycle", (0.04, 0.96)),
    Capture("2026-11-22T10:41:00Z", "motorcycle", (0.06, 0.94)),
    Capture("2026-11-22T10:48:00Z", "bicycle", (0.05, 0.95)),  # accepted, wrong
    Capture("2026-11-22T10:55:00Z", "motorcycle", (0.20, 0.80)),  # rejected, right
    Capture("2026-11-22T11:02:00Z", "bicycle", (0.98, 0.02)),
    Capture("2026-11-22T11:07:00Z", "bicycle", (0.96, 0.04)),
    Capture("2026-11-22T11:12:00Z", "motorcycle", (0.03, 0.97)),
    Capture("2026-11-22T11:18:00Z", "motorcycle", (0.01, 0.99)),
    Capture("2026-11-22T11:24:00Z", "motorcycle", (0.05, 0.95)),
    Capture("2026-11-22T11:30:00Z", "bicycle", (0.40, 0.60)),  # rejected, wrong
    Capture("2026-11-22T11:36:00Z", "motorcycle", (0.75, 0.25)),  # rejected, wrong
    Capture("2026-11-22T11:42:00Z", "bicycle", (0.35, 0.65)),  # rejected, wrong
    Capture("2026-11-22T11:48:00Z", "bicycle", (0.90, 0.10)),  # rejected, right
    Capture("2026-11-22T11:53:00Z", "motorcycle", (0.45, 0.55)),  # rejected, right
    Capture("2026-11-22T11:58:00Z", None, (0.99, 0.01)),  # no inference ID: no ground truth
]
CORRUPT_LINE = b'{"captureData": {"endpointInput": '
WRONG_ARITY_OUTPUT = "[0.5]"


@pytest.fixture(scope="module")
def cifar_pngs() -> dict[str, list[tuple[str, bytes]]]:
    """Real test-split images per class, as PNG bytes, keyed by our class name."""
    with tarfile.open(CIFAR) as archive:
        member = archive.extractfile("cifar-100-python/test")
        assert member is not None
        batch = pickle.load(member, encoding="bytes")
    classes = {8: "bicycle", 48: "motorcycle"}
    images: dict[str, list[tuple[str, bytes]]] = {"bicycle": [], "motorcycle": []}
    for row, label, filename in zip(batch[b"data"], batch[b"fine_labels"], batch[b"filenames"], strict=True):
        pixels = row.reshape(3, 32, 32).transpose(1, 2, 0)  # channel-major rows
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, format="PNG")
        images[classes[label]].append((filename.decode(), buffer.getvalue()))
    return images


def capture_record(capture: Capture, png: bytes, filename: str, output_encoding: str = "JSON") -> dict[str, Any]:
    """A record in SageMaker's data-capture format (see docs/contracts.md)."""
    if output_encoding == "JSON":
        output = {
            "observedContentType": "application/json",
            "mode": "OUTPUT",
            "data": json.dumps(list(capture.probabilities)),
            "encoding": "JSON",
        }
    else:
        output = {
            "observedContentType": "text/csv",
            "mode": "OUTPUT",
            "data": ",".join(str(p) for p in capture.probabilities),
            "encoding": "CSV",
        }
    metadata: dict[str, str] = {"eventId": str(uuid.uuid4()), "inferenceTime": capture.time}
    if capture.true_class is not None:
        metadata["inferenceId"] = f"data/test/{capture.true_class}/{filename}"
    return {
        "captureData": {
            "endpointInput": {
                "observedContentType": "image/png",
                "mode": "INPUT",
                "data": base64.b64encode(png).decode("ascii"),
                "encoding": "BASE64",
            },
            "endpointOutput": output,
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }


def capture_files(cifar_pngs: dict[str, list[tuple[str, bytes]]], output_encoding: str = "JSON") -> dict[str, bytes]:
    """Relative path -> content, in `<endpoint>/<variant>/YYYY/MM/DD/HH/<mm-ss-SSS>-<uuid>.jsonl`.

    One file per hour plus a third file, so the corrupt lines have distinct locations:
    line 2 of the 10:00 file is truncated JSON, line 3 of the extra file has one probability.
    """
    lines_by_hour: dict[str, list[bytes]] = {}
    for index, capture in enumerate(CAPTURES):
        folder = capture.true_class or "bicycle"
        filename, png = cifar_pngs[folder][index]
        line = json.dumps(capture_record(capture, png, filename, output_encoding)).encode()
        hour = datetime.fromisoformat(capture.time).astimezone(UTC).strftime("%Y/%m/%d/%H")
        lines_by_hour.setdefault(hour, []).append(line)
    files = {
        f"{ENDPOINT_PREFIX}/2026/11/22/10/00-00-000-{uuid.UUID(int=1)}.jsonl": lines_by_hour["2026/11/22/10"],
        f"{ENDPOINT_PREFIX}/2026/11/22/11/00-00-000-{uuid.UUID(int=2)}.jsonl": lines_by_hour["2026/11/22/11"],
    }
    files[next(iter(files))].insert(1, CORRUPT_LINE)
    extra = json.loads(files[next(iter(files))][0])
    extra["captureData"]["endpointOutput"]["data"] = WRONG_ARITY_OUTPUT
    if output_encoding == "CSV":
        extra["captureData"]["endpointOutput"]["data"] = "0.5"
    # Two blank lines first: line numbers count them, as an editor would.
    files[f"{ENDPOINT_PREFIX}/2026/11/22/11/59-59-999-{uuid.UUID(int=3)}.jsonl"] = [
        b"",
        b"",
        json.dumps(extra).encode(),
    ]
    return {path: b"\n".join(lines) + b"\n" for path, lines in files.items()}


def write_tree(root: Path, files: dict[str, bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["monitor", *args])
    return result.exit_code, result.output


def assert_expected_numbers(summary: dict[str, Any]) -> None:
    assert summary["records"] == 21
    assert summary["files_read"] == 3
    assert summary["threshold"] == 0.93
    assert summary["time_range"] == {"first": "2026-11-22T10:01:00Z", "last": "2026-11-22T11:58:00Z"}
    assert summary["predictions_per_class"] == {
        "bicycle": {"predicted": 9, "accepted": 7, "rejected": 2, "out_of_distribution": 0},
        "motorcycle": {"predicted": 12, "accepted": 8, "rejected": 4, "out_of_distribution": 0},
    }
    assert summary["below_threshold"] == {"count": 6, "share": round(6 / 21, 6)}
    # Plain-list answers carry no verdict: nothing was checked, so nothing is flagged.
    assert summary["out_of_distribution"] == {"count": 0, "share": 0.0, "checked": 0}
    none_flagged = {"out_of_distribution": 0, "share_out_of_distribution": 0.0}
    assert summary["hourly"] == [
        {
            "hour": "2026-11-22T10:00:00Z",
            "records": 10,
            "below_threshold": 1,
            "share_below_threshold": 0.1,
            **none_flagged,
        },
        {
            "hour": "2026-11-22T11:00:00Z",
            "records": 11,
            "below_threshold": 5,
            "share_below_threshold": round(5 / 11, 6),
            **none_flagged,
        },
    ]
    truth = summary["ground_truth"]
    assert truth["records_with_truth"] == 20
    assert truth["accepted"]["records_with_truth"] == 14
    assert truth["accepted"]["correct"] == 13
    assert truth["accepted"]["accuracy"] == round(13 / 14, 6)
    assert truth["rejected"]["correct"] == 3
    assert truth["rejected"]["accuracy"] == 0.5
    # rows: true bicycle, true motorcycle; columns: predicted bicycle, predicted motorcycle
    assert truth["accepted"]["confusion_matrix"] == [[6, 1], [0, 7]]
    assert truth["rejected"]["confusion_matrix"] == [[1, 2], [1, 2]]
    assert truth["all"]["confusion_matrix"] == [[7, 3], [1, 9]]
    histogram = summary["confidence_histogram"]
    assert sum(histogram["accepted_counts"]) == 15
    assert sum(histogram["rejected_counts"]) == 6
    assert 0.93 in histogram["bin_edges"]
    assert summary["headline"] == (
        "21 predictions, 28.6% below the 0.93 threshold, none checked for out-of-distribution images, "
        "accepted accuracy 92.9% (ground truth for 20 of 21) (2 corrupt records skipped)."
    )


def assert_corrupt_reported(summary: dict[str, Any], location_prefix: str) -> None:
    assert summary["corrupt_records"] == 2
    locations = {c["location"]: c["reason"] for c in summary["corrupt"]}
    first = f"{location_prefix}{ENDPOINT_PREFIX}/2026/11/22/10/00-00-000-{uuid.UUID(int=1)}.jsonl:2"
    second = f"{location_prefix}{ENDPOINT_PREFIX}/2026/11/22/11/59-59-999-{uuid.UUID(int=3)}.jsonl:3"
    assert set(locations) == {first, second}
    assert "not valid JSON" in locations[first]
    assert "1 values, expected 2" in locations[second]


def assert_self_contained_report(out: Path, expect_plots: set[str]) -> None:
    html = (out / "report.html").read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html, re.IGNORECASE)
    assert "<script" not in html.lower()
    embedded = dict(re.findall(r'<img id="([a-z_]+)"[^>]*src="data:image/png;base64,([^"]+)"', html))
    assert set(embedded) == expect_plots
    for name, encoded in embedded.items():
        png = base64.b64decode(encoded)
        assert png == (out / "plots" / f"{name}.png").read_bytes()
        with Image.open(io.BytesIO(png)) as image:
            assert image.format == "PNG"
            assert image.width >= 400 and image.height >= 200
    assert {p.stem for p in (out / "plots").glob("*.png")} == expect_plots


def test_local_capture_gives_the_numbers_a_person_checks(
    tmp_path: Path, cifar_pngs: dict[str, list[tuple[str, bytes]]]
) -> None:
    capture_root = tmp_path / "capture"
    write_tree(capture_root, capture_files(cifar_pngs))
    out = tmp_path / "report"

    exit_code, output = run_cli("--local-dir", str(capture_root), "--out", str(out))

    assert exit_code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert_expected_numbers(summary)
    assert_corrupt_reported(summary, f"{capture_root}/")
    assert summary["images_in_grid"] == 21
    assert_self_contained_report(out, PLOT_NAMES)
    html = (out / "report.html").read_text(encoding="utf-8")
    assert summary["headline"] in html
    assert "00-00-000-00000000-0000-0000-0000-000000000001.jsonl:2" in html
    assert summary["headline"] in output
    assert str(out / "report.html") in output


def test_csv_encoded_responses_give_the_same_numbers(
    tmp_path: Path, cifar_pngs: dict[str, list[tuple[str, bytes]]]
) -> None:
    capture_root = tmp_path / "capture"
    write_tree(capture_root, capture_files(cifar_pngs, output_encoding="CSV"))

    exit_code, output = run_cli("--local-dir", str(capture_root), "--out", str(tmp_path / "out"))

    assert exit_code == 0, output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert_expected_numbers(summary)
    assert_corrupt_reported(summary, f"{capture_root}/")


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        yield


@pytest.mark.usefixtures("aws_credentials")
def test_s3_capture_is_read_recursively_under_the_prefix_only(
    tmp_path: Path, cifar_pngs: dict[str, list[tuple[str, bytes]]]
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="scones-capture")
    for relative, content in capture_files(cifar_pngs).items():
        s3.put_object(Bucket="scones-capture", Key=f"data-capture/{relative}", Body=content)
    # Neither of these may be read: a different prefix that shares a name start, and a non-JSONL object.
    s3.put_object(
        Bucket="scones-capture",
        Key=f"data-capture-old/{ENDPOINT_PREFIX}/2026/11/22/10/x.jsonl",
        Body=CORRUPT_LINE,
    )
    s3.put_object(Bucket="scones-capture", Key=f"data-capture/{ENDPOINT_PREFIX}/notes.txt", Body=CORRUPT_LINE)
    out = tmp_path / "report"

    exit_code, output = run_cli("--s3-uri", "s3://scones-capture/data-capture", "--out", str(out))

    assert exit_code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["source"] == "s3://scones-capture/data-capture/"
    assert_expected_numbers(summary)
    assert_corrupt_reported(summary, "s3://scones-capture/data-capture/")
    assert_self_contained_report(out, PLOT_NAMES)


@pytest.mark.usefixtures("aws_credentials")
def test_s3_prefix_narrowed_to_one_hour(tmp_path: Path, cifar_pngs: dict[str, list[tuple[str, bytes]]]) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="scones-capture")
    for relative, content in capture_files(cifar_pngs).items():
        s3.put_object(Bucket="scones-capture", Key=f"data-capture/{relative}", Body=content)

    uri = f"s3://scones-capture/data-capture/{ENDPOINT_PREFIX}/2026/11/22/10"
    exit_code, output = run_cli("--s3-uri", uri, "--out", str(tmp_path / "out"))

    assert exit_code == 0, output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["records"] == 10
    assert summary["below_threshold"]["count"] == 1
    assert summary["corrupt_records"] == 1


@pytest.mark.usefixtures("aws_credentials")
def test_missing_bucket_is_a_clear_error(tmp_path: Path) -> None:
    exit_code, output = run_cli("--s3-uri", "s3://no-such-bucket/capture", "--out", str(tmp_path / "out"))
    assert exit_code == 1
    assert "cannot list s3://no-such-bucket/capture/" in output
    assert "NoSuchBucket" in output


def test_zero_records_give_a_clear_report(tmp_path: Path) -> None:
    capture_root = tmp_path / "capture"
    capture_root.mkdir()
    out = tmp_path / "report"

    exit_code, output = run_cli("--local-dir", str(capture_root), "--out", str(out))

    assert exit_code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records"] == 0
    assert summary["corrupt_records"] == 0
    assert summary["time_range"] is None
    assert summary["ground_truth"] is None
    assert summary["below_threshold"] == {"count": 0, "share": None}
    assert summary["headline"] == f"No predictions captured: 0 capture files under {capture_root}."
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Nothing to show yet" in html
    assert "data:image/png" not in html
    assert list((out / "plots").glob("*.png")) == []


def test_only_corrupt_lines_report_them_and_no_predictions(tmp_path: Path) -> None:
    capture_root = tmp_path / "capture"
    write_tree(capture_root, {f"{ENDPOINT_PREFIX}/2026/11/22/10/00-00-000-a.jsonl": CORRUPT_LINE + b"\n"})
    out = tmp_path / "report"

    exit_code, output = run_cli("--local-dir", str(capture_root), "--out", str(out))

    assert exit_code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records"] == 0
    assert summary["corrupt_records"] == 1
    assert summary["corrupt"][0]["location"].endswith("00-00-000-a.jsonl:1")
    assert "1 corrupt record skipped" in summary["headline"]
    assert "Every captured line was corrupt" in (out / "report.html").read_text(encoding="utf-8")


def test_single_record_renders_every_plot(tmp_path: Path, cifar_pngs: dict[str, list[tuple[str, bytes]]]) -> None:
    filename, png = cifar_pngs["motorcycle"][0]
    record = capture_record(Capture("2026-11-22T10:01:00Z", "motorcycle", (0.1, 0.9)), png, filename)
    capture_root = tmp_path / "capture"
    write_tree(capture_root, {"one.jsonl": json.dumps(record).encode()})
    out = tmp_path / "report"

    exit_code, output = run_cli("--local-dir", str(capture_root), "--out", str(out))

    assert exit_code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["records"] == 1
    assert summary["ground_truth"]["rejected"]["accuracy"] == 1.0
    assert summary["ground_truth"]["accepted"]["accuracy"] is None
    assert_self_contained_report(out, PLOT_NAMES)


def test_image_grid_is_bounded_and_shows_rejected_first(
    tmp_path: Path, cifar_pngs: dict[str, list[tuple[str, bytes]]]
) -> None:
    capture_root = tmp_path / "capture"
    write_tree(capture_root, capture_files(cifar_pngs))

    stats = collect(LocalCaptureSource(capture_root), threshold=0.93, max_images=4)
    grid = stats.images.images()

    # 6 rejected, 15 accepted: three quarters of the grid go to a sample of the rejected ones,
    # shown least confident first, then one accepted image for comparison.
    rejected_shown = [p.confidence for p in grid[:3]]
    assert rejected_shown == sorted(rejected_shown)
    assert set(rejected_shown) <= {0.55, 0.6, 0.65, 0.75, 0.8, 0.9}
    assert len(set(p.location for p in grid)) == 4
    assert len(grid) == 4 and grid[3].confidence >= 0.93
    assert all(p.input_bytes and p.input_bytes.startswith(b"\x89PNG") for p in grid)


def test_image_sample_memory_is_bounded_for_thousands_of_records(
    cifar_pngs: dict[str, list[tuple[str, bytes]]],
) -> None:
    from scones.monitor.capture import decode_capture_line

    sample = ImageSample(threshold=0.93, capacity=8)
    filename, png = cifar_pngs["bicycle"][0]
    for index in range(3000):
        confidence = 0.5 + (index % 50) / 100
        capture = Capture(f"2026-11-22T10:{index % 60:02d}:00Z", "bicycle", (confidence, 1 - confidence))
        sample.offer(decode_capture_line(json.dumps(capture_record(capture, png, filename)), f"f:{index}"))

    grid = sample.images()
    assert len(grid) == 8
    assert sample.held == 16
    assert sum(p.confidence < 0.93 for p in grid) == 6


def test_source_is_required_and_exclusive(tmp_path: Path) -> None:
    exit_code, output = run_cli("--out", str(tmp_path))
    assert exit_code == 2 and "--s3-uri" in output
    exit_code, output = run_cli("--local-dir", str(tmp_path), "--s3-uri", "s3://b/p")
    assert exit_code == 2 and "not both" in output


def test_missing_local_folder_is_a_clear_error(tmp_path: Path) -> None:
    exit_code, output = run_cli("--local-dir", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert exit_code == 1
    assert "does not exist" in output


def _full_answer_line(capture: Capture, png: bytes, filename: str, score: float, flagged: bool) -> bytes:
    """A record of what ClassifyImage asks for: the full answer, captured base64 under its media type."""
    record = capture_record(capture, png, filename)
    answer = {"probabilities": list(capture.probabilities), "in_distribution": score, "out_of_distribution": flagged}
    record["captureData"]["endpointOutput"] = {
        "observedContentType": "application/vnd.scones.prediction+json",
        "mode": "OUTPUT",
        "data": base64.b64encode(json.dumps(answer).encode()).decode(),
        "encoding": "BASE64",
    }
    return json.dumps(record).encode()


def test_flagged_records_are_counted_charted_and_shown_first(
    tmp_path: Path, cifar_pngs: dict[str, list[tuple[str, bytes]]]
) -> None:
    """Full answers next to plain ones: the flagged images are rejected whatever their confidence, counted
    per hour, and come first in the grid; a plain answer counts as not checked."""
    (bike, bike_png), (moto, moto_png), (odd, odd_png) = (cifar_pngs["bicycle"][i] for i in range(3))
    lines = [
        _full_answer_line(Capture("2026-11-22T10:01:00Z", "bicycle", (0.99, 0.01)), bike_png, bike, 2.0, False),
        _full_answer_line(Capture("2026-11-22T10:02:00Z", "bicycle", (0.995, 0.005)), odd_png, odd, -4.0, True),
        _full_answer_line(Capture("2026-11-22T11:03:00Z", "motorcycle", (0.40, 0.60)), moto_png, moto, -5.5, True),
        json.dumps(capture_record(Capture("2026-11-22T11:04:00Z", "bicycle", (0.97, 0.03)), bike_png, bike)).encode(),
    ]
    capture_root = tmp_path / "capture"
    write_tree(capture_root, {f"{ENDPOINT_PREFIX}/2026/11/22/10/00-00-000-{uuid.UUID(int=9)}.jsonl": b"\n".join(lines)})
    out = tmp_path / "report"
    exit_code, output = run_cli("--local-dir", str(capture_root), "--out", str(out))
    assert exit_code == 0, output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["out_of_distribution"] == {"count": 2, "share": 0.5, "checked": 3}
    # The confident flagged bicycle is rejected, not accepted; the unsure flagged one is not "below threshold".
    assert summary["below_threshold"]["count"] == 0
    assert summary["predictions_per_class"]["bicycle"] == {
        "predicted": 3, "accepted": 2, "rejected": 1, "out_of_distribution": 1,
    }  # fmt: skip
    assert [(h["out_of_distribution"], h["records"]) for h in summary["hourly"]] == [(1, 2), (1, 2)]
    assert "50.0% flagged out of distribution (1 not checked)" in summary["headline"]
    assert_self_contained_report(out, PLOT_NAMES | {"out_of_distribution_per_hour"})
    assert "out of distribution (2)" in (out / "report.html").read_text(encoding="utf-8")
    # The grid shows the flagged images first (the confident one included), then the accepted, least sure first.
    stats = collect(LocalCaptureSource(capture_root), threshold=0.93)
    grid = stats.images.images()
    assert [(p.out_of_distribution, p.confidence) for p in grid] == [
        (True, 0.6), (True, 0.995), (None, 0.97), (False, 0.99),
    ]  # fmt: skip
    assert {p.ood_score for p in grid[:2]} == {-4.0, -5.5}
