"""The verdict label a claim carries everywhere: ``[matched within 0.5 pp]``.

One function writes it from the claim and the statistics' verdict, so the terminal
line, the summary table, results.md, JSON, HTML and GitHub all show the same words.
:func:`claimed_comparison` and :func:`comparison` are the words of a comparative claim
(``A lower than B by ≥ 1.0``) that the label and the reports' paper column share.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pytest_repro.report.format import Units, first_sentence

if TYPE_CHECKING:
    from pytest_repro.spec.claim_nodes import Claim
    from pytest_repro.stats import Verdict


def claimed_comparison(better: str, margin: float | None, units: Units) -> str:
    """What a comparative claim without a paper value says, in its direction.

    >>> claimed_comparison("lower", 1.0, Units())
    'A lower than B by ≥ 1.000'
    >>> claimed_comparison("higher", 0.0, Units())
    'A higher than B'
    """
    by = f" by ≥ {units.magnitude(margin)}" if margin else ""
    return f"A {_direction(better)} than B{by}"


def comparison(better: str, improvement: float, units: Units) -> str:
    """A measured (or the paper's) improvement of A over B, in the claim's direction: the
    arm ahead is the subject, so the amount is never negative.

    >>> comparison("lower", 8.594, Units())
    'A lower than B by 8.594'
    >>> comparison("higher", -0.1, Units())
    'B higher than A by 0.100'
    """
    if units.magnitude(improvement) == units.magnitude(0.0):
        return "A equal to B"
    ahead, behind = ("A", "B") if improvement > 0 else ("B", "A")
    return f"{ahead} {_direction(better)} than {behind} by {units.magnitude(improvement)}"


def verdict_label(claim: Claim, verdict: Verdict, units: Units) -> str:
    """The label of a decided (or inconclusive) claim."""
    outcome, delta = verdict.outcome, verdict.delta
    if claim.kind == "comparative" and claim.paper is None:
        measured = comparison(claim.better, verdict.estimate, units)
        if outcome == "matched":
            margin = f" (margin {units.magnitude(claim.margin)})" if claim.margin else ""
            return f"[matched: {measured}{margin}]"
        if outcome == "gap":
            margin = units.magnitude(claim.margin)
            return f"[gap: {measured}, below the margin {margin}{_hypothesis(claim)}]"
        if outcome == "disagreement":
            return f"[fundamental disagreement: {measured}, see {_see(claim)}]"
    if outcome == "matched":
        return (
            f"[matched within {tolerance_text(claim.tolerance, claim.tolerance_relative, units)}]"
        )
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
    if verdict.n >= 2 and verdict.method.startswith("anytime"):
        return f"[inconclusive at {verdict.n} seeds: add seeds and run again (interval: anytime)]"
    if verdict.n >= 2 and claim.kind == "comparative":  # no anytime rule: plan the seeds
        return (
            f"[inconclusive at {verdict.n} seeds: to add seeds, plan them with seeds: {{min, max}}]"
        )
    if verdict.n >= 2 and not claim.deterministic:  # stays valid followed again and again
        return f"[inconclusive at {verdict.n} seeds: to add seeds, decide with interval: anytime]"
    return "[inconclusive: the interval is too wide to decide]"


def tolerance_text(tolerance: float | None, relative: float | None, units: Units) -> str:
    """``1.0 pp``, or ``5% of the paper (4.5 pp)`` for a relative tolerance."""
    size = units.magnitude(tolerance or 0.0)
    return f"{relative * 100:g}% of the paper ({size})" if relative else size


def _direction(better: str) -> str:
    return "lower" if better == "lower" else "higher"


def _hypothesis(claim: Claim) -> str:
    if claim.hypothesis:
        return f", hypothesis: {first_sentence(claim.hypothesis)}"
    return ", no hypothesis stated"


def _see(claim: Claim) -> str:
    return claim.see or f"results.md#{claim.id}"


__all__ = ["claimed_comparison", "comparison", "tolerance_text", "verdict_label"]
