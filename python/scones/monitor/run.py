"""Read a capture source, aggregate it and write `report.html`, `summary.json` and `plots/*.png`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scones.monitor import plots
from scones.monitor.aggregate import MonitorStats, build_summary
from scones.monitor.capture import decode_capture_records
from scones.monitor.errors import CorruptCaptureRecordError
from scones.monitor.html_report import ReportFigure, render_report
from scones.monitor.image_sample import DEFAULT_MAX_IMAGES
from scones.monitor.sources import CaptureSource, iter_capture_lines

REPORT_NAME = "report.html"
SUMMARY_NAME = "summary.json"
PLOTS_DIR = "plots"

_NO_RECORDS = "No predictions were captured, so there is nothing to plot."


@dataclass(frozen=True)
class MonitorResult:
    summary: dict[str, Any]
    report_path: Path
    summary_path: Path
    plot_paths: list[Path]


def collect(source: CaptureSource, threshold: float, max_images: int = DEFAULT_MAX_IMAGES) -> MonitorStats:
    """Stream every capture line of `source` into statistics; bad lines are recorded, not raised."""
    stats = MonitorStats(threshold=threshold, max_images=max_images)
    files: set[str] = set()
    for line in iter_capture_lines(source, on_file=files.add):
        if line.read_error is not None:
            stats.add_corrupt(line.location, f"file could not be read further: {line.read_error}")
            continue
        try:
            for prediction in decode_capture_records(line.data, line.location):
                stats.add(prediction)
        except CorruptCaptureRecordError as exc:
            stats.add_corrupt(line.location, exc.reason)
    stats.files_read = len(files)
    return stats


def build_figures(stats: MonitorStats, summary: dict[str, Any]) -> list[ReportFigure]:
    has_records = stats.record_count > 0
    arrays = stats.arrays()
    truth = summary["ground_truth"]
    grid = stats.images.images()
    return [
        ReportFigure(
            "predictions_per_class",
            "Predictions per class",
            "What the model said, split into accepted (passed on) and rejected (below the threshold).",
            plots.predictions_per_class_png(summary) if has_records else None,
            _NO_RECORDS,
        ),
        ReportFigure(
            "confidence_histogram",
            "Confidence distribution",
            "A healthy model piles up at the right, past the dashed threshold; orange bars are rejected.",
            plots.confidence_histogram_png(summary) if has_records else None,
            _NO_RECORDS,
        ),
        ReportFigure(
            "confidence_over_time",
            "Confidence over time",
            "One dot per prediction. A growing orange band under the dashed line is drift."
            + (" Crosses mark predictions the S3 key shows to be wrong." if truth else ""),
            plots.confidence_over_time_png(arrays, stats.threshold) if has_records else None,
            _NO_RECORDS,
        ),
        ReportFigure(
            "below_threshold_per_hour",
            "Share below threshold per hour",
            "Each bar is one UTC hour; the dotted line is the overall share. Rising bars mean the model "
            "is less sure of what it sees now.",
            plots.share_per_hour_png(summary, plots.BELOW_THRESHOLD) if has_records else None,
            _NO_RECORDS,
        ),
        ReportFigure(
            "out_of_distribution_per_hour",
            "Share out of distribution per hour",
            "Images the model's guard says are unlike its training images (not a bicycle or motorcycle photo, "
            "a blank or broken-camera frame). Rising bars mean a camera or upload path sends the wrong images.",
            plots.share_per_hour_png(summary, plots.OUT_OF_DISTRIBUTION)
            if summary["out_of_distribution"]["checked"]
            else None,
            "No captured answer carried an out-of-distribution verdict (the built-in algorithm, or an artifact "
            "without the guard, answers without one)."
            if has_records
            else _NO_RECORDS,
        ),
        ReportFigure(
            "confusion_matrix",
            "Accuracy against ground truth",
            "Ground truth is the class folder in the S3 key carried as the inference ID. Off-diagonal "
            "cells are mistakes; mistakes among accepted predictions reach customers.",
            plots.confusion_matrices_png(truth) if truth else None,
            "No ground truth: no inference ID names an S3 key under a bicycle/ or motorcycle/ folder."
            if has_records
            else _NO_RECORDS,
        ),
        ReportFigure(
            "image_grid",
            "Captured images",
            f"A sample of at most {stats.max_images} captured requests, rejected ones first (out of distribution, "
            "then below the threshold), with the predicted class and its confidence.",
            plots.image_grid_png(grid, stats.threshold) if grid else None,
            "No captured request contains an image." if has_records else _NO_RECORDS,
        ),
    ]


def write_report(stats: MonitorStats, source_description: str, out_dir: Path) -> MonitorResult:
    summary = build_summary(stats, source_description)
    figures = build_figures(stats, summary)
    plots_dir = out_dir / PLOTS_DIR
    plots_dir.mkdir(parents=True, exist_ok=True)
    plot_paths: list[Path] = []
    for figure in figures:
        path = plots_dir / f"{figure.name}.png"
        # A plot from an earlier run must not sit beside a report that no longer has it.
        path.unlink(missing_ok=True)
        if figure.png is not None:
            path.write_bytes(figure.png)
            plot_paths.append(path)
    summary_path = out_dir / SUMMARY_NAME
    summary_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    report_path = out_dir / REPORT_NAME
    report_path.write_text(render_report(summary, figures), encoding="utf-8")
    return MonitorResult(summary, report_path, summary_path, plot_paths)


def run_monitor(
    source: CaptureSource, threshold: float, out_dir: Path, max_images: int = DEFAULT_MAX_IMAGES
) -> MonitorResult:
    stats = collect(source, threshold, max_images)
    return write_report(stats, source.description, out_dir)
