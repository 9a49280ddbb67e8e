"""How a curve moves over the swept parameter: monotone (:func:`decide_trend`) and its
slope (:func:`decide_slope`). Rules and their proofs: ``docs/statistics-sweeps.md``."""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pytest_repro.errors import StatsError
from pytest_repro.stats.absolute import decide_absolute
from pytest_repro.stats.checks import check_finite, check_positive
from pytest_repro.stats.model import Interval, Verdict
from pytest_repro.stats.multiplicity import holm
from pytest_repro.stats.rules import (
    DISAGREEMENT,
    FALLBACK_FLOOR_FRACTION,
    INCONCLUSIVE,
    MATCHED,
    CodeArray,
    outcome_of,
)
from pytest_repro.stats.sweep import (
    ALPHA,
    StepSummary,
    SweepData,
    SweepVerdict,
    check_sweep,
    copies,
    dropped_note,
    fmt,
    missing_note,
    p_greater,
    paired,
    paired_t,
    point_summaries,
    t_interval,
)

FloatArray = NDArray[np.float64]
TrendDirection = Literal["increasing", "decreasing"]
Scale = Literal["linear", "log-x", "log-log"]
SCALES: tuple[Scale, ...] = ("linear", "log-x", "log-log")


def trend_codes(p_for: ArrayLike, p_against: ArrayLike) -> CodeArray:
    """Outcome codes from per-step p-values (``(rows, K-1)``).

    *matched* when every step's p for the claimed direction is below :data:`ALPHA`
    (intersection–union); *disagreement* when Holm over the ``K - 1`` steps rejects "not
    against" for some step, which happens exactly when the smallest p against is at most
    ``ALPHA / (K - 1)`` (Holm's first step); *inconclusive* otherwise.
    """
    pf = np.atleast_2d(np.asarray(p_for, dtype=np.float64))
    pa = np.atleast_2d(np.asarray(p_against, dtype=np.float64))
    out = np.full(pf.shape[0], INCONCLUSIVE, dtype=np.int8)
    out[(pf < ALPHA).all(axis=1)] = MATCHED
    out[pa.min(axis=1) * pa.shape[1] <= ALPHA] = DISAGREEMENT
    return out


def step_tests(
    d: ArrayLike,
    sign: float,
    margin: float,
    *,
    resolution: float | None = None,
    single: ArrayLike | bool = False,
) -> tuple[FloatArray, ...]:
    """For differences ``d`` (``(rows, n)``): mean, se, df, p for and p against a step.

    The sd of the differences is floored (:func:`~.sweep.paired_t`): by ``resolution``
    when given, else by a tenth of ``margin`` when it is positive, else by a tenth of the
    step's ``|mean|``; ``single`` rows (copies of one run) count as one difference.
    """
    floor = FALLBACK_FLOOR_FRACTION * margin if resolution is None and margin > 0 else None
    mean, se, df = paired_t(d, resolution=resolution, floor=floor, single=single)
    p_for = p_greater(sign * mean, se, df, margin)
    p_against = p_greater(-sign * mean, se, df, 0.0)
    return mean, se, df, p_for, p_against


def decide_trend(
    xs: ArrayLike,
    values: ArrayLike,
    *,
    direction: TrendDirection,
    margin: float = 0.0,
    resolution: float | None = None,
) -> SweepVerdict:
    """The verdict on "the metric is ``direction`` in the swept parameter".

    *matched* when every adjacent step is significantly in the claimed direction by more
    than ``margin`` (each one-sided paired t test at 5%: an intersection–union test, so
    false matched stays at 5% or below without a correction); *disagreement* when some
    step is significantly against the direction, Holm over the ``K - 1`` steps;
    *inconclusive* otherwise. The estimate is the deciding step in the claimed direction
    (for a disagreement the step most clearly against, else the step with the lowest 90%
    lower bound, which decides whether all clear the margin).

    A spread the seeds cannot measure is floored: ``resolution`` (the metric's step) when
    given, else a tenth of ``margin``, else a tenth of the step. When every seed gives
    the same value at both ends of a step (copies of one run), the step counts as one
    difference and is significant only against a known spread (``resolution`` or a
    positive ``margin``); otherwise it is untestable and the trend inconclusive. One seed
    is always inconclusive.

    >>> v = decide_trend([1, 2, 3], [[0.1, 0.5, 0.9], [0.2, 0.6, 1.1], [0.1, 0.4, 1.0]],
    ...                  direction="increasing")
    >>> v.outcome, len(v.steps)
    ('matched', 2)
    """
    if direction not in ("increasing", "decreasing"):
        raise StatsError(f"unknown direction {direction!r}; use increasing or decreasing")
    check_finite(margin, "margin")
    if margin < 0:
        raise StatsError(f"margin={margin!r} must be >= 0 (the least step that counts)")
    if resolution is not None:
        check_positive(resolution, "resolution")
    data = check_sweep(xs, values)
    sign = 1.0 if direction == "increasing" else -1.0
    notes = missing_note(data)
    rows = []
    for j in range(data.k - 1):
        d, dropped = paired(data, j, j + 1)
        where = f"step x={fmt(float(data.xs[j]))} to {fmt(float(data.xs[j + 1]))}"
        notes.extend(dropped_note(where, dropped))
        if d.size < 2:
            notes.append(f"{where}: fewer than 2 seeds have both values; it cannot be tested")
        one = copies(data, j, j + 1)
        if one:
            notes.append(
                f"{where}: every seed gave the same values (copies of one run): one effective "
                "difference"
                + (
                    ""
                    if resolution is not None or margin > 0
                    else ", untestable without resolution"
                )
            )
        tests = step_tests(d[None, :], sign, margin, resolution=resolution, single=one)
        mean, se, df, pf, pa = (float(a[0]) for a in tests)
        rows.append((j, d.size, mean, se, df, pf, pa))
    p_for = np.array([[r[5] for r in rows]])
    p_against_raw = [r[6] for r in rows]
    code = int(trend_codes(p_for, np.array([p_against_raw]))[0])
    adjusted = holm(p_against_raw)
    steps = []
    for (j, n, mean, se, df, pf, _), pa in zip(rows, adjusted, strict=True):
        steps.append(
            StepSummary(
                x_from=float(data.xs[j]),
                x_to=float(data.xs[j + 1]),
                difference=mean,
                interval=t_interval(mean, se, df, 0.90),
                shown=t_interval(mean, se, df, 0.95),
                p_value=pf,
                p_against=pa,
                n=n,
            )
        )
    if code == DISAGREEMENT:
        pick = int(np.argmin(p_against_raw))
    else:
        lows = [sign * s.difference - (s.interval.high - s.interval.low) / 2 for s in steps]
        pick = int(np.argmin(lows))
    s = steps[pick]
    est = sign * s.difference

    def directed(iv: Interval) -> Interval:
        lo, hi = sorted((sign * iv.low, sign * iv.high))
        return Interval(low=lo, high=hi, level=iv.level)

    verdict = Verdict(
        outcome=outcome_of(code),
        estimate=est,
        interval=directed(s.interval),
        shown=directed(s.shown),
        delta=est - margin,
        n=min(st.n for st in steps),
        method=f"paired t per step (intersection-union; Holm over {data.k - 1} steps)",
        seeds_needed=None,
        deviation_in_tol=None,
        notes=(
            f"deciding step: x={fmt(s.x_from)} to {fmt(s.x_to)}",
            *notes,
        ),
    )
    return SweepVerdict(
        kind="trend", verdict=verdict, points=point_summaries(data), steps=tuple(steps)
    )


def _axes(data: SweepData, scale: Scale, base: float) -> tuple[FloatArray, FloatArray]:
    """The x and metric coordinates of the fit (``values`` keeps NaN for missing)."""
    u, y = data.xs, data.values
    lb = math.log(base)
    if scale in ("log-x", "log-log"):
        if (u <= 0).any():
            bad = float(u[int(np.flatnonzero(u <= 0)[0])])
            raise StatsError(
                f"scale {scale!r} needs every swept value > 0, but x={fmt(bad)} is not; use "
                "scale: linear, or leave that value out of the sweep"
            )
        u = np.log(u) / lb
    if scale == "log-log":
        bad_at = np.argwhere(np.isfinite(y) & (y <= 0))
        if bad_at.size:
            i, j = (int(a) for a in bad_at[0])
            raise StatsError(
                f"scale 'log-log' needs every metric value > 0, but seed index {i} gave "
                f"{fmt(float(y[i, j]))} at x={fmt(float(data.xs[j]))}; use scale: log-x or linear"
            )
        with np.errstate(invalid="ignore"):
            y = np.log(y) / lb
    return u, y


def slope_weights(u: FloatArray) -> FloatArray:
    """Weights ``w`` with ``y @ w`` the least-squares slope of ``y`` on ``u``."""
    c = u - u.mean()
    return np.asarray(c / float(c @ c), dtype=np.float64)


def decide_slope(
    xs: ArrayLike,
    values: ArrayLike,
    *,
    paper: float,
    tolerance: float,
    scale: Scale,
    disagreement: float = 3.0,
    base: float = 10.0,
    rng: np.random.Generator | None = None,
) -> SweepVerdict:
    """The verdict on "the slope of the metric over the swept parameter is ``paper`` ±
    ``tolerance``" on ``scale``.

    Each seed gets its own least-squares slope: the metric on x (``linear``), on
    ``log_base(x)`` (``log-x``: the change per factor ``base`` in x, 10 = per decade), or
    ``log(metric)`` on ``log(x)`` (``log-log``: an exponent; the base cancels). Seeds with a
    missing value are left out. The slopes are decided by
    :func:`~.absolute.decide_absolute` with ``better="none"`` (either side fails).
    ``fit`` is the line through the seed-mean of the fitted coordinates.

    >>> v = decide_slope([1, 2, 3], [[1.0, 2.1, 3.0], [1.1, 2.0, 3.1], [0.9, 1.9, 2.9]],
    ...                  paper=1.0, tolerance=0.2, scale="linear")
    >>> v.outcome
    'matched'
    """
    if scale not in SCALES:
        raise StatsError(f"unknown scale {scale!r}; use one of: {', '.join(SCALES)}")
    check_positive(base, "base")
    if base == 1.0:
        raise StatsError("base=1 is not a logarithm base; use 10 (per decade) or 2 (per doubling)")
    data = check_sweep(xs, values)
    u, y = _axes(data, scale, base)
    complete = np.isfinite(y).all(axis=1)
    if not complete.any():
        raise StatsError("no seed has a value at every swept point; a slope needs all of them")
    w = slope_weights(u)
    slopes = y[complete] @ w
    inner = decide_absolute(
        slopes.tolist(),
        paper=paper,
        tolerance=tolerance,
        better="none",
        disagreement=disagreement,
        rng=rng,
    )
    notes = list(missing_note(data))
    left = np.flatnonzero(~complete)
    if left.size:
        notes.append(
            f"slope: left out seed index {', '.join(str(int(i)) for i in left)} (a missing value)"
        )
    mean_curve = y[complete].mean(axis=0)
    slope = float(mean_curve @ w)
    intercept = float(mean_curve.mean() - slope * u.mean())
    verdict = dataclasses.replace(
        inner,
        method=f"least-squares slope per seed ({scale}), {inner.method}",
        notes=(*notes, *inner.notes),
    )
    return SweepVerdict(
        kind="slope",
        verdict=verdict,
        points=point_summaries(data),
        fit=(intercept, slope),
        scale=scale,
    )


__all__ = ["SCALES", "Scale", "TrendDirection", "decide_slope", "decide_trend", "trend_codes"]
