"""What the terminal shows: a failure block per claim and the verdict table."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from importlib import metadata

from pytest_repro.report.format import Units
from pytest_repro.results import ClaimResult

REMEDY = {
    "gap": (
        'if the gap is understood, record it in the claim: expect: gap with hypothesis: "..."; '
        "otherwise investigate it — never tune the reproduction until it passes"
    ),
    "disagreement": (
        "a reproduction that contradicts the paper is a finding: record it with expect: disagreement and "
        'hypothesis: "...", and report it'
    ),
    "inconclusive": (
        "the interval is wider than the tolerance allows: run more seeds (seeds: N or {min: 3, max: 10}), "
        "or accept undecided claims with --repro-inconclusive=skip"
    ),
    "error": "fix the run (its output is above), then rerun: runs that finished are reused, only the rest run again",
}


def units_of(result: ClaimResult) -> Units:
    return Units(result.unit, result.tolerance)


def paper_text(result: ClaimResult) -> str:
    units = units_of(result)
    if result.paper is None:
        if result.kind == "comparative":
            margin = f" by at least {units.magnitude(result.margin)}" if result.margin else ""
            return f"A better than B{margin}"
        return "n/a"
    if result.kind == "absolute":
        text = units.value(result.paper)
    elif result.paper == 0:
        text = "A equal to B"
    else:
        text = f"A better by {units.diff(result.paper)}"
    if result.paper_spread:
        text += (
            f" ({result.paper_spread['kind']} {units.magnitude(float(result.paper_spread['value']))}, "
            f"{result.paper_spread['seeds']} runs)"
        )
    return text


def measured_text(result: ClaimResult) -> str:
    units = units_of(result)
    if result.estimate is None:
        return "n/a"
    if result.kind == "absolute":
        value, interval = units.value(result.estimate), units.interval(result.interval)
    else:
        value, interval = units.diff(result.estimate), units.diff_interval(result.interval)
    if result.interval:
        level = f"{round((result.confidence or 0) * 100):g}%"
        return f"{value} {level} CI {interval}"
    return value


def delta_reference(result: ClaimResult) -> str:
    """What a comparative claim's delta is measured from (absolute claims: the paper value)."""
    if result.kind != "comparative":
        return ""
    if result.paper is not None:
        return " (improvement minus the paper's)"
    return " (improvement minus the margin)"


def shown_interval(result: ClaimResult) -> str:
    """The 95% interval in the claim's units (differences for comparative claims)."""
    units = units_of(result)
    if result.kind == "absolute":
        return units.interval(result.shown_interval)
    return units.diff_interval(result.shown_interval)


def claim_block(result: ClaimResult, *, rerun: str) -> str:
    """The failure block of one claim: where, paper vs measured, verdict, rerun, remedy."""
    units = units_of(result)
    lines = [
        f"{result.path}:{result.line}: claim {result.id}",
        f"  {result.text} ({result.source})",
    ]
    at = ", ".join(f"{k} {v}" for k, v in result.at.items())
    if result.verdict != "error":
        tol = f"   tolerance ±{units.magnitude(result.tolerance)}" if result.tolerance else ""
        lines.append(f"  paper      {paper_text(result)}{tol}   ({result.metric} at {at})")
        if result.kind == "comparative" and result.values_a:
            lines.append(f"  arms       A = {result.variants[0]}; B = {result.variants[1]}")
        lines.append(f"  measured   {measured_text(result)}")
        if result.shown_interval:
            lines.append(
                f"             {round((result.shown_confidence or 0.95) * 100):g}% CI "
                f"{shown_interval(result)}   {result.method}"
            )
        if result.values:
            per_seed = ", ".join(
                f"{s}: {units.value(v) if result.kind == 'absolute' else units.diff(v)}"
                for s, v in zip(result.seeds, result.values, strict=False)
            )
            lines.append(f"             n={result.n} ({per_seed})")
        if result.delta is not None:
            lines.append(f"  delta      {units.diff(result.delta)}{delta_reference(result)}")
    lines.append(f"  verdict    {result.label}")
    if result.seeds_needed and result.verdict == "inconclusive":
        lines.append(
            f"             about {result.seeds_needed} seeds would decide it at this spread"
        )
    if result.adaptive:
        lines.append(
            f"  seeds      {result.adaptive['used']} of up to {result.adaptive['max']} "
            f"(adaptive stages {result.adaptive['stages']})"
        )
    for note in (*result.notes, *result.warnings):
        lines.append(f"  note       {note}")
    for sub in result.substitutions:
        lines.append(f"  substitute {sub['original']} -> {sub['used']} ({sub['why']})")
    if result.error:
        lines.append("")
        lines.extend(f"  {line}" for line in result.error.splitlines())
    if result.runs:
        lines.append(
            f"  runs       {', '.join(result.runs[:6])}{' ...' if len(result.runs) > 6 else ''}"
        )
    lines.append("")
    lines.append(f"rerun: {rerun}")
    remedy = REMEDY.get(result.verdict)
    if remedy:
        lines.append(f"fix: {remedy}")
    return "\n".join(lines)


def summary_table(results: Sequence[ClaimResult]) -> list[str]:
    """One row per claim: paper value, measured with its decision interval, delta, n, label."""
    header = ("claim", "paper", "measured (decision interval)", "delta", "n", "verdict")
    rows = []
    for r in results:
        units = units_of(r)
        rows.append(
            (
                f"{r.paper_id}::{r.id}",
                paper_text(r) if r.kind == "absolute" or r.paper is not None else "A > B",
                measured_text(r),
                units.diff(r.delta) if r.delta is not None else "",
                str(r.n) if r.n else "",
                r.label,
            )
        )
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header) - 1)]
    out = []
    for row in (header, *rows):
        cells = [str(cell).ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        out.append("  ".join([*cells, row[-1]]).rstrip())
    counts: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
    order = (
        "matched",
        "exceeded",
        "gap",
        "disagreement",
        "inconclusive",
        "error",
        "skipped",
        "smoke",
    )
    out.append(", ".join(f"{counts[v]} {v}" for v in order if v in counts))
    return out


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
