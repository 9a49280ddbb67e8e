"""What the terminal shows: a failure block per claim, the verdict table, the header line.

Both are formatters over :func:`~pytest_repro.report.model.claim_view`; every line goes
through :func:`~pytest_repro.report.escape.terminal_line`, so text from a spec or a run
cannot add lines, colour the terminal or issue a GitHub workflow command.
"""

from __future__ import annotations

import platform
from collections.abc import Sequence
from importlib import metadata

from pytest_repro.report.escape import plain, terminal_line
from pytest_repro.report.format import size
from pytest_repro.report.model import claim_view, verdict_counts
from pytest_repro.report.paper_level import paper_lines
from pytest_repro.results import ClaimResult


def claim_block(result: ClaimResult, *, rerun: str) -> str:
    """The failure block of one claim: where, paper vs measured, verdict, rerun, remedy.

    >>> print(claim_block(result, rerun="pytest 'papers/p1/paper.yaml::acc'"))  # doctest: +SKIP
    papers/p1/paper.yaml:14: claim acc
      accuracy reaches the paper's value (Table 1)
      paper      90.0%   tolerance ±1.0 pp   (acc at epoch 5)
      ...
    """
    v = claim_view(result)
    lines = [f"{v.where}: claim {v.id}", f"  {v.text} ({v.source})"]
    if v.verdict != "error":
        tol = f"   tolerance {v.tolerance}" if v.tolerance else ""
        lines.append(f"  paper      {v.paper}{tol}   ({v.metric} at {v.at})")
        if v.arms is not None and result.values_a:
            lines.append(f"  arms       A = {v.arms[0]}; B = {v.arms[1]}")
        lines.append(f"  measured   {v.measured}")
        if v.interval:
            lines.append(f"             {v.interval_level} CI {v.interval}   {result.method}")
        if result.values:
            lines.append(f"             n={v.n} ({v.per_seed_text})")
        for p in v.points:
            paper = f"   paper {p.paper}" if p.paper else ""
            lines.append(f"  {p.axis}={p.x}: mean {p.mean} band {p.band} ({p.values}){paper}")
        if v.delta:
            lines.append(f"  delta      {v.delta_text}")
    lines.append(f"  verdict    {v.label}")
    if v.seeds_needed:
        lines.append(f"             {v.seeds_needed}")
    if v.anytime:
        lines.append(f"  anytime    {v.anytime}")
    if v.adaptive is not None:
        lines.append(f"  seeds      {v.adaptive.text}")
    lines.extend(f"  note       {note}" for note in v.notes)
    lines.extend(f"  substitute {sub.text}" for sub in v.substitutions)
    if v.error:
        lines.append("")
        lines.extend(f"  {line}" for line in v.error.splitlines())
    if v.runs:
        lines.append(f"  runs       {', '.join(v.runs[:6])}{' ...' if len(v.runs) > 6 else ''}")
    lines.append("")
    lines.append(f"rerun: {rerun}")
    if v.expected_text:  # recorded already: nothing to fix
        lines.append(f"expected: {v.expected_text}")
    elif v.meaning.remedy:
        lines.append(f"fix: {v.meaning.remedy}")
    return "\n".join(terminal_line(line) for line in lines)


def summary_table(results: Sequence[ClaimResult]) -> list[str]:
    """One row per claim: paper value, measured with its decision interval, delta, n, label;
    then how many claims have each verdict."""
    return [line for line, _ in _claim_rows(results)]


def summary_rows(results: Sequence[ClaimResult]) -> list[tuple[str, str | None]]:
    """The lines of :func:`summary_table`, each with the terminal colour of its claim's
    verdict (an expected gap has its own, :data:`pytest_repro.vocab.EXPECTED_TERMINAL`);
    None for the header, the counts and the paper-level view that follows them
    (:func:`~pytest_repro.report.paper_level.paper_lines`)."""
    out = _claim_rows(results)
    out.extend((terminal_line(plain(line)), None) for line in paper_lines(results))
    return out


def _claim_rows(results: Sequence[ClaimResult]) -> list[tuple[str, str | None]]:
    header = ("claim", "paper", "measured (decision interval)", "delta", "n", "verdict")
    rows: list[tuple[str, ...]] = [header]
    colours: list[str | None] = [None]
    for v in map(claim_view, results):
        cells = (v.name, v.paper, v.measured, v.delta_text, str(v.n) if v.n else "", v.label)
        rows.append(tuple(plain(cell) for cell in cells))
        colours.append(v.meaning.terminal)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    out: list[tuple[str, str | None]] = []
    for row, colour in zip(rows, colours, strict=True):
        padded = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        out.append((terminal_line("  ".join([*padded, row[-1]]).rstrip()), colour))
    out.append((verdict_counts(results), None))
    return out


def smoke_table(results: Sequence[ClaimResult]) -> list[str]:
    """One row per smoke stage run: claim (and variant), stage, status, wall time, peak
    resident memory and CUDA's maximum allocated memory ("-" where not measured)."""
    header = ("claim", "stage", "status", "wall", "peak rss", "cuda max")
    rows: list[tuple[str, ...]] = [header]
    for result in results:
        for s in result.smoke_stages:
            name = f"{result.paper_id}::{result.id}" + (f" [{s.variant}]" if s.variant else "")
            cells = (
                name,
                s.stage,
                s.status if s.error is None else f"{s.status}: {s.error}",
                f"{s.wall_s:.2f} s",
                size(s.peak_rss) if s.peak_rss is not None else "-",
                size(s.cuda_max_allocated) if s.cuda_max_allocated is not None else "-",
            )
            rows.append(tuple(plain(cell) for cell in cells))
    if len(rows) == 1:
        return []
    order = (0, 1, 3, 4, 5, 2)  # the status, which may hold an error, goes last
    widths = {i: max(len(row[i]) for row in rows) for i in order[:-1]}
    return [
        terminal_line("  ".join([*(row[i].ljust(widths[i]) for i in order[:-1]), row[2]]).rstrip())
        for row in rows
    ]


def environment_line() -> str:
    """Versions that matter for rerunning, read without importing the packages."""
    parts = [f"python {platform.python_version()}"]
    for name in ("torch", "numpy", "scipy"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    parts.append(f"{platform.system().lower()}-{platform.machine()}")
    return ", ".join(parts)
