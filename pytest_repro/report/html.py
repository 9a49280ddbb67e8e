"""pytest-html integration: verdict columns, a per-claim panel with a plot, a summary table.

Registered only when pytest-html is active. The panel travels on the test report as a
pytest-html "extra", so it survives pytest-xdist like the rest of the report.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from pytest_repro.report.format import Units
from pytest_repro.report.terminal import measured_text, paper_text
from pytest_repro.results import ClaimResult

VERDICT_COLOURS = {
    "matched": "#1a7f37",
    "exceeded": "#1a7f37",
    "gap": "#cf222e",
    "disagreement": "#82071e",
    "inconclusive": "#9a6700",
    "error": "#cf222e",
    "skipped": "#6e7781",
    "smoke": "#0969da",
}


def claim_extra(result: ClaimResult) -> dict[str, Any]:
    """A pytest-html extra (the dict ``pytest_html.extras.html`` makes) with the claim panel."""
    return {
        "name": "claim",
        "format_type": "html",
        "extension": "html",
        "content": panel(result),
        "mime_type": None,
    }


def panel(r: ClaimResult) -> str:
    units = Units(r.unit, r.tolerance)
    at = ", ".join(f"{k} {v}" for k, v in r.at.items())
    rows = [
        ("Claim", f"{html.escape(r.text)} <em>({html.escape(r.source)})</em>"),
        (
            "Spec",
            f"<code>{html.escape(r.path)}:{r.line}</code>, metric <code>{html.escape(r.metric)}</code> at {at}",
        ),
        (
            "Paper",
            html.escape(paper_text(r))
            + (f", tolerance ±{units.magnitude(r.tolerance)}" if r.tolerance else ""),
        ),
        (
            "Measured",
            html.escape(measured_text(r))
            + (f", method {html.escape(r.method)}" if r.method else ""),
        ),
    ]
    if r.delta is not None:
        rows.append(("Delta", units.diff(r.delta)))
    if r.values:
        shown = [units.value(v) if r.kind == "absolute" else units.diff(v) for v in r.values]
        rows.append(
            ("Per seed", ", ".join(f"{s}: {v}" for s, v in zip(r.seeds, shown, strict=False)))
        )
    colour = VERDICT_COLOURS.get(r.verdict, "#24292f")
    rows.append(("Verdict", f'<strong style="color:{colour}">{html.escape(r.label)}</strong>'))
    for note in (*r.notes, *r.warnings):
        rows.append(("Note", html.escape(note)))
    for sub in r.substitutions:
        rows.append(
            ("Substitution", html.escape(f"{sub['original']} → {sub['used']}: {sub['why']}"))
        )
    if r.error:
        rows.append(("Error", f"<pre>{html.escape(r.error)}</pre>"))
    if r.runs:
        rows.append(("Runs", ", ".join(f"<code>{html.escape(x)}</code>" for x in r.runs)))
    table = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{k}</th><td>{v}</td></tr>"
        for k, v in rows
    )
    return f'<div class="repro-claim">{plot(r)}<table>{table}</table></div>'


def plot(r: ClaimResult, width: int = 520, height: int = 70) -> str:
    """An SVG strip: the paper's band (± tolerance), each seed, and the 90% interval of the estimate."""
    if r.kind != "absolute" or r.paper is None or r.tolerance is None or not r.values:
        return ""
    units = Units(r.unit, r.tolerance)
    points = [r.paper - r.tolerance, r.paper + r.tolerance, *r.values]
    interval = [x for x in (r.interval or ()) if x is not None and math.isfinite(x)]
    points += interval
    low, high = min(points), max(points)
    pad = (high - low) * 0.08 or r.tolerance
    low, high = low - pad, high + pad

    def x(value: float) -> float:
        return 10 + (value - low) / (high - low) * (width - 20)

    left, right = x(r.paper - r.tolerance), x(r.paper + r.tolerance)
    label = html.escape(units.value(r.paper))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        f'aria-label="paper band, seeds and interval">',
        f'<rect x="{left:.1f}" y="8" width="{right - left:.1f}" height="34" fill="#dafbe1"/>',
        f'<line x1="{x(r.paper):.1f}" x2="{x(r.paper):.1f}" y1="4" y2="46" stroke="#1a7f37" stroke-width="2"/>',
        f'<text x="{x(r.paper):.1f}" y="62" font-size="11" text-anchor="middle">paper {label}</text>',
    ]
    for value in r.values:
        parts.append(
            f'<circle cx="{x(value):.1f}" cy="20" r="4" fill="#0969da" fill-opacity="0.7"/>'
        )
    if len(interval) == 2:
        colour = VERDICT_COLOURS.get(r.verdict, "#24292f")
        parts.append(
            f'<line x1="{x(interval[0]):.1f}" x2="{x(interval[1]):.1f}" y1="34" y2="34" '
            f'stroke="{colour}" stroke-width="3"/>'
        )
        if r.estimate is not None:
            parts.append(f'<circle cx="{x(r.estimate):.1f}" cy="34" r="4" fill="{colour}"/>')
    parts.append("</svg>")
    return "".join(parts)


class HtmlReport:
    """pytest-html hook implementations (registered only when pytest-html is active)."""

    def __init__(self) -> None:
        self.results: list[ClaimResult] = []

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="verdict">Verdict</th>')
        cells.insert(3, "<th>Paper</th>")
        cells.insert(4, "<th>Measured (interval)</th>")

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        data = getattr(report, "repro_result", None)
        if data is None:
            cells[2:2] = ["<td></td>", "<td></td>", "<td></td>"]
            return
        r = ClaimResult.from_json(data)
        colour = VERDICT_COLOURS.get(r.verdict, "#24292f")
        cells[2:2] = [
            f'<td style="color:{colour}">{html.escape(r.label)}</td>',
            f"<td>{html.escape(paper_text(r))}</td>",
            f"<td>{html.escape(measured_text(r))}</td>",
        ]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "repro_result", None)
        if data is not None and report.when in ("call", "setup"):
            self.results.append(ClaimResult.from_json(data))

    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        if self.results:
            prefix.append(summary_html(self.results))


def summary_html(results: Sequence[ClaimResult]) -> str:
    counts: Mapping[str, int] = _count(r.verdict for r in results)
    items = ", ".join(f"{n} {v}" for v, n in counts.items())
    rows = "".join(
        f"<tr><td><code>{html.escape(r.paper_id)}::{html.escape(r.id)}</code></td>"
        f"<td>{html.escape(paper_text(r))}</td><td>{html.escape(measured_text(r))}</td>"
        f'<td style="color:{VERDICT_COLOURS.get(r.verdict, "#24292f")}">{html.escape(r.label)}</td></tr>'
        for r in results
    )
    return (
        f"<h2>Reproduction verdicts</h2><p>{html.escape(items)}. Intervals are over seeds; "
        "each claim's panel below shows its seeds, the paper's band and the evidence.</p>"
        f"<table><tr><th>Claim</th><th>Paper</th><th>Measured (interval)</th><th>Verdict</th></tr>{rows}</table>"
    )


def _count(verdicts: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in verdicts:
        out[v] = out.get(v, 0) + 1
    return out
