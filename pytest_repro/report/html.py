"""pytest-html integration: verdict columns, a per-claim panel with figures, a summary table.

Registered only when pytest-html is active. The panel is a formatter over
:func:`~pytest_repro.report.model.claim_view` and travels on the test report as a
pytest-html extra (``pytest_html.extras.html``), so it survives pytest-xdist like the
rest of the report. The controller draws the learning curve into the panel from the
records it knows (:mod:`pytest_repro.report.figures`). Every text is escaped with
:func:`~pytest_repro.report.escape.html_text`; colours come from
:data:`pytest_repro.vocab.VERDICTS`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.report.escape import html_text
from pytest_repro.report.model import ClaimView, claim_view, verdict_counts
from pytest_repro.report.paper_level import paper_lines
from pytest_repro.results import ClaimResult

if TYPE_CHECKING:
    from pytest_repro.records import RunRecord


def claim_extra(result: ClaimResult) -> dict[str, Any]:
    """The pytest-html extra that shows the claim's panel under its row."""
    from pytest_html import extras

    extra: dict[str, Any] = extras.html(panel(result))
    return extra


def panel(result: ClaimResult, records: Mapping[str, RunRecord] | None = None) -> str:
    """The claim's panel: the seed strip, the learning curve when the claim's ``records``
    are known, then the facts the terminal block shows."""
    v = claim_view(result)
    e = html_text
    rows: list[tuple[str, str]] = [
        ("Claim", f"{e(v.text)} <em>({e(v.source)})</em>"),
        ("Spec", f"<code>{e(v.where)}</code>, metric <code>{e(v.metric)}</code> at {e(v.at)}"),
    ]
    if v.arms is not None:
        rows.append(("Arms", e(f"A = {v.arms[0]}; B = {v.arms[1]}")))
    elif v.config:
        rows.append(("Config", e(v.config)))
    if v.verdict != "error":
        tol = f", tolerance {v.tolerance}" if v.tolerance else ""
        rows.append(("Paper", e(v.paper + tol)))
        rows.append(("Measured", e(v.measured)))
    if v.interval:
        rows.append((f"{e(v.interval_level)} CI", e(f"{v.interval} ({v.method})")))
    if v.per_seed:
        rows.append((e(v.per_seed_what), e(f"n={v.n} ({v.per_seed_text})")))
    if v.points:
        rows.append(("Points", points_table(v)))
    if v.delta:
        rows.append(("Delta", e(v.delta_text)))
    verdict = f'<strong style="color:{e(v.meaning.colour)}">{e(v.label)}</strong>'
    if v.seeds_needed:
        verdict += f"<br>{e(v.seeds_needed)}"
    rows.append(("Verdict", verdict))
    if v.anytime:
        rows.append(("Anytime", e(v.anytime)))
    if v.expected_text:
        rows.append(("Expected", e(v.expected_text)))
    if v.adaptive is not None:
        rows.append(("Seeds", e(v.adaptive.text)))
    rows.extend(("Note", e(note)) for note in v.notes)
    rows.extend(("Substitute", e(sub.text)) for sub in v.substitutions)
    if v.error:
        rows.append(("Error", f"<pre>{e(v.error)}</pre>"))
    if v.runs:
        rows.append(("Runs", ", ".join(f"<code>{e(rid)}</code>" for rid in v.runs)))
    table = "".join(
        f"<tr><th style='text-align:left;padding-right:1em'>{k}</th><td>{cell}</td></tr>"
        for k, cell in rows
    )
    return f'<div class="repro-claim">{figures(result, records or {})}<table>{table}</table></div>'


def points_table(v: ClaimView) -> str:
    """The swept points of a claim about a curve as a small HTML table."""
    e = html_text
    paper = any(p.paper for p in v.points)
    heads = [v.points[0].axis, "mean", "95% band (simultaneous)", "seeds"] + (
        ["paper"] if paper else []
    )
    head = "".join(f"<th style='padding-right:1em'>{e(h)}</th>" for h in heads)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='padding-right:1em'>{e(c)}</td>"
            for c in (p.x, p.mean, p.band, p.values, *([p.paper] if paper else []))
        )
        + "</tr>"
        for p in v.points
    )
    return f'<table class="repro-points"><tr>{head}</tr>{body}</table>'


def figures(result: ClaimResult, records: Mapping[str, RunRecord]) -> str:
    """The seed strip and the learning curve of a claim (each only where it has data)."""
    from pytest_repro.report import figures as draw

    if result.sweep:
        from pytest_repro.report.sweep_figure import sweep_figure

        shown: tuple[str, ...] = (sweep_figure(result),)
    else:
        shown = (draw.seed_strip(result), draw.learning_curve(result, records))
    return "".join(f'<div class="repro-figure">{svg}</div>' for svg in shown if svg)


def environment_metadata(metadata: dict[str, Any]) -> None:
    """The report's Environment table: the versions and devices a rerun needs, beside
    pytest's own (read without importing the packages; GPUs from ``nvidia-smi``)."""
    from pytest_repro.environment import installed_version, visible_gpus

    packages = metadata.setdefault("Packages", {})
    if isinstance(packages, dict):
        for name in ("torch", "numpy", "scipy", "pytest-repro"):
            version = installed_version(name)
            if version:
                packages[name] = version
    gpus = visible_gpus()
    metadata["GPUs"] = (
        ", ".join(
            f"{g.get('name')} ({g.get('memory_mib')} MiB, driver {g.get('driver')})" for g in gpus
        )
        if gpus
        else "none visible (nvidia-smi)"
    )
    outer = os.environ.get("CUDA_VISIBLE_DEVICES")
    if outer is not None:
        metadata["CUDA_VISIBLE_DEVICES"] = outer


class HtmlReport:
    """pytest-html hook implementations (registered only when pytest-html is active)."""

    def __init__(self) -> None:
        self.results: list[ClaimResult] = []
        self.config: pytest.Config | None = None

    def pytest_configure(self, config: pytest.Config) -> None:
        self.config = config

    def records(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        """The records of ``run_ids`` this session knows: its own runs, then the ledger's."""
        from pytest_repro.keys import RUNTIME_KEY

        runtime = None if self.config is None else self.config.stash.get(RUNTIME_KEY, None)
        if runtime is None or not run_ids:
            return {}
        wanted = set(run_ids)
        found = {r.run_id: r for r in runtime.memo_records() if r.run_id in wanted}
        store = runtime.store()
        if store is not None:
            for rid in dict.fromkeys(run_ids):
                if rid not in found:
                    record = store.by_id(rid)
                    if record is not None:
                        found[rid] = record
        return found

    def with_curve(self, report: pytest.TestReport, result: ClaimResult) -> None:
        """Draw the claim's learning curve into its panel, from the records this session
        knows (the panel made where the claim ran has the seed strip only)."""
        extras = getattr(report, "extras", None)
        if not extras or not result.runs:
            return
        records = self.records(result.runs)
        if not records:
            return
        for extra in extras:
            content = extra.get("content") if isinstance(extra, dict) else None
            if isinstance(content, str) and content.startswith('<div class="repro-claim">'):
                extra["content"] = panel(result, records)

    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, '<th class="sortable" data-column-type="verdict">Verdict</th>')
        cells.insert(3, "<th>Paper</th>")
        cells.insert(4, "<th>Measured (interval)</th>")

    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        data = getattr(report, "repro_result", None)
        if data is None:
            cells[2:2] = ["<td></td>", "<td></td>", "<td></td>"]
            return
        cells[2:2] = _cells(claim_view(ClaimResult.from_json(data)))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "repro_result", None)
        if data is not None and report.when in ("call", "setup"):
            result = ClaimResult.from_json(data)
            self.results.append(result)
            self.with_curve(report, result)

    def pytest_html_results_summary(
        self, prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
    ) -> None:
        if self.results:
            prefix.append(summary_html(self.results))


def _verdict_cell(v: ClaimView) -> str:
    return f'<td style="color:{html_text(v.meaning.colour)}">{html_text(v.label)}</td>'


def _cells(v: ClaimView) -> list[str]:
    """The verdict, paper and measured cells of a claim's row."""
    return [
        _verdict_cell(v),
        f"<td>{html_text(v.paper)}</td>",
        f"<td>{html_text(v.measured)}</td>",
    ]


def summary_html(results: Sequence[ClaimResult]) -> str:
    """The verdict table above pytest-html's results: one row per claim."""
    rows = "".join(
        f"<tr><td><code>{html_text(v.name)}</code></td><td>{html_text(v.paper)}</td>"
        f"<td>{html_text(v.measured)}</td><td>{html_text(v.delta_text)}</td>{_verdict_cell(v)}</tr>"
        for v in map(claim_view, results)
    )
    return (
        f"<h2>Reproduction verdicts</h2><p>{html_text(verdict_counts(results))}. "
        "Intervals are over seeds; each claim's panel below shows its seeds, the paper's band "
        "and the evidence.</p>"
        "<table><tr><th>Claim</th><th>Paper</th><th>Measured (interval)</th><th>Delta</th>"
        "<th>Verdict</th></tr>"
        f"{rows}</table>{_paper_level(results)}"
    )


def _paper_level(results: Sequence[ClaimResult]) -> str:
    """The paper-level view (power if the paper is right; flags after the correction)."""
    lines = paper_lines(results)
    if not lines:
        return ""
    body = "".join(
        f"<li>{html_text(line.strip())}</li>"
        if line.startswith("  ")
        else f"</ul><p>{html_text(line)}:</p><ul>"
        for line in lines
    )
    return f"<h3>Paper-level view</h3><ul>{body}</ul>".replace("<ul></ul>", "")
