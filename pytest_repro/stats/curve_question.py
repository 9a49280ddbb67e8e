"""A claim about a curve as a typed question, answered by the rule its kind names.

The values are one row per seed and one column per swept point (``xs`` in the order the
sweep was written); the rules are those of :mod:`.trend`, :mod:`.peak` and :mod:`.curve`.

>>> q = CurveQuestion(rule="trend", xs=(1.0, 2.0, 3.0), direction="increasing")
>>> answer_curve([[0.1, 0.5, 0.9], [0.2, 0.6, 1.1], [0.1, 0.4, 1.0]], q).outcome
'matched'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from pytest_repro.errors import StatsError
from pytest_repro.stats.sweep import SweepVerdict

CurveRuleName = Literal["trend", "slope", "peak", "curve"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveQuestion:
    """Everything a curve verdict depends on besides the values.

    ``trend``: ``direction`` and ``margin``; ``slope``: ``slope`` ± ``tolerances[0]`` on
    ``scale`` (``base``); ``peak``: ``extremum`` ``within``; ``curve``: ``paper_points`` ±
    ``tolerances`` (one per point). ``rng`` drives the peak's location bootstrap.
    """

    rule: CurveRuleName
    xs: tuple[float, ...]
    direction: Literal["increasing", "decreasing"] | None = None
    margin: float = 0.0
    slope: float | None = None
    scale: Literal["linear", "log-x", "log-log"] = "linear"
    base: float = 10.0
    extremum: Literal["max", "min"] | None = None
    within: tuple[float, float] | None = None
    paper_points: tuple[float, ...] = ()
    tolerances: tuple[float, ...] = ()
    disagreement: float = 3.0
    #: the metric's smallest step: the spread of copies of one run (identical seeds).
    resolution: float | None = None
    rng: np.random.Generator | None = None


def answer_curve(values: Sequence[Sequence[float]], q: CurveQuestion) -> SweepVerdict:
    """The verdict of ``q`` on ``values`` (``(n_seeds, K)``, NaN for a missing run)."""
    if q.rule == "trend":
        from pytest_repro.stats.trend import decide_trend

        if q.direction is None:
            raise StatsError("a trend needs a direction: increasing or decreasing")
        return decide_trend(
            q.xs, values, direction=q.direction, margin=q.margin, resolution=q.resolution
        )
    if q.rule == "slope":
        from pytest_repro.stats.trend import decide_slope

        if q.slope is None or not q.tolerances:
            raise StatsError("a slope claim needs the paper's slope and a tolerance")
        return decide_slope(
            q.xs,
            values,
            paper=q.slope,
            tolerance=q.tolerances[0],
            scale=q.scale,
            disagreement=q.disagreement,
            base=q.base,
            rng=q.rng,
        )
    if q.rule == "peak":
        from pytest_repro.stats.peak import decide_peak

        if q.extremum is None or q.within is None:
            raise StatsError("a peak claim needs extremum and within")
        return decide_peak(
            q.xs, values, extremum=q.extremum, within=q.within, rng=q.rng, resolution=q.resolution
        )
    from pytest_repro.stats.curve import decide_curve

    return decide_curve(
        q.xs,
        values,
        paper=q.paper_points,
        tolerance=q.tolerances,
        disagreement=q.disagreement,
        resolution=q.resolution,
    )


__all__ = ["CurveQuestion", "CurveRuleName", "answer_curve"]
