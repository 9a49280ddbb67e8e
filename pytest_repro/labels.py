"""The verdict label a claim carries everywhere: ``[matched within 0.5 pp]``.

One function writes it from the claim and the statistics' verdict, so the terminal
line, the summary table, results.md, JSON, HTML and GitHub all show the same words.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_repro.report.format import Units, first_sentence

if TYPE_CHECKING:
    from pytest_repro.spec.schema import Claim
    from pytest_repro.stats import Verdict


def verdict_label(claim: Claim, verdict: Verdict, units: Units) -> str:
    """The label of a decided (or inconclusive) claim."""
    outcome, delta = verdict.outcome, verdict.delta
    if claim.kind == "comparative" and claim.paper is None:
        if outcome == "matched":
            margin = f" (margin {units.magnitude(claim.margin)})" if claim.margin else ""
            return f"[matched: A better by {units.magnitude(verdict.estimate)}{margin}]"
        if outcome == "gap":
            improvement = units.diff(verdict.estimate)
            margin = units.magnitude(claim.margin)
            return f"[gap: improvement of A over B {improvement}, below the margin {margin}{_hypothesis(claim)}]"
        if outcome == "disagreement":
            return f"[fundamental disagreement: B better by {units.magnitude(verdict.estimate)}, see {_see(claim)}]"
    if outcome == "matched":
        return f"[matched within {units.magnitude(claim.tolerance or 0.0)}]"
    if outcome == "gap" and claim.better == "none":
        side = "above" if delta > 0 else "below"
        return f"[{side} the paper by {units.magnitude(delta)}" + _hypothesis(claim) + "]"
    if outcome == "gap":
        return f"[gap of {units.magnitude(delta)}" + _hypothesis(claim) + "]"
    if outcome == "exceeded":
        return f"[exceeded by {units.magnitude(delta)}]"
    if outcome == "disagreement":
        return f"[fundamental disagreement, see {_see(claim)}]"
    if verdict.n <= 1 and verdict.deviation_in_tol is not None:
        return f"[inconclusive: 1 seed, {verdict.deviation_in_tol:.1f} tolerances from the paper]"
    if any(note.startswith("identical seeds:") for note in verdict.notes):
        return f"[inconclusive: all {verdict.n} seeds gave the same value, more copies will not decide]"
    if verdict.seeds_needed:
        return f"[inconclusive: ~{verdict.seeds_needed} seeds would decide]"
    return "[inconclusive: the interval is too wide to decide]"


def _hypothesis(claim: Claim) -> str:
    if claim.hypothesis:
        return f", hypothesis: {first_sentence(claim.hypothesis)}"
    return ", no hypothesis stated"


def _see(claim: Claim) -> str:
    return claim.see or f"results.md#{claim.id}"


__all__ = ["verdict_label"]
