"""PNG plots of an evaluation report (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def plot_confusion(report: dict[str, Any], path: Path) -> Path:
    names = list(report["confusion_matrix"]["rows_true_columns_predicted"])
    counts = report["confusion_matrix"]["counts"]
    fig, ax = plt.subplots(figsize=(4.2, 3.8), dpi=120)
    ax.imshow(counts, cmap="Blues")
    peak = max(max(row) for row in counts) or 1
    for i, row in enumerate(counts):
        for j, value in enumerate(row):
            ax.text(
                j, i, str(value), ha="center", va="center", fontsize=14, color="white" if value > peak / 2 else "black"
            )
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"Confusion matrix (accuracy {report['accuracy']:.3f}, n={report['count']})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_reliability(report: dict[str, Any], path: Path) -> Path:
    bins = [b for b in report["reliability"] if b["count"]]
    fig, (ax, hist) = plt.subplots(2, 1, figsize=(5, 5.5), dpi=120, sharex=True, height_ratios=(3, 1))
    width = report["reliability"][0]["high"] - report["reliability"][0]["low"]
    ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    ax.bar(
        [b["low"] for b in bins],
        [b["accuracy"] for b in bins],
        width=width,
        align="edge",
        edgecolor="black",
        alpha=0.8,
        label="accuracy in bin",
    )
    ax.plot(
        [b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o", color="darkred", label="mean confidence"
    )
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability (expected calibration error {report['expected_calibration_error']:.3f})")
    ax.legend(loc="upper left", fontsize=8)
    hist.bar([b["low"] for b in bins], [b["count"] for b in bins], width=width, align="edge", edgecolor="black")
    hist.set_xlim(report["reliability"][0]["low"], 1)
    hist.set_xlabel("top-class probability")
    hist.set_ylabel("images")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_threshold_sweep(report: dict[str, Any], path: Path) -> Path:
    """Coverage and accuracy of accepted predictions against the threshold, in two panels so the
    accuracy (which lives near 1) gets its own scale."""
    sweep = report["sweep"]
    thresholds = [p["threshold"] for p in sweep]
    accuracy = [p["accepted_accuracy"] if p["accepted_accuracy"] is not None else float("nan") for p in sweep]
    at = report["at_threshold"]
    meeting = report["lowest_threshold_meeting_target"]
    target = report["target_accepted_accuracy"]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6.4, 6), dpi=120, sharex=True)
    top.plot(thresholds, [p["coverage"] for p in sweep], color="tab:blue")
    top.set_ylabel("coverage (share accepted)")
    top.set_ylim(0, 1.02)
    top.set_title(
        f"Threshold {at['threshold']:.2f}: coverage {at['coverage']:.2f}, "
        f"accuracy of accepted {_fmt(at['accepted_accuracy'])}"
    )
    bottom.plot(thresholds, accuracy, color="tab:green")
    bottom.axhline(target, color="tab:green", linestyle=":", label=f"target {target:.3f}")
    finite = [a for a in accuracy if a == a]
    bottom.set_ylim(min([*finite, target]) - 0.01, 1.005)
    bottom.set_ylabel("accuracy of accepted")
    bottom.set_xlabel("confidence threshold (top-class probability)")
    for ax in (top, bottom):
        ax.axvline(at["threshold"], color="black", linestyle="--", label=f"threshold {at['threshold']:.2f}")
        if meeting is not None:
            ax.axvline(
                meeting["threshold"],
                color="tab:red",
                linestyle="-.",
                label=f"lowest meeting target {meeting['threshold']:.3f}",
            )
        ax.set_xlim(0.5, 1.0)
        ax.grid(alpha=0.3)
    bottom.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def write_plots(report: dict[str, Any], out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    return [
        plot_confusion(report, out_dir / "confusion_matrix.png"),
        plot_reliability(report, out_dir / "reliability.png"),
        plot_threshold_sweep(report, out_dir / "threshold_sweep.png"),
    ]
