"""A curve point by point: "the metric is the paper's value at each swept value, within
that point's tolerance".

*matched* when every point's 90% Student-t interval lies inside ``paper_k ± tolerance_k``
(an intersection–union test: a reproduction with one point on its band edge is called
matched at most 5% of the time). A point counts as *outside* only when its simultaneous
interval (Bonferroni over the ``K`` points at the 90% level: each at ``1 - 0.10/K``) lies
entirely outside its band, so a correct reproduction is failed at most 5% of the time
over all its points; *disagreement* when some point is outside by more than
``disagreement`` tolerances, *gap* when outside but not that far, *inconclusive*
otherwise. Each point's spread is floored at a tenth of its tolerance, as the absolute
rule does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pytest_repro.errors import StatsError
from pytest_repro.stats.checks import check_disagreement, check_finite, check_positive
from pytest_repro.stats.model import Interval, Verdict
from pytest_repro.stats.rules import (
    DISAGREEMENT,
    FALLBACK_FLOOR_FRACTION,
    GAP,
    INCONCLUSIVE,
    MATCHED,
    CodeArray,
    Floor,
    absolute_t,
    classify_absolute,
    outcome_of,
)
from pytest_repro.stats.sweep import SweepVerdict, check_sweep, fmt, missing_note, point_summaries

FloatArray = NDArray[np.float64]
DECIDE_LEVEL = 0.90


def curve_levels(k: int) -> tuple[float, float, float]:
    """Per-point levels: the decision (90%), the simultaneous (``1 - 0.10/K``), shown (95%)."""
    return DECIDE_LEVEL, 1.0 - (1.0 - DECIDE_LEVEL) / k, 0.95


def point_bounds(
    x: ArrayLike, tolerance: float, k: int, *, resolution: float | None = None
) -> tuple[FloatArray, FloatArray]:
    """Low and high ends (``(3, rows)``) at :func:`curve_levels` for rows of one point's seeds.

    The spread is floored as the absolute rule floors it: by ``resolution`` when given,
    else by a tenth of ``tolerance``; identical seeds count as one effective value.
    """
    if resolution is not None:
        floor = Floor(value=float(resolution), source="resolution")
    else:
        floor = Floor(value=FALLBACK_FLOOR_FRACTION * tolerance, source="tolerance")
    tb = absolute_t(x, curve_levels(k), floor=floor)
    return tb.low, tb.high


def curve_codes(
    low: ArrayLike,
    high: ArrayLike,
    *,
    paper: Sequence[float],
    tolerance: Sequence[float],
    disagreement: float,
) -> tuple[CodeArray, NDArray[np.int8], NDArray[np.int8]]:
    """Claim codes and per-point codes from bounds ``(3, rows, K)`` (:func:`curve_levels`).

    Returns ``(codes (rows,), decide (rows, K), simultaneous (rows, K))``.
    """
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    k = lo.shape[-1]
    rows = lo.shape[1]
    each = np.empty((rows, k), dtype=np.int8)
    simul = np.empty_like(each)
    for j in range(k):
        for target, r in ((each, 0), (simul, 1)):
            target[:, j] = classify_absolute(
                lo[r, :, j],
                hi[r, :, j],
                paper=paper[j],
                tolerance=tolerance[j],
                better="none",
                disagreement=disagreement,
            )
    out = np.full(each.shape[0], INCONCLUSIVE, dtype=np.int8)
    out[(each == MATCHED).all(axis=1)] = MATCHED
    out[(simul == GAP).any(axis=1)] = GAP
    out[(simul == DISAGREEMENT).any(axis=1)] = DISAGREEMENT
    return out, each, simul


def decide_curve(
    xs: ArrayLike,
    values: ArrayLike,
    *,
    paper: Sequence[float],
    tolerance: Sequence[float] | float,
    disagreement: float = 3.0,
    resolution: float | None = None,
) -> SweepVerdict:
    """The verdict on "the metric is ``paper[k]`` ± ``tolerance[k]`` at each ``xs[k]``".

    ``paper`` and ``tolerance`` are in the order of ``xs`` as given; one ``tolerance``
    number applies to every point. A curve given as a formula is evaluated at each swept
    value by the caller and passed as ``paper``. The estimate is the
    mean at the deciding point: for a gap or disagreement the point outside its band by the
    most tolerances (its interval is then the simultaneous one the decision used), else the
    point farthest from the paper in tolerances (its 90% interval).

    >>> v = decide_curve([1, 2], [[0.50, 0.70], [0.51, 0.71], [0.49, 0.69]],
    ...                  paper=[0.5, 0.7], tolerance=[0.05, 0.05])
    >>> v.outcome
    'matched'
    """
    check_disagreement(disagreement)
    if resolution is not None:
        check_positive(resolution, "resolution")
    data = check_sweep(xs, values)
    raw_x = np.asarray(xs, dtype=np.float64)
    if isinstance(tolerance, (int, float)):
        tolerance = [float(tolerance)] * raw_x.size
    if len(paper) != raw_x.size or len(tolerance) != raw_x.size:
        raise StatsError(
            f"paper has {len(paper)} values and tolerance {len(tolerance)} for {raw_x.size} "
            "swept values; give one of each per swept value"
        )
    for j in range(raw_x.size):
        check_finite(paper[j], f"paper[{j}]")
        check_positive(tolerance[j], f"tolerance[{j}]")
    order = np.argsort(raw_x, kind="stable")
    p = [float(paper[int(i)]) for i in order]
    tol = [float(tolerance[int(i)]) for i in order]
    k = data.k
    low = np.empty((3, 1, k))
    high = np.empty((3, 1, k))
    means = np.empty(k)
    ns = np.empty(k, dtype=np.int64)
    notes = missing_note(data)
    for j in range(k):
        col = data.values[:, j]
        col = col[np.isfinite(col)]
        ns[j] = col.size
        means[j] = col.mean()
        lo, hi = point_bounds(col[None, :], tol[j], k, resolution=resolution)
        low[:, 0, j], high[:, 0, j] = lo[:, 0], hi[:, 0]
        if col.size < 2:
            notes.append(f"x={fmt(float(data.xs[j]))}: one seed, no interval at this point")
    codes, _, simul = curve_codes(low, high, paper=p, tolerance=tol, disagreement=disagreement)
    code = int(codes[0])
    dev = np.abs(means - np.array(p)) / np.array(tol)
    if code in (GAP, DISAGREEMENT):
        outside = np.flatnonzero(simul[0] == code)
        j = int(outside[np.argmax(dev[outside])])
        row = 1
    else:
        j = int(np.argmax(dev))
        row = 0
    levels = curve_levels(k)
    verdict = Verdict(
        outcome=outcome_of(code),
        estimate=float(means[j]),
        interval=Interval(
            low=float(low[row, 0, j]), high=float(high[row, 0, j]), level=levels[row]
        ),
        shown=Interval(low=float(low[2, 0, j]), high=float(high[2, 0, j]), level=levels[2]),
        delta=float(means[j] - p[j]),
        n=int(ns.min()),
        method=f"student-t per point (intersection-union; Bonferroni over {k} points for gaps)",
        seeds_needed=None,
        deviation_in_tol=float(dev[j]),
        notes=(f"deciding point: x={fmt(float(data.xs[j]))}", *notes),
    )
    return SweepVerdict(kind="curve", verdict=verdict, points=point_summaries(data))


__all__ = ["curve_codes", "curve_levels", "decide_curve", "point_bounds"]
