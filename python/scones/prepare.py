"""`scones prepare`: CIFAR-100 bicycles/motorcycles -> PNGs + .lst files (-> S3)."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from scones import CLASS_NAMES
from scones.aws import aws_options, make_session
from scones.data.cifar import SPLITS, read_archive
from scones.data.download import CIFAR100_MD5, CIFAR100_URL, download, md5_of
from scones.data.layout import write_split
from scones.data.s3_sync import sync_folder
from scones.paths import repo_default, repo_root


def prepare_local(source: Path, out: Path) -> dict[str, dict[str, int]]:
    """Write both splits under `out`; returns image counts per split and class."""
    splits = read_archive(source)
    counts: dict[str, dict[str, int]] = {}
    for name in SPLITS:
        split_dir = out / name
        if split_dir.exists():  # stale images from another archive must not survive
            shutil.rmtree(split_dir)
        entries = write_split(splits[name], out)
        counts[name] = {cls: sum(1 for _, label in entries if label == i) for i, cls in enumerate(CLASS_NAMES)}
    return counts


def prepared_files(out: Path) -> list[Path]:
    files = [out / f"{split}.lst" for split in SPLITS]
    for split in SPLITS:
        files.extend(sorted((out / split).rglob("*.png")))
    return files


@click.command("prepare")
@click.option(
    "--source",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    default=None,
    help="A local CIFAR-100 python tarball (same layout as the official one) instead of downloading.",
)
@click.option("--url", default=CIFAR100_URL, show_default=True, help="Where to download the archive from.")
@click.option(
    "--download-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Where the downloaded archive is kept (default: <repo>/data/downloads).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    **repo_default("data/prepared"),
    help="Folder for the PNGs and .lst files.",
)
@click.option("--bucket", default=None, help="Upload the prepared data to this S3 bucket.")
@click.option("--prefix", default="data", show_default=True, help="Key prefix in the bucket.")
@click.option("--no-upload", is_flag=True, help="Only write the local files.")
@aws_options
def prepare_cmd(
    source: Path | None,
    url: str,
    download_dir: Path | None,
    out: Path,
    bucket: str | None,
    prefix: str,
    no_upload: bool,
    region: str | None,
    endpoint_url: str | None,
    profile: str | None,
) -> None:
    """Stage CIFAR-100 bicycles (class 0) and motorcycles (class 1) as PNGs, .lst files and S3 objects."""
    if no_upload and bucket:
        raise click.UsageError("--no-upload and --bucket contradict each other")
    if source is None:
        source = download(url, (download_dir or repo_root() / "data" / "downloads") / "cifar-100-python.tar.gz")
    elif md5_of(source) == CIFAR100_MD5:
        click.echo(f"{source}: the official CIFAR-100 archive (MD5 verified)")
    else:
        click.echo(f"{source}: not the official archive; checking its structure instead of its MD5")
    counts = prepare_local(source, out)
    for split, per_class in counts.items():
        detail = ", ".join(f"{n} {cls}" for cls, n in per_class.items())
        click.echo(f"{split}: {sum(per_class.values())} images ({detail}) -> {out / split}")
    if not bucket:
        if not no_upload:
            click.echo("not uploading: pass --bucket to stage the data in S3")
        return
    s3 = make_session(region=region, endpoint_url=endpoint_url, profile=profile).client("s3")
    result = sync_folder(s3, out, prepared_files(out), bucket, prefix)
    click.echo(
        f"s3://{bucket}/{prefix.strip('/')}/: {result.uploaded} uploaded, "
        f"{result.skipped} skipped (already there, unchanged)"
    )
