"""Render the monitoring report as one self-contained HTML page.

Plots are embedded as base64 PNG data URIs and the styling is inline, so the file can be
mailed, attached to a ticket or opened offline with nothing else beside it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from scones.monitor.aggregate import format_percent


@dataclass(frozen=True)
class ReportFigure:
    name: str
    title: str
    how_to_read: str
    png: bytes | None
    """None when there is nothing to draw; `missing_reason` is shown instead."""
    missing_reason: str = ""


_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0;
       color: #1d2327; background: #f6f7f9; }
main { max-width: 1060px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
.meta { color: #5a6169; font-size: 13px; margin-bottom: 18px; }
.headline { font-size: 21px; font-weight: 600; background: #fff; border-left: 6px solid #1b9e77;
            padding: 14px 18px; margin: 10px 0 18px; border-radius: 4px; }
.headline.warn { border-left-color: #d95f02; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin-bottom: 22px; }
.card { background: #fff; border-radius: 6px; padding: 10px 16px; min-width: 150px;
        box-shadow: 0 1px 2px rgba(0,0,0,.08); }
.card .value { font-size: 24px; font-weight: 600; }
.card .label { font-size: 12px; color: #5a6169; }
section { background: #fff; border-radius: 6px; padding: 14px 18px; margin-bottom: 18px;
          box-shadow: 0 1px 2px rgba(0,0,0,.08); }
section h2 { font-size: 16px; margin: 0 0 4px; }
section p.read { font-size: 13px; color: #5a6169; margin: 0 0 10px; }
section img { max-width: 100%; height: auto; display: block; }
.empty { color: #5a6169; font-style: italic; padding: 18px 0; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border-bottom: 1px solid #e3e5e8; padding: 4px 10px; text-align: left; vertical-align: top; }
code { font-size: 12px; }
"""


def render_report(summary: dict[str, Any], figures: list[ReportFigure], generated_at: datetime | None = None) -> str:
    generated = (generated_at or datetime.now(tz=UTC)).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Scones Unlimited: endpoint monitoring report</title>",
        f"<style>{_STYLE}</style></head><body><main>",
        "<h1>Scones Unlimited: what the endpoint saw</h1>",
        f'<div class="meta">{_meta_line(summary)} &middot; generated {escape(generated)}</div>',
        f'<div class="headline{_headline_class(summary)}">{escape(summary["headline"])}</div>',
        _cards(summary),
    ]
    if summary["records"]:
        parts.extend(_figure_section(figure) for figure in figures)
    else:
        parts.append(_nothing_captured_section(summary))
    parts.append(_corrupt_section(summary))
    parts.append(
        '<p class="meta">All numbers are also in <code>summary.json</code> next to this file. '
        "Accepted means confidence &ge; threshold: the workflow passes those on; the rest end in "
        "<code>ThresholdConfidenceNotMetError</code> and an SNS notification.</p>"
    )
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _meta_line(summary: dict[str, Any]) -> str:
    source = f"Source <code>{escape(summary['source'])}</code> ({summary['files_read']} files)"
    time_range = summary["time_range"]
    if time_range:
        source += f" &middot; {escape(time_range['first'])} to {escape(time_range['last'])}"
    return source + f" &middot; threshold {summary['threshold']:g}"


def _headline_class(summary: dict[str, Any]) -> str:
    share = summary["below_threshold"]["share"]
    truth = summary["ground_truth"]
    accepted_accuracy = truth["accepted"]["accuracy"] if truth else None
    worrying = (
        summary["records"] == 0
        or (share is not None and share > 0.15)
        or (accepted_accuracy is not None and accepted_accuracy < 0.99)
    )
    return " warn" if worrying else ""


def _card(value: str, label: str) -> str:
    return f'<div class="card"><div class="value">{escape(value)}</div><div class="label">{escape(label)}</div></div>'


def _cards(summary: dict[str, Any]) -> str:
    below = summary["below_threshold"]
    cards = [
        _card(str(summary["records"]), "predictions"),
        _card(format_percent(below["share"]), f"below threshold ({below['count']})"),
    ]
    ood = summary["out_of_distribution"]
    if ood["checked"]:
        cards.append(_card(format_percent(ood["share"]), f"out of distribution ({ood['count']})"))
    elif summary["records"]:
        cards.append(_card("not checked", "out of distribution (no verdict in the answers)"))
    truth = summary["ground_truth"]
    if truth:
        for group in ("accepted", "rejected"):
            stats = truth[group]
            cards.append(
                _card(
                    format_percent(stats["accuracy"]),
                    f"{group} accuracy ({stats['correct']}/{stats['records_with_truth']})",
                )
            )
    elif summary["records"]:
        cards.append(_card("unknown", "accuracy (no class in inference IDs)"))
    cards.append(_card(str(summary["corrupt_records"]), "corrupt records skipped"))
    return '<div class="cards">' + "".join(cards) + "</div>"


def _figure_section(figure: ReportFigure) -> str:
    if figure.png is None:
        body = f'<div class="empty">{escape(figure.missing_reason)}</div>'
    else:
        encoded = base64.b64encode(figure.png).decode("ascii")
        body = f'<img id="{escape(figure.name)}" alt="{escape(figure.title)}" src="data:image/png;base64,{encoded}">'
    return f'<section><h2>{escape(figure.title)}</h2><p class="read">{escape(figure.how_to_read)}</p>{body}</section>'


def _nothing_captured_section(summary: dict[str, Any]) -> str:
    checks = [
        "Data capture is enabled on the endpoint configuration (EnableCapture, sampling percentage above 0) "
        "and its destination is the location read here.",
        "The endpoint has been invoked since it was deployed (e.g. <code>scones invoke</code>); "
        "SageMaker writes capture files a few minutes after the requests.",
        "With <code>--s3-uri</code>: the bucket and prefix are the capture destination or a folder under it; "
        "with the local emulator, <code>--endpoint-url</code> points at it.",
    ]
    if summary["corrupt_records"]:
        checks.insert(0, "Every captured line was corrupt: see the list below.")
    items = "".join(f"<li>{check}</li>" for check in checks)
    return (
        "<section><h2>Nothing to show yet</h2>"
        f'<p class="read">No usable prediction was found in {summary["files_read"]} capture file(s). Check that:</p>'
        f"<ul>{items}</ul></section>"
    )


def _corrupt_section(summary: dict[str, Any]) -> str:
    count = summary["corrupt_records"]
    if not count:
        return '<section><h2>Corrupt records</h2><p class="read">None: every captured line was readable.</p></section>'
    rows = "".join(
        f"<tr><td><code>{escape(c['location'])}</code></td><td>{escape(c['reason'])}</td></tr>"
        for c in summary["corrupt"]
    )
    listed = len(summary["corrupt"])
    more = f'<p class="read">First {listed} of {count} listed.</p>' if listed < count else ""
    return (
        f"<section><h2>Corrupt records ({count})</h2>"
        '<p class="read">Skipped lines, by file and line number. They are not in any number above.</p>'
        f"<table><tr><th>Location</th><th>Why</th></tr>{rows}</table>{more}</section>"
    )
