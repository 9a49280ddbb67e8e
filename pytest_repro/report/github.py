"""GitHub Actions output: annotations and the step summary, within the limits GitHub sets.

GitHub shows at most 10 error, 10 warning and 10 notice annotations per step (50 per job)
and silently drops the rest; it keeps at most 1 MiB of a step's summary
(``$GITHUB_STEP_SUMMARY``). So claims are shown most severe first (:data:`SEVERITY`):

- :func:`github_annotations`: at most :data:`ANNOTATIONS_PER_LEVEL` errors and as many
  warnings, then one notice that says how many more there are and where they are.
- :func:`summary_markdown` / :func:`write_github`: the verdict table, cut at a row so the
  step's summary stays under :data:`SUMMARY_LIMIT` bytes, with a last line that says how
  many claims were left out and where every claim is.

Every text from a spec or a run goes through :mod:`pytest_repro.report.escape`.
"""

from __future__ import annotations

import errno
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_repro.report.escape import (
    md_code,
    md_text,
    plain,
    utf8_text,
    workflow_message,
    workflow_property,
)
from pytest_repro.report.model import ClaimView, claim_view
from pytest_repro.results import ClaimResult
from pytest_repro.vocab import SUMMARY_ORDER, VerdictName, meaning

#: Annotations of one level (error, warning) GitHub shows per step.
ANNOTATIONS_PER_LEVEL = 10
#: Bytes GitHub keeps of one step's summary (1 MiB); the summary stays below it.
SUMMARY_LIMIT = 1024 * 1024

#: Verdicts from the most severe to the least, by what the evidence says against the claim:
#:
#: 1. ``disagreement``: the runs contradict the paper (far outside the tolerance);
#: 2. ``gap``: the runs fall short of (or beyond) the paper by more than the tolerance;
#: 3. ``error``: no verdict, because a run failed or its metric is missing;
#: 4. ``inconclusive``: the interval is too wide to decide (a warning);
#: 5. ``skipped``: not run here (a GPU claim on a CPU runner, a failed sanity check);
#: 6. the verdicts that pass: ``exceeded``, ``matched``, ``smoke``.
#:
#: A failing verdict the spec expects (``expect:`` with its hypothesis) is not annotated and
#: comes after every unexpected one. Ties keep the claims' order in their paper.yaml.
SEVERITY: tuple[VerdictName, ...] = (
    "disagreement",
    "gap",
    "error",
    "inconclusive",
    "skipped",
    "exceeded",
    "matched",
    "smoke",
)
_LEVEL_RANK = {"error": 0, "warning": 1, None: 2}


def severity_key(result: ClaimResult) -> tuple[int, int, str, int]:
    """Sort key, most severe first: annotation level (error, warning, none), then the
    verdict's place in :data:`SEVERITY`, then the claim's place in its paper.yaml."""
    shown = meaning(result.verdict, expected=result.expected)
    verdict = result.verdict if result.verdict in SEVERITY else "error"
    return (_LEVEL_RANK[shown.github], SEVERITY.index(verdict), result.path, result.line)


def by_severity(results: Iterable[ClaimResult]) -> list[ClaimResult]:
    """``results`` most severe first (:func:`severity_key`)."""
    return sorted(results, key=severity_key)


# -- annotations ------------------------------------------------------------------------------
def annotation(view: ClaimView, level: str) -> str:
    """One ``::error file=...,line=...,title=claim ID::label`` pointing at the claim's line."""
    r = view.result
    where = f"file={workflow_property(r.path)},line={workflow_property(r.line)}"
    title = workflow_property(f"claim {view.id}")
    return plain(f"::{level} {where},title={title}::{workflow_message(view.label)}")


def github_annotations(
    results: Sequence[ClaimResult], *, per_level: int = ANNOTATIONS_PER_LEVEL
) -> list[str]:
    """Workflow commands that annotate claims at their YAML line, most severe first.

    The level is the verdict's (:data:`pytest_repro.vocab.VERDICTS`); a claim whose
    verdict the spec expects gets none. At most ``per_level`` errors and ``per_level``
    warnings (what GitHub shows of a step); when there are more, a last ``::notice``
    says how many and that every claim is in the step summary.
    """
    shown: dict[str, list[str]] = {"error": [], "warning": []}
    hidden: Counter[str] = Counter()
    for view in map(claim_view, by_severity(results)):
        level = view.meaning.github
        if level is None or view.expected:
            continue
        if len(shown[level]) < per_level:
            shown[level].append(annotation(view, level))
        else:
            hidden[level] += 1
    out = shown["error"] + shown["warning"]
    if hidden:
        out.append(overflow_notice(hidden["error"], hidden["warning"], per_level))
    return out


def overflow_notice(errors: int, warnings: int, per_level: int = ANNOTATIONS_PER_LEVEL) -> str:
    """The notice for the claims left without an annotation.

    >>> overflow_notice(15, 0)[:60]
    '::notice title=pytest-repro::and 15 more failing claims not '
    """
    parts = []
    if errors:
        parts.append(f"{errors} more failing claim{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} more inconclusive claim{'s' if warnings != 1 else ''}")
    message = (
        f"and {' and '.join(parts)} not annotated here (GitHub shows {per_level} error and "
        f"{per_level} warning annotations per step): every claim is in the step summary "
        "(Reproduction verdicts) and in the verdict table of this step's log"
    )
    return f"::notice title={workflow_property('pytest-repro')}::{workflow_message(message)}"


# -- the step summary -------------------------------------------------------------------------
_HEADER = [
    "## Reproduction verdicts",
    "",
]
_TABLE = [
    "| Claim | Paper | Reproduced | Verdict |",
    "| --- | --- | --- | --- |",
]


def summary_row(view: ClaimView) -> str:
    """One row of the verdict table; every cell escaped, so a ``|`` or a line break in a
    label or unit stays in its cell."""
    return (
        f"| {md_code(view.name, cell=True)} | {md_text(view.paper)} | {md_text(view.measured)} "
        f"| {md_text(view.label)} |"
    )


def counts_line(results: Sequence[ClaimResult]) -> str:
    """``25 claims: 3 matched, 20 gap, 2 error`` (verdicts in the summaries' order)."""
    counts = Counter(r.verdict for r in results)
    parts = [f"{counts[v]} {v}" for v in SUMMARY_ORDER if counts[v]]
    parts += [f"{n} {md_text(v)}" for v, n in counts.items() if v not in SUMMARY_ORDER]
    total = len(results)
    return f"{total} claim{'s' if total != 1 else ''}: {', '.join(parts)}"


def left_out_line(left: int, total: int) -> str:
    """The last line of a summary cut short."""
    return (
        f"_{left} of {total} claims are not shown here: GitHub keeps at most 1 MiB of a "
        "step's summary. Every claim is in each paper's results.md and in the reports "
        "uploaded as artifacts (`--html`, `--repro-json`, `--junitxml`)._"
    )


def _size(lines: Iterable[str]) -> int:
    return sum(len(utf8_text(line).encode("utf-8")) + 1 for line in lines)


def summary_markdown(results: Sequence[ClaimResult], *, budget: int = SUMMARY_LIMIT) -> str:
    """The step summary: a heading, the counts, and one table row per claim, most severe
    first. Its UTF-8 encoding is shorter than ``budget`` bytes: rows that would not fit are
    left out from the end (the least severe), and a last line says how many.

    A ``budget`` too small even for the heading and that line gives the heading and that
    line (the caller checks the size).
    """
    ordered = by_severity(results)
    head = [*_HEADER, counts_line(ordered), "", *_TABLE]
    rows = [summary_row(v) for v in map(claim_view, ordered)]
    whole = [*head, *rows]
    if _size(whole) + 1 < budget:  # + the blank line that ends the table
        return utf8_text("\n".join(whole) + "\n\n")
    reserve = _size(["", left_out_line(len(rows), len(rows)), ""]) + 1
    room = budget - _size(head) - reserve
    kept = 0
    for row in rows:
        cost = _size([row])
        if cost >= room:
            break
        room -= cost
        kept += 1
    lines = [*head, *rows[:kept], "", left_out_line(len(rows) - kept, len(rows))]
    return utf8_text("\n".join(lines) + "\n\n")


def write_github(path: Path, results: Sequence[ClaimResult], *, limit: int = SUMMARY_LIMIT) -> None:
    """Append :func:`summary_markdown` to the GitHub Actions step summary at ``path``,
    keeping the whole file (with what other steps' tools wrote before) under ``limit``.

    Raises :class:`OSError` when the file cannot be written, or when what it holds
    already leaves no room for the table's heading (``EFBIG``).
    """
    try:
        used = path.stat().st_size if path.is_file() else 0
    except OSError:
        used = 0
    budget = limit - used
    text = summary_markdown(results, budget=budget)
    if len(text.encode("utf-8")) >= budget:
        raise OSError(
            errno.EFBIG,
            f"the step summary already holds {used} bytes, too close to the {limit} GitHub keeps",
        )
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


__all__ = [
    "ANNOTATIONS_PER_LEVEL",
    "SEVERITY",
    "SUMMARY_LIMIT",
    "by_severity",
    "github_annotations",
    "summary_markdown",
    "write_github",
]
