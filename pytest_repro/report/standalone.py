"""``pytest-repro report --html out.html``: one self-contained page from recorded runs.

The page a reviewer opens without pytest-html: the verdict table and the paper-level
view of every paper, then per paper its summary, each claim's panel (the seed strip, the
learning curve and the facts, as in the pytest-html report) and the evidence appendix of
its results.md (environment with torch, CUDA and GPUs, commits, data fingerprints, seeds,
configuration). No script, no external file: it reads offline. Every text is escaped
with :func:`~pytest_repro.report.escape.html_text`; the figures escape their own::

    text = page([(spec, claims, records)], version="0.1.0", generated="2026-12-02 18:00 UTC")
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from pytest_repro.report.escape import html_text
from pytest_repro.report.model import claim_view
from pytest_repro.results import ClaimResult

if TYPE_CHECKING:
    from pytest_repro.history import Version
    from pytest_repro.records import RunRecord
    from pytest_repro.spec.schema import PaperSpec

#: Each claim's recorded code versions, newest first, by (paper display path, claim id).
Histories = Mapping[tuple[str, str], Sequence["Version"]]

Paper = tuple["PaperSpec", Sequence[ClaimResult], Mapping[str, "RunRecord"]]

_STYLE = """
body { font-family: sans-serif; max-width: 1100px; margin: 2em auto; color: #24292f; }
table { border-collapse: collapse; margin: 0.5em 0; }
th, td { border-bottom: 1px solid #d0d7de; padding: 0.2em 0.6em; vertical-align: top; }
.repro-claim { border: 1px solid #d0d7de; border-radius: 6px; padding: 0.6em; margin: 0.6em 0; }
.repro-figure { display: inline-block; margin-right: 1em; }
pre { background: #f6f8fa; padding: 0.6em; overflow-x: auto; font-size: 85%; }
"""


def _plain(markdown: str) -> str:
    """A line of results.md as plain text: no emphasis, code marks or escapes."""
    text = markdown.replace("**", "").replace("`", "")
    return re.sub(r"\\(.)", r"\1", text)


def _anchor(paper: str, claim: str = "") -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "-", f"{paper}-{claim}" if claim else paper)


def history_table(versions: Sequence[Version]) -> str:
    """A claim's verdict per recorded code version (``pytest-repro history``), as HTML."""
    from pytest_repro.history import when

    e = html_text
    rows = "".join(
        "<tr>"
        + "".join(
            f"<td>{e(cell)}</td>"
            for cell in (
                when(v.date),
                v.commit + (" +dirty" if v.dirty else ""),
                v.code[:12],
                str(v.runs),
                claim_view(v.result).measured,
                v.result.label,
            )
        )
        + "</tr>"
        for v in versions
    )
    head = "".join(
        f"<th>{h}</th>" for h in ("date (UTC)", "commit", "code", "runs", "reproduced", "verdict")
    )
    return (
        '<div class="repro-history"><strong>History</strong>: the claim as stated now, '
        f"evaluated on each recorded code version, newest first<table><tr>{head}</tr>{rows}</table></div>"
    )


def paper_section(
    spec: PaperSpec,
    claims: Sequence[ClaimResult],
    records: Mapping[str, RunRecord],
    histories: Histories | None = None,
) -> str:
    """One paper: its title, summary, claim panels (with each claim's history when
    ``histories`` has it) and evidence appendix."""
    from pytest_repro.report.evidence import evidence
    from pytest_repro.report.html import panel
    from pytest_repro.report.markdown import executive_summary

    e = html_text
    views = [claim_view(c) for c in claims]
    summary = executive_summary(spec, views)
    out = [
        f'<h2 id="{e(_anchor(spec.paper.id))}">{e(spec.paper.title)} '
        f"<small>({e(spec.paper.id)}, <code>{e(spec.display)}</code>)</small></h2>"
    ]
    if summary:
        out.append(f"<p>{e(_plain(summary[0]))}</p>")
    for claim in claims:
        out.append(f'<h3 id="{e(_anchor(spec.paper.id, claim.id))}">{e(claim.id)}</h3>')
        out.append(panel(claim, records))
        versions = (histories or {}).get((spec.display, claim.id))
        if versions:
            out.append(history_table(versions))
    appendix = evidence(claims, records)
    if appendix:
        out.append("<h3>Evidence</h3><pre>" + e("\n".join(appendix)) + "</pre>")
    return "\n".join(out)


def page(
    papers: Sequence[Paper], *, version: str, generated: str, histories: Histories | None = None
) -> str:
    """The whole page for ``papers`` (each with its claims' results and their records, and
    each claim's verdict per recorded code version where ``histories`` has it)."""
    from pytest_repro.report.html import summary_html

    e = html_text
    results = [r for _, claims, _ in papers for r in claims]
    contents = "".join(
        f'<li><a href="#{e(_anchor(spec.paper.id))}">{e(spec.paper.id)}</a>: {e(spec.paper.title)}</li>'
        for spec, _, _ in papers
    )
    sections = "\n".join(
        paper_section(spec, claims, records, histories) for spec, claims, records in papers
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Reproduction report</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        "<h1>Reproduction report</h1>"
        f"<p>Generated by pytest-repro {e(version)} on {e(generated)} from recorded runs; "
        "every number is computed from the runs listed in each paper's evidence.</p>"
        f"<ul>{contents}</ul>\n{summary_html(results)}\n{sections}\n</body></html>\n"
    )


__all__ = ["page", "paper_section"]
