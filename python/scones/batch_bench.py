"""`make bench`'s batch figure: images per second through the batch state machine's Distributed Map, in the design
the local root deploys (the chunked variant, 10 images per chunk, the default; docs/batch.md).

`count` copies of the test images are put under one prefix of the data bucket (server-side copies), one batch
runs over them, and the figure is count / (the execution's stop - start): listing, every child workflow and the
ResultWriter's files included, as a user of `scones batch` waits for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from scones import batch

PREFIX = "data/bench-batch/"
WARMUP_PREFIX = "data/bench-batch-warmup/"


def stage_copies(s3: Any, bucket: str, keys: Sequence[str], count: int, prefix: str) -> str:
    """`count` objects under `prefix`, copies of `keys` in turn (each keeps its class folder for accuracy)."""
    for index in range(count):
        source = keys[index % len(keys)]
        folder, name = source.rsplit("/", 2)[-2:]
        s3.copy_object(
            Bucket=bucket, Key=f"{prefix}{folder}/{index:05d}-{name}", CopySource={"Bucket": bucket, "Key": source}
        )
    return prefix


def measure_map_throughput(
    session: Any, machine_arn: str, bucket: str, keys: Sequence[str], *, count: int, warmup: int = 0
) -> dict[str, Any]:
    """Images per second of one batch over `count` copies of the test images, after an unmeasured batch of
    `warmup` children (so the Lambda sandboxes the Map's concurrent children need are warm, as in a steady
    stream): `warmup` images per item, `warmup` chunks in the chunked variant."""
    s3, sfn = session.client("s3"), session.client("stepfunctions")
    machine = batch.BatchMachine.describe(sfn, machine_arn)
    warmup = min(count, warmup * machine.items_per_chunk)
    if warmup:
        _run(s3, sfn, machine, stage_copies(s3, bucket, keys, warmup, WARMUP_PREFIX), warmup)
    seconds = _run(s3, sfn, machine, stage_copies(s3, bucket, keys, count, PREFIX), count)
    return {
        "batch_map_images_per_second": count / max(seconds, 1e-6),
        "batch_map_images": count,
        # The design measured: 1, each image its own child (three functions); more, the chunked variant.
        "batch_map_items_per_chunk": machine.items_per_chunk,
    }


def _run(s3: Any, sfn: Any, machine: batch.BatchMachine, prefix: str, count: int) -> float:
    """Seconds from the batch execution's start to its stop; BatchError unless every copy was classified."""
    batch.check_prefix(s3, machine, prefix)
    execution = batch.wait(sfn, batch.start(sfn, machine, prefix), timeout_seconds=1800)
    summary, _ = batch.summarize_execution(s3, execution)
    if summary.status != "SUCCEEDED" or summary.total != count or summary.failed:
        raise batch.BatchError(f"the benchmark's batch did not classify all {count} copies: {summary.as_dict()}")
    return float((execution["stopDate"] - execution["startDate"]).total_seconds())
