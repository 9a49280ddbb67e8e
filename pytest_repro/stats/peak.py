"""Where a curve peaks: "the extremum of the metric over the swept values lies in a range".

Let ``R`` be the swept values inside the range and ``O`` those outside. *matched* when the
best in-range point (by mean) beats every outside point, each by a one-sided paired t
test at ``0.05 / |R|``; *disagreement* when the best outside point beats every in-range
point, each at ``0.05 / |O|``; *inconclusive* otherwise.

**Why false matched is at most 5%, at any n >= 2.** Suppose the true extremum is at an
outside point ``o`` (its true mean at least every in-range mean). A false matched needs
the selected in-range point ``r*`` to beat ``o`` significantly, so it lies in the union
over ``r`` in ``R`` of "the test of ``r`` against ``o`` rejects at ``0.05/|R|``". Each of
those tests has a true difference of 0 or less, so each rejects with probability at most
``0.05/|R|`` (the one-sided paired t test is exact for normal differences, whatever the
seed count); the union bound gives at most ``|R| · 0.05/|R| = 0.05``, however ``r*`` was
chosen and however the tests depend on each other. The disagreement rule is the mirror
image. The spread floor only enlarges a standard error, so it only makes a rejection
rarer; copies of one run are tested against ``resolution`` as a known spread. One seed
is always inconclusive. The location's bootstrap interval (from 5 seeds) is shown, not
used to decide. See ``docs/statistics-sweeps.md``.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pytest_repro.errors import StatsError
from pytest_repro.stats.checks import check_positive
from pytest_repro.stats.computed import default_rng
from pytest_repro.stats.model import Interval, Verdict
from pytest_repro.stats.rules import (
    DISAGREEMENT,
    INCONCLUSIVE,
    MATCHED,
    CodeArray,
    identical_rows,
    outcome_of,
)
from pytest_repro.stats.sweep import (
    ALPHA,
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
Extremum = Literal["max", "min"]
#: Seeds needed for the bootstrap interval on the extremum's location.
MIN_SEEDS_LOCATION = 5
LOCATION_RESAMPLES = 2000


def split_range(xs: FloatArray, within: tuple[float, float]) -> tuple[NDArray[np.intp], ...]:
    """Indices inside ``within`` (ends included) and outside, or :class:`StatsError`."""
    try:
        lo, hi = (float(w) for w in within)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"within={within!r} must be two numbers [low, high]") from exc
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise StatsError(f"within={within!r} must be two finite numbers, low <= high")
    inside = (xs >= lo) & (xs <= hi)
    if not inside.any():
        raise StatsError(
            f"no swept value lies in within=[{fmt(lo)}, {fmt(hi)}]; the claim cannot be tested "
            "— widen the range or sweep a value inside it"
        )
    if inside.all():
        raise StatsError(
            f"the range [{fmt(lo)}, {fmt(hi)}] covers every swept value; the claim says nothing "
            "— sweep values outside the range too"
        )
    return np.flatnonzero(inside), np.flatnonzero(~inside)


def pair_p(
    a: FloatArray, b: FloatArray, *, resolution: float | None = None
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Mean, se, df and one-sided p of "``a`` is not above ``b``" for paired seeds
    (``(rows, n)`` each, no NaN); copies of one run count as one difference
    (:func:`~.sweep.paired_t`).
    """
    single = identical_rows(a) & identical_rows(b)
    m, se, df = paired_t(a - b, resolution=resolution, single=single)
    return m, se, df, p_greater(m, se, df, 0.0)


def peak_codes(
    values: ArrayLike,
    inside: NDArray[np.intp],
    outside: NDArray[np.intp],
    sign: float,
    *,
    resolution: float | None = None,
) -> CodeArray:
    """Outcome codes for complete reproductions ``values`` (``(rows, n, K)``, no NaN)."""
    v = sign * np.asarray(values, dtype=np.float64)
    means = v.mean(axis=1)
    rows = np.arange(v.shape[0])
    best_in = inside[np.argmax(means[:, inside], axis=1)]
    best_out = outside[np.argmax(means[:, outside], axis=1)]
    win = np.ones(v.shape[0], dtype=bool)
    for o in outside:
        p = pair_p(v[rows, :, best_in], v[:, :, o], resolution=resolution)[3]
        win &= p < ALPHA / inside.size
    lose = np.ones(v.shape[0], dtype=bool)
    for r in inside:
        p = pair_p(v[rows, :, best_out], v[:, :, r], resolution=resolution)[3]
        lose &= p < ALPHA / outside.size
    out = np.full(v.shape[0], INCONCLUSIVE, dtype=np.int8)
    out[win] = MATCHED
    out[lose] = DISAGREEMENT
    return out


def peak_location(
    data: SweepData, sign: float, rng: np.random.Generator
) -> tuple[float, Interval | None]:
    """The x of the seed-mean curve's extremum and, from :data:`MIN_SEEDS_LOCATION`
    seeds, a 90% percentile interval of that x over :data:`LOCATION_RESAMPLES` bootstrap
    resamples of the seeds (``rng`` draws them). Exact ties go to the smaller x.

    It describes the uncertainty of the location; it does not decide the claim (the
    paired tests do). The bootstrap of an argmax is trustworthy only when the seeds are
    enough to show how often each point wins: with 3 or 4 seeds there are at most 10 or
    35 distinct resamples, so no interval is given.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(sign * data.values, axis=0)
        at = float(data.xs[int(np.argmax(means))])
        if data.n < MIN_SEEDS_LOCATION:
            return at, None
        idx = rng.integers(0, data.n, size=(LOCATION_RESAMPLES, data.n))
        boot = np.nanmean(sign * data.values[idx], axis=1)
    boot = np.where(np.isfinite(boot), boot, -np.inf)
    xs = data.xs[np.argmax(boot, axis=1)]
    low = float(np.quantile(xs, 0.05, method="lower"))
    high = float(np.quantile(xs, 0.95, method="higher"))
    return at, Interval(low=low, high=high, level=0.90)


def decide_peak(
    xs: ArrayLike,
    values: ArrayLike,
    *,
    extremum: Extremum,
    within: tuple[float, float],
    rng: np.random.Generator | None = None,
    resolution: float | None = None,
) -> SweepVerdict:
    """The verdict on "the metric's ``extremum`` over the sweep lies in ``within``".

    The rule and its proof are in this module's docstring. ``location_estimate`` is the x
    of the seed-mean curve's extremum; ``location`` a 90% bootstrap-over-seeds percentile
    interval of that x (``rng``; ``None``: the fixed default seed) from 5 seeds, ``None``
    below. The estimate is the smallest margin by which the best in-range point beats an
    outside point, with its interval at the Bonferroni level the test used.

    A spread the seeds cannot measure is floored as in :func:`~.trend.decide_trend`
    (``resolution``, else a tenth of the difference); copies of one run at two points
    count as one difference, testable only with ``resolution``. Points whose means tie
    exactly: the first (smallest x) is taken as the best, which cannot make a false
    matched likelier (the union bound holds for any choice).

    >>> v = decide_peak([1, 2, 3], [[0.1, 0.9, 0.2], [0.2, 1.0, 0.1], [0.1, 0.8, 0.2]],
    ...                 extremum="max", within=(1.5, 2.5))
    >>> v.outcome, v.location_estimate
    ('matched', 2.0)
    """
    if extremum not in ("max", "min"):
        raise StatsError(f"unknown extremum {extremum!r}; use max or min")
    if resolution is not None:
        check_positive(resolution, "resolution")
    data = check_sweep(xs, values, min_points=3)
    inside, outside = split_range(data.xs, within)
    sign = 1.0 if extremum == "max" else -1.0
    notes = missing_note(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        means = np.nanmean(sign * data.values, axis=0)
    best_in = int(inside[np.argmax(means[inside])])
    best_out = int(outside[np.argmax(means[outside])])
    win, lose = True, True
    margins = []
    level = 1.0 - 2.0 * ALPHA / inside.size
    for o in outside:
        d, dropped = paired(data, int(o), best_in)
        notes.extend(
            dropped_note(f"x={fmt(float(data.xs[best_in]))} vs x={fmt(float(data.xs[o]))}", dropped)
        )
        one = copies(data, int(o), best_in)
        m, se, df = (
            float(a[0]) for a in paired_t(sign * d[None, :], resolution=resolution, single=one)
        )
        win &= bool(p_greater(m, se, df, 0.0) < ALPHA / inside.size)
        margins.append(
            (
                int(o),
                d.size,
                m,
                t_interval(m, se, df, level),
                t_interval(m, se, df, 1 - ALPHA / inside.size),
            )
        )
    for r in inside:
        d, dropped = paired(data, int(r), best_out)
        one = copies(data, int(r), best_out)
        m, se, df = (
            float(a[0]) for a in paired_t(sign * d[None, :], resolution=resolution, single=one)
        )
        lose &= bool(p_greater(m, se, df, 0.0) < ALPHA / outside.size)
    code = DISAGREEMENT if lose else MATCHED if win else INCONCLUSIVE
    o, _, m, iv, shown = min(
        margins, key=lambda t: t[3].low if math.isfinite(t[3].low) else -math.inf
    )
    if copies(data, best_in, best_out) and resolution is None:
        notes.append(
            "every seed gave the same values (copies of one run): one effective curve, "
            "untestable without resolution"
        )
    at, location = peak_location(data, sign, default_rng(rng))
    if location is None:
        notes.append(
            f"the location's interval needs {MIN_SEEDS_LOCATION} or more seeds; the decision "
            "rests on the paired tests"
        )
    verdict = Verdict(
        outcome=outcome_of(code),
        estimate=m,
        interval=iv,
        shown=shown,
        delta=m,
        n=min(t[1] for t in margins),
        method=(
            f"paired t: best in-range point vs each outside point (Bonferroni over "
            f"{inside.size} in-range points)"
        ),
        seeds_needed=None,
        deviation_in_tol=None,
        notes=(
            f"best in range: x={fmt(float(data.xs[best_in]))}; closest outside: "
            f"x={fmt(float(data.xs[o]))}",
            *notes,
        ),
    )
    return SweepVerdict(
        kind="peak",
        verdict=verdict,
        points=point_summaries(data),
        location=location,
        location_estimate=at,
    )


__all__ = [
    "LOCATION_RESAMPLES",
    "MIN_SEEDS_LOCATION",
    "Extremum",
    "decide_peak",
    "pair_p",
    "peak_codes",
    "peak_location",
    "split_range",
]
