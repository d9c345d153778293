"""`scones monitor`: report on what the endpoint captured."""

from __future__ import annotations

from pathlib import Path

import click

from scones import DEFAULT_THRESHOLD
from scones.aws import aws_options, make_session
from scones.monitor.errors import CaptureSourceError
from scones.monitor.image_sample import DEFAULT_MAX_IMAGES
from scones.monitor.sources import CaptureSource, LocalCaptureSource, S3CaptureSource
from scones.paths import repo_default


def _make_source(
    s3_uri: str | None, local_dir: Path | None, *, region: str | None, endpoint_url: str | None, profile: str | None
) -> CaptureSource:
    if s3_uri is not None and local_dir is not None:
        raise click.UsageError("give one of --s3-uri or --local-dir, not both")
    if local_dir is not None:
        return LocalCaptureSource(local_dir)
    if s3_uri is None:
        raise click.UsageError("give --s3-uri s3://bucket/prefix or --local-dir DIR")
    session = make_session(region=region, endpoint_url=endpoint_url, profile=profile)
    return S3CaptureSource(s3_uri, session.client("s3"))


@click.command("monitor")
@click.option(
    "--s3-uri",
    help="Capture destination, e.g. s3://bucket/data-capture, optionally narrowed to "
    "/<endpoint>/<variant>/YYYY/... (read as a folder; *.jsonl found recursively).",
)
@click.option(
    "--local-dir",
    type=click.Path(path_type=Path),
    help="Local folder searched recursively for *.jsonl (or one .jsonl file).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=DEFAULT_THRESHOLD,
    show_default=True,
    help="Confidence below which the workflow rejects a prediction.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    **repo_default("build/monitor"),
    help="Where report.html, summary.json and plots/ go.",
)
@click.option(
    "--max-images",
    type=click.IntRange(0, 400),
    default=DEFAULT_MAX_IMAGES,
    show_default=True,
    help="Most captured images in the report's grid (rejected first).",
)
@aws_options
def monitor_cmd(
    s3_uri: str | None,
    local_dir: Path | None,
    threshold: float,
    out_dir: Path,
    max_images: int,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Report on what the endpoint captured: an HTML report with plots, and summary.json.

    Reads SageMaker data-capture JSONL from S3 (AWS or the local emulator) or a local folder.
    Corrupt lines are counted and listed with file:line, never fatal. When inference IDs carry
    S3 keys like data/test/bicycle/x.png, the report also shows accuracy against that class.
    """
    from scones.monitor.run import run_monitor

    source = _make_source(s3_uri, local_dir, region=region, endpoint_url=endpoint_url, profile=profile)
    try:
        result = run_monitor(source, threshold, out_dir, max_images=max_images)
    except CaptureSourceError as exc:
        raise click.ClickException(str(exc)) from exc
    summary = result.summary
    click.echo(summary["headline"])
    if summary["corrupt_records"]:
        first = summary["corrupt"][0]
        click.echo(
            f"{summary['corrupt_records']} corrupt record(s) skipped; first at {first['location']}: {first['reason']}",
            err=True,
        )
    click.echo(f"report:  {result.report_path}")
    click.echo(f"summary: {result.summary_path}")
