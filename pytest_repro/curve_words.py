"""The words of a claim about a curve: what it claims, what was measured, and its label.

One module writes them, so the terminal, results.md, JSON, HTML and GitHub say the same:

- claimed: ``decreasing in width``, ``slope -0.5 ± 0.1 (log-log)``, ``max at N in [750,
  1500]``, ``1/sqrt(D) ± 5%`` (a formula) or ``the paper's 5 values ± 0.01``;
- measured: the deciding step, slope, extremum or point, with its interval;
- the label: ``[matched: decreasing at every step]``, ``[fundamental disagreement: rises
  from width 32 to 64, see ...]``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytest_repro.report.format import Units, first_sentence

if TYPE_CHECKING:
    from pytest_repro.spec.claim_nodes import Claim, CurveRule, Sweep
    from pytest_repro.stats.sweep import SweepVerdict


def g(x: float) -> str:
    """A swept value or a slope, compactly: ``1000``, ``0.001``, ``-0.48``."""
    return f"{x:.4g}"


def parts(claim: Claim) -> tuple[CurveRule, Sweep]:
    """The rule and the sweep of a claim about a curve (:class:`TypeError` for another)."""
    if claim.curve is None or claim.sweep is None:
        raise TypeError(f"claim {claim.id!r} is not about a curve")
    return claim.curve, claim.sweep


def claimed_text(claim: Claim) -> str:
    """What the claim says of the curve, in words."""
    if claim.curve is None or claim.sweep is None:
        return ""
    rule, sweep = parts(claim)
    units = Units(claim.unit, None)
    axis = sweep.axis
    if rule.rule == "slope":
        return f"slope {g(rule.slope or 0.0)} ± {g(rule.slope_tolerance or 0.0)} ({_scale(rule)})"
    if rule.rule == "trend":
        step = f", each step by > {units.magnitude(rule.margin)}" if rule.margin else ""
        return f"{rule.direction} in {axis}{step}"
    if rule.rule == "peak":
        low, high = rule.within or (math.nan, math.nan)
        return f"{rule.extremum} at {axis} in [{g(low)}, {g(high)}]"
    band = _band(rule, units)
    if rule.formula:
        return f"{rule.formula} {band}"
    return f"the paper's {len(rule.paper_points)} values {band}"


def _band(rule: CurveRule, units: Units) -> str:
    if rule.tolerance_relative:
        return f"± {rule.tolerance_relative * 100:g}%"
    tols = set(rule.tolerances)
    if len(tols) == 1:
        return f"± {units.magnitude(rule.tolerances[0])}"
    return "± each point's tolerance"


def _scale(rule: CurveRule) -> str:
    if rule.scale == "log-x":
        return f"per factor {g(rule.base)} of x" if rule.base != 10 else "per decade of x"
    return rule.scale


def measured_text(claim: Claim, verdict: SweepVerdict, units: Units) -> str:
    """The deciding number with its decision interval, and where on the curve it is."""
    v = verdict.verdict
    rule, sweep = parts(claim)
    axis = sweep.axis
    level = f"{round(v.interval.level * 100):g}% CI"
    if rule.rule == "slope":
        return f"slope {g(v.estimate)} {level} [{g(v.interval.low)}, {g(v.interval.high)}]"
    if rule.rule == "trend":
        step = _deciding_step(verdict)
        where = f" ({axis} {g(step[0])} → {g(step[1])})" if step else ""
        return (
            f"weakest step in the claimed direction {units.diff(v.estimate)} {level} "
            f"{units.diff_interval((v.interval.low, v.interval.high))}{where}"
        )
    if rule.rule == "peak":
        at = verdict.location_estimate
        where = f"{rule.extremum} of the mean curve at {axis} = {g(at)}" if at is not None else ""
        if verdict.location is not None:
            where += f" (bootstrap 90% [{g(verdict.location.low)}, {g(verdict.location.high)}])"
        return (
            f"{where}; best point in range beats every point outside by "
            f"{units.diff(v.estimate)} {level} {units.diff_interval((v.interval.low, v.interval.high))}"
        )
    x, mean, paper = _farthest(claim, verdict)
    return (
        f"farthest point {axis} = {g(x)}: {units.value(mean)} vs the paper's {units.value(paper)}, "
        f"{level} {units.interval((v.interval.low, v.interval.high))}"
    )


def _deciding_step(verdict: SweepVerdict) -> tuple[float, float] | None:
    """The step whose interval decided the trend (the one reported as the estimate)."""
    est = verdict.verdict.estimate
    best = None
    for s in verdict.steps:
        gap = abs(abs(s.difference) - abs(est))
        if best is None or gap < best[0]:
            best = (gap, (s.x_from, s.x_to))
    return best[1] if best else None


def _farthest(claim: Claim, verdict: SweepVerdict) -> tuple[float, float, float]:
    """The point farthest from the paper in tolerances: its x, the seeds' mean, the paper's value."""
    rule, sweep = parts(claim)
    paper = dict(zip(sweep.xs, rule.paper_points, strict=True))
    tol = dict(zip(sweep.xs, rule.tolerances, strict=True))
    worst = max(verdict.points, key=lambda p: abs(p.mean - paper[p.x]) / tol[p.x])
    return worst.x, worst.mean, paper[worst.x]


def curve_label(claim: Claim, verdict: SweepVerdict, units: Units) -> str:
    """The verdict label of a claim about a curve."""
    v = verdict.verdict
    rule, sweep = parts(claim)
    axis, outcome = sweep.axis, v.outcome
    see = claim.see or f"results.md#{claim.id}"
    why = _hypothesis(claim)
    if rule.rule == "slope":
        if outcome == "matched":
            return f"[matched: slope {g(v.estimate)} within {g(rule.slope_tolerance or 0.0)} of {g(rule.slope or 0.0)}]"
        if outcome == "gap":
            side = "steeper" if abs(v.estimate) > abs(rule.slope or 0.0) else "flatter"
            return f"[gap: slope {g(v.estimate)}, {side} than {g(rule.slope or 0.0)}{why}]"
        if outcome == "disagreement":
            return f"[fundamental disagreement: slope {g(v.estimate)} vs {g(rule.slope or 0.0)}, see {see}]"
    elif rule.rule == "trend":
        step = _deciding_step(verdict)
        where = f"{axis} {g(step[0])} to {g(step[1])}" if step else axis
        if outcome == "matched":
            return f"[matched: {rule.direction} at every step of {axis}]"
        if outcome == "disagreement":
            moves = "falls" if rule.direction == "increasing" else "rises"
            return f"[fundamental disagreement: {moves} from {where}, see {see}]"
    elif rule.rule == "peak":
        at = verdict.location_estimate
        low, high = rule.within or (math.nan, math.nan)
        place = f"{rule.extremum} at {axis} = {g(at)}" if at is not None else rule.extremum or ""
        if outcome == "matched":
            return f"[matched: {place}, within [{g(low)}, {g(high)}]]"
        if outcome == "disagreement":
            return f"[fundamental disagreement: {place}, outside [{g(low)}, {g(high)}], see {see}]"
    else:
        x, mean, paper = _farthest(claim, verdict)
        off = f"{axis} = {g(x)}: {units.diff(mean - paper)} from the paper"
        if outcome == "matched":
            return f"[matched: every point within {_band(rule, units).removeprefix('± ')} of the paper]"
        if outcome == "gap":
            return f"[gap at {off}{why}]"
        if outcome == "disagreement":
            return f"[fundamental disagreement at {off}, see {see}]"
    return f"[inconclusive at {v.n} seeds: {_undecided(rule.rule)}]"


def _undecided(rule: str) -> str:
    return {
        "trend": "a step is not clearly in the claimed direction",
        "slope": "the slope's interval is too wide to decide",
        "peak": "neither the range nor the outside clearly holds the extremum",
    }.get(rule, "a point's interval is too wide to decide")


def _hypothesis(claim: Claim) -> str:
    if claim.hypothesis:
        return f", hypothesis: {first_sentence(claim.hypothesis)}"
    return ", no hypothesis stated"


def points_json(claim: Claim, verdict: SweepVerdict) -> list[dict[str, object]]:
    """Each swept point as reports draw it: x, the seeds' mean, the 95% simultaneous band,
    the values, and the paper's value and tolerance where the claim gives them."""
    rule, sweep = parts(claim)
    paper = dict(zip(sweep.xs, rule.paper_points, strict=False))
    tol = dict(zip(sweep.xs, rule.tolerances, strict=False))
    names = dict(zip(sweep.xs, (p.name for p in sweep.points), strict=True))
    out: list[dict[str, object]] = []
    for p in verdict.points:
        item: dict[str, object] = {
            "x": p.x,
            "variant": names.get(p.x),
            "mean": p.mean,
            "band": [p.low, p.high],
            "n": p.n,
            "values": list(p.values),
        }
        if p.x in paper:
            item["paper"] = paper[p.x]
            item["tolerance"] = tol.get(p.x)
        out.append(item)
    return out


def sweep_json(claim: Claim, verdict: SweepVerdict, units: Units) -> dict[str, object]:
    """The ``sweep`` entry of a claim result: the axis, the rule, the points, and the words."""
    rule, sweep = parts(claim)
    out: dict[str, object] = {
        "axis": sweep.axis,
        "rule": rule.rule,
        "measured": measured_text(claim, verdict, units),
        "points": points_json(claim, verdict),
    }
    if rule.within is not None:
        out["within"] = list(rule.within)
    if verdict.location is not None:
        out["location"] = [verdict.location.low, verdict.location.high]
    if verdict.location_estimate is not None:
        out["location_estimate"] = verdict.location_estimate
    if verdict.fit is not None:
        out["fit"] = list(verdict.fit)
        out["scale"] = verdict.scale
        out["base"] = rule.base
    if verdict.steps:
        out["steps"] = [
            {
                "from": s.x_from,
                "to": s.x_to,
                "difference": s.difference,
                "interval": [s.interval.low, s.interval.high],
                "n": s.n,
            }
            for s in verdict.steps
        ]
    return out


def seed_rows(values: Sequence[Sequence[float]]) -> list[list[float]]:
    """``values[k][i]`` (point k, seed i) as rows per seed: the matrix the rules take."""
    return [list(row) for row in zip(*values, strict=True)]


__all__ = ["claimed_text", "curve_label", "measured_text", "seed_rows", "sweep_json"]
