"""The report's figures, each rendered to PNG bytes with matplotlib's Agg backend.

Figures are built as `matplotlib.figure.Figure` on an Agg canvas rather than through pyplot, so
no global backend or figure registry is touched and nothing leaks between reports. Every function copes with a single
record; callers skip a figure when there is nothing to draw.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import matplotlib.dates as mdates
import matplotlib.ticker
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from PIL import Image, UnidentifiedImageError

from scones import CLASS_NAMES
from scones.monitor.aggregate import PredictionArrays, format_percent
from scones.monitor.capture import CapturedPrediction
from scones.monitor.image_sample import is_rejected

ACCEPTED_COLOUR = "#1b9e77"
REJECTED_COLOUR = "#d95f02"
WRONG_COLOUR = "#222222"
THRESHOLD_COLOUR = "#444444"
DPI = 110


def _new_figure(width: float, height: float, layout: str | None = "constrained") -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def _to_png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def _tidy(axes: Axes) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", alpha=0.3)
    axes.set_axisbelow(True)


def predictions_per_class_png(summary: dict[str, Any]) -> bytes:
    """Horizontal bars per predicted class, split into accepted and rejected."""
    per_class = summary["predictions_per_class"]
    names = list(CLASS_NAMES)
    accepted = np.array([per_class[n]["accepted"] for n in names])
    rejected = np.array([per_class[n]["rejected"] for n in names])
    figure = _new_figure(7.5, 2.6)
    axes = figure.add_subplot()
    positions = np.arange(len(names))
    axes.barh(positions, accepted, color=ACCEPTED_COLOUR, label="accepted (≥ threshold)")
    axes.barh(positions, rejected, left=accepted, color=REJECTED_COLOUR, label="rejected (< threshold)")
    total = max(int((accepted + rejected).max()), 1)
    for y, (a, r) in enumerate(zip(accepted, rejected, strict=True)):
        count = a + r
        share = format_percent(r / count) if count else "n/a"
        axes.text(count + total * 0.01, y, f"{count}  ({share} rejected)", va="center", fontsize=9)
    axes.set_yticks(positions, [f"predicted\n{n}" for n in names])
    axes.invert_yaxis()
    axes.set_xlim(0, total * 1.35)
    axes.set_xlabel("Predictions")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_title("Predictions per class")
    axes.spines[["top", "right"]].set_visible(False)
    figure.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    return _to_png(figure)


def confidence_histogram_png(summary: dict[str, Any]) -> bytes:
    """Stacked histogram of the top probability, coloured by accepted/rejected, with the threshold."""
    histogram = summary["confidence_histogram"]
    edges = np.asarray(histogram["bin_edges"])
    accepted = np.asarray(histogram["accepted_counts"])
    rejected = np.asarray(histogram["rejected_counts"])
    threshold = summary["threshold"]
    widths = np.diff(edges)
    figure = _new_figure(7.5, 3.6)
    axes = figure.add_subplot()
    axes.bar(edges[:-1], rejected, width=widths, align="edge", color=REJECTED_COLOUR, edgecolor="white")
    axes.bar(
        edges[:-1], accepted, width=widths, bottom=rejected, align="edge", color=ACCEPTED_COLOUR, edgecolor="white"
    )
    axes.axvline(threshold, color=THRESHOLD_COLOUR, linestyle="--", linewidth=1.5)
    totals = accepted + rejected
    top = max(int(totals.max()), 1)
    # A good model puts almost everything in the last bin; a linear axis would hide the rest.
    log_scale = top / max(int(totals[totals > 0].min(initial=top)), 1) > 30
    if log_scale:
        axes.set_yscale("log")
        axes.set_ylim(0.7, top * 3.0)
        label_y = top * 2.0
        axes.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    else:
        axes.set_ylim(0, top * 1.18)
        label_y = top * 1.12
    axes.text(
        threshold,
        label_y,
        f"threshold {threshold:g}  ",
        ha="right",
        va="center",
        fontsize=9,
        color=THRESHOLD_COLOUR,
    )
    below = summary["below_threshold"]
    axes.legend(
        handles=[
            Patch(color=REJECTED_COLOUR, label=f"rejected: {below['count']} ({format_percent(below['share'])})"),
            Patch(color=ACCEPTED_COLOUR, label=f"accepted: {summary['records'] - below['count']}"),
        ],
        loc="upper left",
        fontsize=8,
        frameon=False,
    )
    axes.set_xlim(edges[0], 1.0)
    axes.set_xlabel("Confidence (probability of the predicted class)")
    axes.set_ylabel("Predictions (log scale)" if log_scale else "Predictions")
    if not log_scale:
        axes.yaxis.get_major_locator().set_params(integer=True)
    axes.set_title("How confident is the model?")
    _tidy(axes)
    return _to_png(figure)


def _datetimes(epoch_seconds: np.ndarray) -> list[datetime]:
    return [datetime.fromtimestamp(float(t), tz=UTC) for t in epoch_seconds]


def _time_axis(axes: Axes, start: datetime, end: datetime, minimum_span: timedelta) -> None:
    """Readable UTC ticks; a short span (one record, one hour) is widened around its middle."""
    if end - start < minimum_span:
        middle = start + (end - start) / 2
        start, end = middle - minimum_span / 2, middle + minimum_span / 2
    margin = (end - start) * 0.03
    axes.set_xlim(start - margin, end + margin)
    locator = mdates.AutoDateLocator(tz=UTC, minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=UTC))
    axes.set_xlabel("Inference time (UTC)")


def confidence_over_time_png(arrays: PredictionArrays, threshold: float) -> bytes:
    """Each prediction's confidence at its inference time; wrong ones (ground truth) crossed."""
    times = _datetimes(arrays.times)
    figure = _new_figure(9.0, 3.8)
    axes = figure.add_subplot()
    many = len(times) > 500
    size, alpha = (10, 0.55) if many else (22, 0.8)
    wrong = arrays.has_truth & ~arrays.correct
    for group, colour in ((arrays.accepted, ACCEPTED_COLOUR), (~arrays.accepted, REJECTED_COLOUR)):
        for mask, marker in ((group & ~wrong, "o"), (group & wrong, "x")):
            if not mask.any():
                continue
            axes.scatter(
                [t for t, keep in zip(times, mask, strict=True) if keep],
                arrays.confidence[mask],
                s=size * (2.0 if marker == "x" else 1.0),
                alpha=1.0 if marker == "x" else alpha,
                color=colour,
                marker=marker,
                linewidths=1.3 if marker == "x" else 0,
            )
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            color=ACCEPTED_COLOUR,
            label=f"accepted ({int(arrays.accepted.sum())})",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            color=REJECTED_COLOUR,
            label=f"rejected ({int((~arrays.accepted).sum())})",
        ),
    ]
    if arrays.has_truth.any():
        handles.append(
            Line2D(
                [],
                [],
                marker="x",
                linestyle="none",
                color=WRONG_COLOUR,
                label=f"wrong, per S3 key ({int(wrong.sum())})",
            )
        )
    axes.axhline(threshold, color=THRESHOLD_COLOUR, linestyle="--", linewidth=1.2)
    low = min(0.5, float(arrays.confidence.min())) - 0.02
    axes.set_ylim(low, 1.02)
    axes.text(1.0, threshold, f" {threshold:g}", transform=axes.get_yaxis_transform(), va="center", fontsize=9)
    axes.set_ylabel("Confidence")
    _time_axis(axes, min(times), max(times), timedelta(minutes=1))
    axes.set_title("Confidence of each prediction over time (dashed: threshold)")
    axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.04, 1.0), fontsize=8, frameon=False)
    _tidy(axes)
    return _to_png(figure)


@dataclass(frozen=True)
class HourlyShare:
    """Which share of the hourly buckets a per-hour chart draws, and its words."""

    count_key: str  # per-hour count and summary entry, e.g. "below_threshold"
    share_key: str  # per-hour share, e.g. "share_below_threshold"
    ylabel: str
    title: str
    none_text: str


BELOW_THRESHOLD = HourlyShare(
    "below_threshold",
    "share_below_threshold",
    "Below threshold",
    "Share of predictions below the threshold per hour (label: rejected/total; grey: hour had traffic)",
    "No prediction fell below the threshold",
)
OUT_OF_DISTRIBUTION = HourlyShare(
    "out_of_distribution",
    "share_out_of_distribution",
    "Out of distribution",
    "Share of images flagged out of distribution per hour (label: flagged/total; grey: hour had traffic)",
    "No image was flagged out of distribution",
)


def share_per_hour_png(summary: dict[str, Any], what: HourlyShare = BELOW_THRESHOLD) -> bytes:
    """One share of the predictions in each UTC hour (`what`), with the overall share."""
    hourly = summary["hourly"]
    starts = [datetime.fromisoformat(h["hour"]) for h in hourly]
    middles = [s + timedelta(minutes=30) for s in starts]
    shares = np.array([h[what.share_key] * 100 for h in hourly])
    overall = summary[what.count_key]["share"] * 100
    # Zoomed to the data (a 3% share must be visible) but never past 100%.
    top = min(100.0, max(10.0, float(shares.max()) * 1.25, overall * 1.25))
    figure = _new_figure(9.0, 3.6)
    axes = figure.add_subplot()
    # A pale column marks every hour that had traffic, so 0% reads as "none rejected", not "no data".
    axes.bar(middles, top, width=timedelta(minutes=48), color="#000000", alpha=0.05)
    axes.bar(middles, shares, width=timedelta(minutes=48), color=REJECTED_COLOUR, alpha=0.85)
    if overall == 0:
        axes.text(0.5, 0.55, what.none_text, transform=axes.transAxes, ha="center", fontsize=11, color=THRESHOLD_COLOUR)
    axes.axhline(overall, color=THRESHOLD_COLOUR, linestyle=":", linewidth=1.3)
    axes.text(
        1.0,
        overall,
        f" overall\n {overall:.1f}%",
        transform=axes.get_yaxis_transform(),
        va="center",
        fontsize=8,
    )
    if len(hourly) <= 24:
        for middle, share, bucket in zip(middles, shares, hourly, strict=True):
            label = f"{bucket[what.count_key]}/{bucket['records']}"
            axes.annotate(
                label,
                (middle, share),
                xytext=(0, 2),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=8,
            )
    axes.set_ylim(0, top)
    axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(decimals=0))
    axes.set_ylabel(what.ylabel)
    _time_axis(axes, starts[0], starts[-1] + timedelta(hours=1), timedelta(hours=4))
    axes.set_title(what.title)
    _tidy(axes)
    return _to_png(figure)


def confusion_matrices_png(ground_truth: dict[str, Any]) -> bytes:
    """Accepted and rejected confusion matrices side by side, with their accuracy."""
    labels = ground_truth["labels"]
    figure = _new_figure(8.0, 3.7)
    panels = figure.subplots(1, 2)
    for axes, group in zip(panels, ("accepted", "rejected"), strict=True):
        stats = ground_truth[group]
        matrix = np.asarray(stats["confusion_matrix"])
        axes.imshow(matrix, cmap="Blues", vmin=0, vmax=max(int(matrix.max()), 1))
        for (row, column), count in np.ndenumerate(matrix):
            dark = count > matrix.max() * 0.6
            axes.text(
                column,
                row,
                str(count),
                ha="center",
                va="center",
                fontsize=13,
                color="white" if dark else "black",
                fontweight="bold" if row != column and count else "normal",
            )
        ticks = range(len(labels))
        axes.set_xticks(ticks, labels)
        axes.set_yticks(ticks, labels)
        axes.set_xlabel("Predicted")
        axes.set_ylabel("True (from the S3 key)")
        colour = ACCEPTED_COLOUR if group == "accepted" else REJECTED_COLOUR
        counted = stats["records_with_truth"]
        accuracy = f"accuracy {format_percent(stats['accuracy'])}" if counted else "none"
        axes.set_title(
            f"{group.capitalize()}: {accuracy}\n({counted} with ground truth)",
            color=colour,
            fontsize=10,
        )
    return _to_png(figure)


def _image_array(prediction: CapturedPrediction) -> np.ndarray | None:
    try:
        with Image.open(io.BytesIO(prediction.input_bytes or b"")) as image:
            return np.asarray(image.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError):
        return None


def image_grid_png(predictions: Sequence[CapturedPrediction], threshold: float, columns: int = 8) -> bytes:
    """Captured images with predicted label and confidence; rejected ones framed in orange, those the model's
    guard flagged out of distribution titled so."""
    columns = max(1, min(columns, len(predictions)))
    rows = math.ceil(len(predictions) / columns)
    height = 1.75 * rows + 0.75
    figure = _new_figure(max(1.45 * columns + 0.3, 5.0), height, layout=None)
    figure.subplots_adjust(left=0.02, right=0.98, bottom=0.01, top=1 - 0.75 / height, hspace=0.6)
    rejected_count = sum(is_rejected(p, threshold) for p in predictions)
    flagged_count = sum(p.out_of_distribution is True for p in predictions)
    figure.suptitle(
        f"{len(predictions)} captured image{'s' if len(predictions) != 1 else ''}, "
        f"{rejected_count} rejected (orange frame), {flagged_count} of them out of distribution",
        fontsize=10,
        y=1 - 0.12 / height,
        va="top",
    )
    for index in range(rows * columns):
        axes = figure.add_subplot(rows, columns, index + 1)
        axes.set_xticks([])
        axes.set_yticks([])
        if index >= len(predictions):
            axes.set_axis_off()
            continue
        _draw_tile(axes, predictions[index], threshold)
    return _to_png(figure)


def _draw_tile(axes: Axes, prediction: CapturedPrediction, threshold: float) -> None:
    pixels = _image_array(prediction)
    if pixels is None:
        axes.set_facecolor("#eeeeee")
        axes.text(0.5, 0.5, "not an\nimage", ha="center", va="center", fontsize=7, transform=axes.transAxes)
    else:
        axes.imshow(pixels, interpolation="nearest")
    rejected = is_rejected(prediction, threshold)
    frame = REJECTED_COLOUR if rejected else "#bbbbbb"
    for spine in axes.spines.values():
        spine.set_edgecolor(frame)
        spine.set_linewidth(3.5 if rejected else 0.8)
    # Truncated, not rounded: a rejected 0.9298 must not read as 0.930 against a 0.93 threshold.
    shown_confidence = math.floor(prediction.confidence * 1000) / 1000
    # A flagged image's class means nothing (softmax must pick one): the tile says what the filter did.
    flag = "out of distribution\n" if prediction.out_of_distribution else ""
    axes.set_title(
        f"{flag}{CLASS_NAMES[prediction.predicted_class]} {shown_confidence:.3f}",
        fontsize=7.5,
        color=REJECTED_COLOUR if rejected else "black",
        fontweight="bold" if rejected else "normal",
        pad=3,
    )
    truth = prediction.true_class
    if truth is not None:
        wrong = truth != prediction.predicted_class
        axes.set_xlabel(
            f"✗ is {CLASS_NAMES[truth]}" if wrong else "✓ correct",
            fontsize=7.5,
            color=WRONG_COLOUR if wrong else ACCEPTED_COLOUR,
            fontweight="bold" if wrong else "normal",
            labelpad=2,
        )
