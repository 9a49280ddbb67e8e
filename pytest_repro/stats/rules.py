"""The decision rules on arrays: intervals to outcomes, spread floors, seeds needed.

:mod:`.absolute` and :mod:`.comparative` apply these to one claim; :mod:`.simulate`
applies the very same functions to many simulated reproductions at once, which is how
the error rates in ``docs/statistics.md`` are measured.

Outcomes are coded as small integers (index into :data:`OUTCOME_CODES`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pytest_repro.stats.intervals import mean_sd, pooled_sd, t_quantile, welch
from pytest_repro.stats.model import MAX_SEEDS_NEEDED, Better, Outcome

FloatArray = NDArray[np.float64]
CodeArray = NDArray[np.int8]

OUTCOME_CODES: tuple[Outcome, ...] = ("matched", "gap", "exceeded", "disagreement", "inconclusive")
MATCHED, GAP, EXCEEDED, DISAGREEMENT, INCONCLUSIVE = range(5)

FloorSource = Literal["resolution", "examples", "tolerance", "margin", "estimate"]

#: Without a known resolution, the floor is this fraction of the tolerance (or margin).
FALLBACK_FLOOR_FRACTION = 0.1
SQRT2 = math.sqrt(2.0)
#: Seed values this close (relative to their size) are copies of one run: ``n_eff = 1``.
IDENTICAL_RTOL = 1e-12
#: Seeds at or below this count borrow the paper's spread (when the paper gives one).
MAX_SEEDS_POOLED = 4


def outcome_of(code: int) -> Outcome:
    return OUTCOME_CODES[code]


def classify_absolute(
    low: ArrayLike,
    high: ArrayLike,
    *,
    paper: float,
    tolerance: float,
    better: Better,
    disagreement: float,
) -> CodeArray:
    """Outcome codes for intervals ``[low, high]`` against ``paper ± tolerance``.

    In order: *disagreement* if the interval lies entirely beyond
    ``paper ± disagreement·tolerance`` on the worse side (either side with
    ``better="none"``); *matched* if it lies inside the band ``[paper - tol, paper + tol]``
    (ends included); entirely below the band is a *gap* when higher is better and
    *exceeded* when lower is better, entirely above is the reverse, and with
    ``better="none"`` both are a gap (labelled "above"/"below"); anything else is
    *inconclusive*. For a direction, moving the interval the better way never turns a
    passing outcome (matched, exceeded) into a failing one (gap, disagreement).
    """
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    out = np.full(np.broadcast(lo, hi).shape, INCONCLUSIVE, dtype=np.int8)
    below = hi < paper - tolerance
    above = lo > paper + tolerance
    below_code = {"higher": GAP, "lower": EXCEEDED, "none": GAP}[better]
    above_code = {"higher": EXCEEDED, "lower": GAP, "none": GAP}[better]
    out[below] = below_code
    out[above] = above_code
    out[(lo >= paper - tolerance) & (hi <= paper + tolerance)] = MATCHED
    far_below = hi < paper - disagreement * tolerance
    far_above = lo > paper + disagreement * tolerance
    # Far on the better side is still exceeded: more of what the claim wants never fails.
    far = {"higher": far_below, "lower": far_above, "none": far_below | far_above}[better]
    out[far] = DISAGREEMENT
    return out


def classify_comparative(
    low: ArrayLike,
    high: ArrayLike,
    *,
    margin: float,
    paper_delta: float | None,
    tolerance: float | None,
    disagreement: float,
) -> CodeArray:
    """Outcome codes for intervals on the improvement of A over B.

    Without the paper's improvement: *disagreement* if the interval lies entirely below
    0 (the claimed direction is reversed with confidence); *matched* if it lies
    at or above ``margin`` (entirely above 0 when there is no margin); *gap* if
    ``margin > 0`` and the interval lies entirely below ``margin`` (A may beat B, but by
    less than claimed); else *inconclusive*.

    With ``paper_delta`` and ``tolerance``: the absolute rules on the improvement (higher
    is better, so beating the paper's improvement by far is *exceeded*, never a
    disagreement); when the paper claims a positive improvement, an interval entirely
    below 0 is a *disagreement* and *matched* also needs the interval to clear 0.
    """
    lo = np.asarray(low, dtype=np.float64)
    hi = np.asarray(high, dtype=np.float64)
    if paper_delta is not None and tolerance is not None:
        out = classify_absolute(
            lo,
            hi,
            paper=paper_delta,
            tolerance=tolerance,
            better="higher",
            disagreement=disagreement,
        )
        if paper_delta > 0:
            # A claimed improvement is matched only once A is shown to beat B at all.
            out[(out == MATCHED) & ~(lo > 0)] = INCONCLUSIVE
            out[hi < 0] = DISAGREEMENT
        return out
    out = np.full(np.broadcast(lo, hi).shape, INCONCLUSIVE, dtype=np.int8)
    if margin > 0:
        out[hi < margin] = GAP
        out[lo >= margin] = MATCHED
    else:
        out[lo > 0] = MATCHED
    out[hi < 0] = DISAGREEMENT
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Floor:
    """The smallest spread (sd) a claim's values are taken to have.

    ``source`` says where it came from. A known step (``resolution``, or ``1/N`` from
    ``N`` per-example outcomes) replaces any smaller sd; a floor derived from the
    tolerance, margin or estimate is a last resort and replaces only an sd of exactly
    zero (every seed gave the same value).
    """

    value: float
    source: FloorSource

    @property
    def known_step(self) -> bool:
        return self.source in ("resolution", "examples")

    def binds(self, sd: FloatArray) -> NDArray[np.bool_]:
        """Where the floor changes ``sd`` (a known step: below it; otherwise below half of it)."""
        if self.known_step:
            return np.asarray(sd < self.value)
        return np.asarray(sd < self.value / 2.0)

    def apply(self, sd: FloatArray) -> FloatArray:
        """The sd used: ``max(sd, step)`` for a known step; ``max(sd, floor - sd)`` otherwise.

        Both are continuous in ``sd`` and never 0. The fallback ramps from the floor at
        ``sd = 0`` down to ``floor / 2`` and is gone from ``sd = floor / 2`` on, so a real,
        measurable spread is used as it is while a spread of rounding noise (``1e-9``) is
        not taken for precision.
        """
        arr = np.asarray(sd, dtype=np.float64)
        out = np.maximum(arr, self.value if self.known_step else self.value - arr)
        return np.where(np.isfinite(arr), out, arr)

    def describe(self) -> str:
        what = {
            "resolution": "the metric's resolution",
            "examples": "1/N for N per-example outcomes",
            "tolerance": f"tolerance x {FALLBACK_FLOOR_FRACTION:g}, no resolution given",
            "margin": f"margin x {FALLBACK_FLOOR_FRACTION:g}, no resolution given",
            "estimate": f"|estimate| x {FALLBACK_FLOOR_FRACTION:g}, no resolution given",
        }[self.source]
        return f"{self.value:.6g} ({what})"


def _tiny_to_zero(sd: FloatArray, x: FloatArray) -> FloatArray:
    """Treat an sd that is only rounding noise (all values equal to a few ulps) as 0."""
    scale = np.max(np.abs(x), axis=-1) if x.size else np.zeros(sd.shape)
    eps = 8.0 * np.finfo(np.float64).eps * np.maximum(scale, 1e-300)
    return np.where(np.isfinite(sd) & (sd <= eps), 0.0, sd)


@dataclass(frozen=True, slots=True, kw_only=True)
class TBounds:
    """Student-t intervals for rows of seeds: estimate, bounds per level, and the spread used."""

    estimate: FloatArray  # (rows,)
    low: FloatArray  # (levels, rows)
    high: FloatArray  # (levels, rows)
    sd: FloatArray  # (rows,) the sd behind the interval (after pooling and floor)
    own_sd: FloatArray  # (rows,) the seeds' own sd (rounding noise taken as 0; nan at n = 1)
    df: FloatArray  # (rows,)
    floored: NDArray[np.bool_]  # (rows,) where the floor replaced the sd
    pooled: bool
    single: NDArray[np.bool_] | None = None  # (rows,) identical seeds: one effective value


def t_sd_df(
    own_sd: FloatArray,
    n: NDArray[np.int64] | int,
    *,
    spread_sd: float | None,
    spread_m: int | None,
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """The sd and df a mean over ``n`` seeds uses: ``(sd, df, pooled)``, elementwise.

    With the paper's sd (from ``spread_m`` runs) and ``n <= 4``, the pooled sd
    ``max(pooled, own)`` with ``df = n + m - 2`` (at ``n = 1``: the paper's sd with
    ``df = m - 1``); otherwise the seeds' own sd with ``df = n - 1``.
    """
    n_arr = np.asarray(n, dtype=np.int64)
    own = np.asarray(own_sd, dtype=np.float64)
    own_b, n_b = np.broadcast_arrays(own, n_arr)
    sd = own_b.astype(np.float64).copy()
    df = (n_b - 1).astype(np.float64)
    use_pool = np.zeros(sd.shape, dtype=bool)
    if spread_sd is not None and spread_m is not None:
        use_pool = n_b <= MAX_SEEDS_POOLED
        for k in np.unique(n_b[use_pool]):
            where = use_pool & (n_b == k)
            p_sd, p_df = pooled_sd(own_b[where], int(k), spread_sd, spread_m)
            sd[where] = p_sd
            df[where] = p_df
    return sd, df, use_pool


def absolute_t(
    x: ArrayLike,
    levels: tuple[float, ...],
    *,
    spread_sd: float | FloatArray | None = None,
    spread_m: int | None = None,
    floor: Floor | None = None,
    single: NDArray[np.bool_] | bool | None = None,
) -> TBounds:
    """Student-t (or pooled) intervals on each row's seed mean, floor applied.

    ``x`` is ``(rows, n)``. With one seed and no paper spread the interval is
    unbounded (``±inf``): one value carries no spread. ``spread_sd`` may hold one
    paper sd per row (simulations draw the paper's runs too). Rows whose seeds are all
    identical (``single``; by default :func:`identical_rows`) count as one effective
    value: the interval is ``mean ± q · sd`` with the spread of :func:`single_sd_df`,
    never divided by ``sqrt(n)``, so copies of a deterministic run do not narrow it.
    """
    arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n = arr.shape[1]
    mean, own = mean_sd(arr)
    own = _tiny_to_zero(own, arr)
    pooled = spread_sd is not None and spread_m is not None and n <= MAX_SEEDS_POOLED
    if pooled and spread_sd is not None and spread_m is not None:
        sd, df_int = pooled_sd(own, n, spread_sd, spread_m)
        df = np.full(sd.shape, float(df_int))
    else:
        sd, df = own, np.full(own.shape, float(n - 1))
    one = identical_rows(arr) if single is None else np.asarray(single, dtype=bool)
    one = np.broadcast_to(one, sd.shape)
    if one.any():
        sd, df = single_sd_df(sd, df, one, spread_sd=spread_sd, spread_m=spread_m, floor=floor)
    floored = np.zeros(sd.shape, dtype=bool)
    if floor is not None:
        floored = floor.binds(sd) & np.isfinite(sd)
        sd = floor.apply(sd)
    se = np.where(one, sd, sd / math.sqrt(n))
    low = np.empty((len(levels), arr.shape[0]))
    high = np.empty_like(low)
    for k, level in enumerate(levels):
        h = t_quantile(level, df) * se
        h = np.where(np.isfinite(h), h, np.inf)
        low[k] = mean - h
        high[k] = mean + h
    return TBounds(
        estimate=mean,
        low=low,
        high=high,
        sd=sd,
        own_sd=own,
        df=df,
        floored=floored & ~one,
        pooled=pooled,
        single=np.asarray(one, dtype=bool),
    )


def identical_rows(x: ArrayLike) -> NDArray[np.bool_]:
    """Rows whose values are all the same to a relative :data:`IDENTICAL_RTOL` (``n >= 2``)."""
    arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if arr.shape[1] < 2:
        return np.zeros(arr.shape[0], dtype=bool)
    scale = np.max(np.abs(arr), axis=1)
    return np.asarray(np.ptp(arr, axis=1) <= IDENTICAL_RTOL * scale)


def single_sd_df(
    sd: FloatArray,
    df: FloatArray,
    one: NDArray[np.bool_],
    *,
    spread_sd: float | FloatArray | None,
    spread_m: int | None,
    floor: Floor | None,
) -> tuple[FloatArray, FloatArray]:
    """The spread of one effective value (identical seeds): ``(sd, df)`` where ``one``.

    With the paper's sd it is that sd with ``df = m - 1`` (the one-seed pooled
    interval); otherwise the floor, taken as the known spread of one run (``df = inf``,
    a normal quantile). A floor made from the estimate itself is no spread at all: the
    interval is then unbounded.
    """
    sd = np.array(sd, dtype=np.float64)
    df = np.array(df, dtype=np.float64)
    if spread_sd is not None and spread_m is not None:
        sd = np.where(one, np.broadcast_to(np.asarray(spread_sd, dtype=np.float64), sd.shape), sd)
        df = np.where(one, float(spread_m - 1), df)
        return sd, df
    usable = floor is not None and floor.source != "estimate"
    value = floor.value if floor is not None and usable else math.inf
    return np.where(one, value, sd), np.where(one, math.inf, df)


def welch_t(
    a: ArrayLike,
    b: ArrayLike,
    levels: tuple[float, ...],
    *,
    floor: Floor | None = None,
) -> TBounds:
    """Welch intervals on ``mean(a) - mean(b)`` for each row; each arm's sd floored."""
    arr_a = np.atleast_2d(np.asarray(a, dtype=np.float64))
    arr_b = np.atleast_2d(np.asarray(b, dtype=np.float64))
    n_a, n_b = arr_a.shape[1], arr_b.shape[1]
    mean_a, sd_a = mean_sd(arr_a)
    mean_b, sd_b = mean_sd(arr_b)
    sd_a = _tiny_to_zero(sd_a, arr_a)
    sd_b = _tiny_to_zero(sd_b, arr_b)
    floored = np.zeros(sd_a.shape, dtype=bool)
    if floor is not None:
        # A fallback floor is a floor on the difference: each arm gets floor / sqrt(2).
        arm = floor if floor.known_step else Floor(value=floor.value / SQRT2, source=floor.source)
        fa, fb = arm.binds(sd_a), arm.binds(sd_b)
        floored = fa | fb
        sd_a = arm.apply(sd_a)
        sd_b = arm.apply(sd_b)
    diff, se, df = welch(mean_a, sd_a, n_a, mean_b, sd_b, n_b)
    low = np.empty((len(levels), arr_a.shape[0]))
    high = np.empty_like(low)
    for k, level in enumerate(levels):
        h = t_quantile(level, df) * se
        low[k] = diff - h
        high[k] = diff + h
    return TBounds(
        estimate=diff,
        low=low,
        high=high,
        sd=np.sqrt(sd_a**2 + sd_b**2),
        own_sd=np.sqrt(sd_a**2 + sd_b**2),
        df=df,
        floored=floored,
        pooled=False,
    )


def first_decided(codes: CodeArray, ns: NDArray[np.int64]) -> int | None:
    """The first ``n`` in ``ns`` whose code is decided, or ``None``."""
    hit = np.flatnonzero(codes != INCONCLUSIVE)
    return int(ns[hit[0]]) if hit.size else None


def candidate_seeds(start: int) -> NDArray[np.int64]:
    return np.arange(start, MAX_SEEDS_NEEDED + 1, dtype=np.int64)


def halfwidths_t(
    sd: float,
    ns: NDArray[np.int64],
    level: float,
    *,
    spread_sd: float | None = None,
    spread_m: int | None = None,
    floor: Floor | None = None,
) -> FloatArray:
    """Half-widths of the (pooled) t interval at each seed count in ``ns``, for a fixed sd."""
    own = np.full(ns.shape, sd, dtype=np.float64)
    sds, dfs, _ = t_sd_df(own, ns, spread_sd=spread_sd, spread_m=spread_m)
    if floor is not None:
        sds = floor.apply(sds)
    contiguous = ns.size > 0 and int(ns[-1]) - int(ns[0]) + 1 == ns.size
    if spread_sd is None and contiguous:  # df = n - 1: the same multipliers every time
        multipliers = _t_over_root_n(float(level), int(ns[0]), int(ns[-1]))
        return np.asarray(multipliers * sds, dtype=np.float64)
    return np.asarray(t_quantile(level, dfs) * sds / np.sqrt(ns), dtype=np.float64)


@functools.lru_cache(maxsize=256)
def _t_over_root_n(level: float, first: int, last: int) -> FloatArray:
    """``t_{level, n-1} / sqrt(n)`` for ``n = first .. last`` (read-only)."""
    ns = np.arange(first, last + 1, dtype=np.float64)
    out = np.asarray(t_quantile(level, ns - 1) / np.sqrt(ns), dtype=np.float64)
    out.setflags(write=False)
    return out


def halfwidths_welch(sd_a: float, sd_b: float, ns: NDArray[np.int64], level: float) -> FloatArray:
    """Welch half-widths with ``n`` seeds in each arm, for fixed arm sds."""
    n = ns.astype(np.float64)
    va = sd_a**2 / n
    vb = sd_b**2 / n
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (va + vb) ** 2 / ((va**2 + vb**2) / (n - 1))
    df = np.where(np.isfinite(df), df, n - 1)
    return np.asarray(t_quantile(level, df) * np.sqrt(va + vb), dtype=np.float64)
