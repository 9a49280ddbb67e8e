"""Simulated sweeps, to measure what the curve rules promise.

Each function draws ``reps`` reproductions of ``n`` seeds over ``K`` swept values at
once (``(reps, n, K)``) and runs the same array functions the verdicts use. A seed's
value at point ``k`` is ``mu_k + a + e_k``: a seed effect ``a`` shared by every point
(pairing removes it) and a per-point noise ``e_k``, both of sd ``sd`` and of one
``shape``: ``normal``; ``t3`` (Student-t with 3 degrees of freedom scaled to sd ``sd``:
heavy tails, occasional far-off seeds); or ``skewed`` (a mirrored lognormal, skewness
-6.2: a long tail towards lower values, as runs that train badly give).
``benchmarks/stats_sweep.py`` prints the table; ``docs/statistics-sweeps.md`` shows it.

Every function takes an explicit :class:`numpy.random.Generator`; the same generator
state gives the same codes.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from pytest_repro.stats.curve import curve_codes, point_bounds
from pytest_repro.stats.peak import peak_codes, peak_location
from pytest_repro.stats.rules import (
    FALLBACK_FLOOR_FRACTION,
    MATCHED,
    Floor,
    absolute_t,
    classify_absolute,
    identical_rows,
)
from pytest_repro.stats.simulate import draw
from pytest_repro.stats.sweep import SweepData
from pytest_repro.stats.trend import slope_weights, step_tests, trend_codes

FloatArray = NDArray[np.float64]
CodeArray = NDArray[np.int8]
Shape = Literal["normal", "t3", "skewed"]
SHAPES: tuple[Shape, ...] = ("normal", "t3", "skewed")


def noise(
    shape: Shape, *, sd: float, size: tuple[int, ...], rng: np.random.Generator
) -> FloatArray:
    """Zero-mean noise of sd ``sd``: normal, t3 (variance 3 scaled to 1), or a mirrored
    lognormal (skewness -6.2)."""
    if shape == "normal":
        return rng.normal(0.0, sd, size)
    if shape == "t3":
        return np.asarray(sd * rng.standard_t(3.0, size) / math.sqrt(3.0), dtype=np.float64)
    if shape == "skewed":
        return -draw("lognormal", mean=0.0, sd=sd, size=size, rng=rng)
    raise ValueError(f"unknown seed shape {shape!r}; use one of: {', '.join(SHAPES)}")


def sweep_values(
    mu: FloatArray, *, n: int, reps: int, sd: float, shape: Shape, rng: np.random.Generator
) -> FloatArray:
    """``(reps, n, K)`` seed values around the true curve ``mu``."""
    k = mu.size
    seed = noise(shape, sd=sd, size=(reps, n, 1), rng=rng)
    return np.asarray(mu + seed + noise(shape, sd=sd, size=(reps, n, k), rng=rng))


def trend_sim(
    mu: FloatArray, *, margin: float, n: int, reps: int, shape: Shape, rng: np.random.Generator
) -> CodeArray:
    """Codes of :func:`~.trend.decide_trend` (increasing) for true curve ``mu``, sd 1."""
    v = sweep_values(mu, n=n, reps=reps, sd=1.0, shape=shape, rng=rng)
    d = np.diff(v, axis=2)
    pf = np.empty((reps, mu.size - 1))
    pa = np.empty_like(pf)
    for j in range(mu.size - 1):
        one = identical_rows(v[:, :, j]) & identical_rows(v[:, :, j + 1])
        _, _, _, pf[:, j], pa[:, j] = step_tests(d[:, :, j], 1.0, margin, single=one)
    return trend_codes(pf, pa)


def slope_sim(
    true_slope: float,
    *,
    paper: float,
    tolerance: float,
    n: int,
    reps: int,
    shape: Shape,
    rng: np.random.Generator,
    xs: FloatArray | None = None,
) -> CodeArray:
    """Codes of :func:`~.trend.decide_slope` (linear) for a straight line, sd 1.

    The per-seed slopes go through the absolute rule's Student-t interval with its spread
    floor and ``better="none"`` (failed-seed detection is not applied, as in
    :mod:`.simulate`).
    """
    u = np.arange(1.0, 6.0) if xs is None else xs
    v = sweep_values(true_slope * u, n=n, reps=reps, sd=1.0, shape=shape, rng=rng)
    slopes = v @ slope_weights(u)
    floor = Floor(value=FALLBACK_FLOOR_FRACTION * tolerance, source="tolerance")
    tb = absolute_t(slopes, (0.90,), floor=floor)
    return classify_absolute(
        tb.low[0], tb.high[0], paper=paper, tolerance=tolerance, better="none", disagreement=3.0
    )


def peak_sim(
    mu: FloatArray,
    *,
    within: tuple[int, ...],
    n: int,
    reps: int,
    shape: Shape,
    rng: np.random.Generator,
) -> CodeArray:
    """Codes of :func:`~.peak.decide_peak` (max) with the points ``within`` in range, sd 1."""
    v = sweep_values(mu, n=n, reps=reps, sd=1.0, shape=shape, rng=rng)
    inside = np.array(within, dtype=np.intp)
    outside = np.array([j for j in range(mu.size) if j not in within], dtype=np.intp)
    return peak_codes(v, inside, outside, 1.0)


def location_coverage(
    mu: FloatArray, *, n: int, reps: int, shape: Shape, rng: np.random.Generator
) -> float:
    """Share of ``reps`` reproductions whose 90% location interval (:func:`~.peak.peak_location`)
    holds the true argmax of ``mu`` (xs ``0 .. K-1``), sd 1."""
    v = sweep_values(mu, n=n, reps=reps, sd=1.0, shape=shape, rng=rng)
    xs = np.arange(float(mu.size))
    truth = float(xs[int(np.argmax(mu))])
    hits = 0
    for i in range(reps):
        _, iv = peak_location(SweepData(xs=xs, values=v[i]), 1.0, rng)
        hits += iv is not None and iv.low <= truth <= iv.high
    return hits / reps


def curve_sim(
    mu: FloatArray,
    *,
    paper: FloatArray,
    tolerance: float,
    sd: float,
    n: int,
    reps: int,
    shape: Shape,
    rng: np.random.Generator,
) -> CodeArray:
    """Codes of :func:`~.curve.decide_curve` with one ``tolerance`` at every point."""
    k = mu.size
    v = sweep_values(mu, n=n, reps=reps, sd=sd, shape=shape, rng=rng)
    low = np.empty((3, reps, k))
    high = np.empty((3, reps, k))
    for j in range(k):
        low[:, :, j], high[:, :, j] = point_bounds(v[:, :, j], tolerance, k)
    codes, _, _ = curve_codes(
        low, high, paper=paper.tolist(), tolerance=[tolerance] * k, disagreement=3.0
    )
    return codes


#: The settings the table and the calibration tests use, in units of the seed sd.
TREND_MARGIN = 0.5
#: The least favourable trend: the third step exactly at the margin, every other step so
#: large (20 sd) that it always passes, so false matched reaches its supremum.
TREND_BOUNDARY = np.array([0.0, 20.0, 40.0, 40.5, 60.5])
TREND_TRUTH = np.array([0.0, 3.0, 6.0, 9.0, 12.0])  # every step 3 sd, 2.5 sd past the margin
SLOPE_PAPER, SLOPE_TOLERANCE = 1.0, 1.0  # xs 1..5: a seed's slope has sd 0.32 tolerances
PEAK_WITHIN = (1, 2)
#: The least favourable peak: both in-range points tied with the outside point x=3.
PEAK_BOUNDARY = np.array([-5.0, 0.0, 0.0, 0.0, -5.0])
PEAK_TRUTH = np.array([-4.0, -2.0, 0.0, -2.0, -4.0])  # peak at x=2, 2 sd above the rest
CURVE_TOLERANCE, CURVE_SD = 1.0, 0.2  # a point's values: sd 0.28 tolerances (seed + point)
CURVE_PAPER = np.zeros(5)
CURVE_EDGE = 2  # the point put on its band edge at the boundary


def _worse(a: CodeArray, b: CodeArray) -> CodeArray:
    """The codes with the larger share matched: the worse of two boundary edges."""
    return a if (a == MATCHED).mean() >= (b == MATCHED).mean() else b


def boundary_and_truth(
    kind: str, *, n: int, reps: int, shape: Shape, rng: np.random.Generator
) -> tuple[CodeArray, CodeArray]:
    """Codes at the kind's boundary (false matched) and at its stated truth (matched).

    For the two-sided kinds (slope, curve) the boundary is simulated at both edges (the
    true slope, or one point, a tolerance below and above the paper) and the edge with
    more false matched is returned.
    """
    if kind == "trend":
        b = trend_sim(TREND_BOUNDARY, margin=TREND_MARGIN, n=n, reps=reps, shape=shape, rng=rng)
        t = trend_sim(TREND_TRUTH, margin=TREND_MARGIN, n=n, reps=reps, shape=shape, rng=rng)
    elif kind == "slope":
        edges = [
            slope_sim(
                SLOPE_PAPER + side * SLOPE_TOLERANCE,
                paper=SLOPE_PAPER,
                tolerance=SLOPE_TOLERANCE,
                n=n,
                reps=reps,
                shape=shape,
                rng=rng,
            )
            for side in (-1.0, 1.0)
        ]
        b = _worse(*edges)
        t = slope_sim(
            SLOPE_PAPER,
            paper=SLOPE_PAPER,
            tolerance=SLOPE_TOLERANCE,
            n=n,
            reps=reps,
            shape=shape,
            rng=rng,
        )
    elif kind == "peak":
        b = peak_sim(PEAK_BOUNDARY, within=PEAK_WITHIN, n=n, reps=reps, shape=shape, rng=rng)
        t = peak_sim(PEAK_TRUTH, within=PEAK_WITHIN, n=n, reps=reps, shape=shape, rng=rng)
    elif kind == "curve":
        curve_edges = []
        for side in (-1.0, 1.0):
            mu = CURVE_PAPER.copy()
            mu[CURVE_EDGE] += side * CURVE_TOLERANCE
            curve_edges.append(
                curve_sim(
                    mu,
                    paper=CURVE_PAPER,
                    tolerance=CURVE_TOLERANCE,
                    sd=CURVE_SD,
                    n=n,
                    reps=reps,
                    shape=shape,
                    rng=rng,
                )
            )
        b = _worse(*curve_edges)
        t = curve_sim(
            CURVE_PAPER,
            paper=CURVE_PAPER,
            tolerance=CURVE_TOLERANCE,
            sd=CURVE_SD,
            n=n,
            reps=reps,
            shape=shape,
            rng=rng,
        )
    else:
        raise ValueError(f"unknown kind {kind!r}; use trend, slope, peak or curve")
    return b, t


KINDS = ("trend", "slope", "peak", "curve")

__all__ = [
    "KINDS",
    "SHAPES",
    "Shape",
    "boundary_and_truth",
    "curve_sim",
    "location_coverage",
    "noise",
    "peak_sim",
    "slope_sim",
    "sweep_values",
    "trend_sim",
]
