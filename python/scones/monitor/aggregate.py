"""Fold captured predictions into the numbers the report and `summary.json` show.

Per record only a few numbers are kept (time, confidence, predicted and true class, the
out-of-distribution verdict), so thousands of records cost kilobytes; images go to the bounded
`ImageSample`. A prediction is accepted as the filter accepts it: not flagged out of distribution, and
at or above the threshold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from scones import CLASS_NAMES
from scones.monitor.capture import CapturedPrediction
from scones.monitor.image_sample import DEFAULT_MAX_IMAGES, ImageSample

MAX_CORRUPT_LISTED = 100
"""How many corrupt locations summary.json lists; all of them are counted."""

HISTOGRAM_BIN_WIDTH = 0.01
NO_TRUTH = -1


@dataclass(frozen=True)
class CorruptRecord:
    location: str
    reason: str


@dataclass(frozen=True)
class PredictionArrays:
    """Column view of all predictions, in the order they were read."""

    times: np.ndarray  # float seconds since the epoch, UTC
    confidence: np.ndarray
    predicted: np.ndarray  # class index
    truth: np.ndarray  # class index, NO_TRUTH where unknown
    flagged: np.ndarray  # bool: the model's guard flagged it out of distribution
    checked: np.ndarray  # bool: the answer carried a verdict
    accepted: np.ndarray  # bool: not flagged and confidence >= threshold

    @property
    def below_threshold(self) -> np.ndarray:
        """Rejected by the threshold (a flagged image is rejected first, as the filter does)."""
        return ~self.accepted & ~self.flagged

    @property
    def has_truth(self) -> np.ndarray:
        return self.truth != NO_TRUTH

    @property
    def correct(self) -> np.ndarray:
        return self.has_truth & (self.predicted == self.truth)


@dataclass
class MonitorStats:
    threshold: float
    max_images: int = DEFAULT_MAX_IMAGES
    files_read: int = 0
    corrupt_count: int = 0
    corrupt_listed: list[CorruptRecord] = field(default_factory=list)
    _times: list[float] = field(default_factory=list)
    _confidence: list[float] = field(default_factory=list)
    _predicted: list[int] = field(default_factory=list)
    _truth: list[int] = field(default_factory=list)
    _flagged: list[bool] = field(default_factory=list)
    _checked: list[bool] = field(default_factory=list)
    images: ImageSample = field(init=False)

    def __post_init__(self) -> None:
        self.images = ImageSample(self.threshold, capacity=self.max_images)

    def add(self, prediction: CapturedPrediction) -> None:
        self._times.append(prediction.inference_time.timestamp())
        self._confidence.append(prediction.confidence)
        self._predicted.append(prediction.predicted_class)
        truth = prediction.true_class
        self._truth.append(NO_TRUTH if truth is None else truth)
        self._flagged.append(prediction.out_of_distribution is True)
        self._checked.append(prediction.out_of_distribution is not None)
        self.images.offer(prediction)

    def add_corrupt(self, location: str, reason: str) -> None:
        self.corrupt_count += 1
        if len(self.corrupt_listed) < MAX_CORRUPT_LISTED:
            self.corrupt_listed.append(CorruptRecord(location, reason))

    @property
    def record_count(self) -> int:
        return len(self._times)

    def arrays(self) -> PredictionArrays:
        confidence = np.asarray(self._confidence, dtype=float)
        flagged = np.asarray(self._flagged, dtype=bool)
        return PredictionArrays(
            times=np.asarray(self._times, dtype=float),
            confidence=confidence,
            predicted=np.asarray(self._predicted, dtype=int),
            truth=np.asarray(self._truth, dtype=int),
            flagged=flagged,
            checked=np.asarray(self._checked, dtype=bool),
            accepted=(confidence >= self.threshold) & ~flagged,
        )


def histogram_edges(confidence: np.ndarray, threshold: float) -> np.ndarray:
    """Bins of HISTOGRAM_BIN_WIDTH from 0.5 (the least a top probability of two can be) to 1.

    The threshold is always a bin edge, so no bar mixes accepted and rejected predictions.
    Outputs that do not sum to one can go below 0.5; the range then starts lower too.
    """
    low = 0.5
    if confidence.size and float(confidence.min()) < low:
        low = math.floor(float(confidence.min()) / HISTOGRAM_BIN_WIDTH) * HISTOGRAM_BIN_WIDTH
    bins = round((1.0 - low) / HISTOGRAM_BIN_WIDTH)
    edges = np.round(np.linspace(low, 1.0, bins + 1), 9)
    if low < threshold < 1.0 and not np.isclose(edges, threshold, rtol=0, atol=1e-9).any():
        edges = np.sort(np.append(edges, threshold))
    return edges


def hourly_buckets(arrays: PredictionArrays) -> list[dict[str, Any]]:
    """Records and the shares below threshold and out of distribution for each UTC hour that has records."""
    hours = np.floor(arrays.times / 3600.0).astype(np.int64)
    buckets: list[dict[str, Any]] = []
    for hour in np.unique(hours):
        in_hour = hours == hour
        records = int(in_hour.sum())
        below = int((in_hour & arrays.below_threshold).sum())
        flagged = int((in_hour & arrays.flagged).sum())
        buckets.append(
            {
                "hour": _iso(float(hour) * 3600.0),
                "records": records,
                "below_threshold": below,
                "share_below_threshold": _ratio(below, records),
                "out_of_distribution": flagged,
                "share_out_of_distribution": _ratio(flagged, records),
            }
        )
    return buckets


def confusion_matrix(arrays: PredictionArrays, mask: np.ndarray) -> list[list[int]]:
    """matrix[true class][predicted class] over the records in `mask` that have ground truth."""
    size = len(CLASS_NAMES)
    matrix = np.zeros((size, size), dtype=int)
    selected = mask & arrays.has_truth
    np.add.at(matrix, (arrays.truth[selected], arrays.predicted[selected]), 1)
    return matrix.tolist()


def _group_accuracy(arrays: PredictionArrays, mask: np.ndarray) -> dict[str, Any]:
    with_truth = mask & arrays.has_truth
    records = int(with_truth.sum())
    correct = int((with_truth & arrays.correct).sum())
    return {
        "records_with_truth": records,
        "correct": correct,
        "accuracy": _ratio(correct, records),
        "confusion_matrix": confusion_matrix(arrays, mask),
    }


def ground_truth_summary(arrays: PredictionArrays) -> dict[str, Any] | None:
    """Accuracy of all, accepted and rejected predictions, or None when no key names a class."""
    if not arrays.has_truth.any():
        return None
    everything = np.ones_like(arrays.accepted)
    return {
        "records_with_truth": int(arrays.has_truth.sum()),
        "labels": list(CLASS_NAMES),
        "all": _group_accuracy(arrays, everything),
        "accepted": _group_accuracy(arrays, arrays.accepted),
        "rejected": _group_accuracy(arrays, ~arrays.accepted),
    }


def headline(summary: dict[str, Any]) -> str:
    """One plain sentence a person reads first."""
    records = summary["records"]
    corrupt = summary["corrupt_records"]
    corrupt_note = f" ({corrupt} corrupt record{'s' if corrupt != 1 else ''} skipped)" if corrupt else ""
    if records == 0:
        files = summary["files_read"]
        return (
            f"No predictions captured: {files} capture file{'s' if files != 1 else ''} "
            f"under {summary['source']}{corrupt_note}."
        )
    below = summary["below_threshold"]
    text = (
        f"{records} prediction{'s' if records != 1 else ''}, "
        f"{format_percent(below['share'])} below the {summary['threshold']:g} threshold"
    )
    ood = summary["out_of_distribution"]
    if ood["checked"]:
        text += f", {format_percent(ood['share'])} flagged out of distribution"
        if ood["checked"] < records:
            text += f" ({records - ood['checked']} not checked)"
    else:
        text += ", none checked for out-of-distribution images"
    truth = summary["ground_truth"]
    if truth is None:
        text += ", accepted accuracy unknown (no class in the inference IDs)"
    else:
        accepted = truth["accepted"]["accuracy"]
        text += ", accepted accuracy " + ("n/a (none accepted)" if accepted is None else format_percent(accepted))
        if truth["records_with_truth"] < records:
            text += f" (ground truth for {truth['records_with_truth']} of {records})"
    return text + corrupt_note + "."


def build_summary(stats: MonitorStats, source: str) -> dict[str, Any]:
    arrays = stats.arrays()
    records = stats.record_count
    below = int(arrays.below_threshold.sum())
    flagged = int(arrays.flagged.sum())
    edges = histogram_edges(arrays.confidence, stats.threshold)
    accepted_counts, _ = np.histogram(arrays.confidence[arrays.accepted], bins=edges)
    rejected_counts, _ = np.histogram(arrays.confidence[~arrays.accepted], bins=edges)
    per_class = {
        name: {
            "predicted": int((arrays.predicted == index).sum()),
            "accepted": int(((arrays.predicted == index) & arrays.accepted).sum()),
            "rejected": int(((arrays.predicted == index) & ~arrays.accepted).sum()),
            "out_of_distribution": int(((arrays.predicted == index) & arrays.flagged).sum()),
        }
        for index, name in enumerate(CLASS_NAMES)
    }
    summary: dict[str, Any] = {
        "source": source,
        "threshold": stats.threshold,
        "files_read": stats.files_read,
        "records": records,
        "corrupt_records": stats.corrupt_count,
        "corrupt": [{"location": c.location, "reason": c.reason} for c in stats.corrupt_listed],
        "time_range": (
            {"first": _iso(float(arrays.times.min())), "last": _iso(float(arrays.times.max()))} if records else None
        ),
        "predictions_per_class": per_class,
        "below_threshold": {"count": below, "share": _ratio(below, records)},
        # share: of all predictions; checked: how many answers carried a verdict at all.
        "out_of_distribution": {
            "count": flagged,
            "share": _ratio(flagged, records),
            "checked": int(arrays.checked.sum()),
        },
        "mean_confidence": round(float(arrays.confidence.mean()), 6) if records else None,
        "confidence_histogram": {
            "bin_edges": [round(float(e), 6) for e in edges],
            "accepted_counts": accepted_counts.tolist(),
            "rejected_counts": rejected_counts.tolist(),
        },
        "hourly": hourly_buckets(arrays),
        "ground_truth": ground_truth_summary(arrays),
        "images_in_grid": len(stats.images.images()),
    }
    summary["headline"] = headline(summary)
    return summary


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 6) if denominator else None


def format_percent(share: float | None) -> str:
    if share is None:
        return "n/a"
    text = f"{share * 100:.1f}%"
    # Never round a few misses away (or a few hits into existence).
    if text == "100.0%" and share < 1:
        return ">99.9%"
    if text == "0.0%" and share > 0:
        return "<0.1%"
    return text


def _iso(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).isoformat().replace("+00:00", "Z")
