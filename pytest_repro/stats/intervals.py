"""Student-t intervals: one sample, pooled with the paper's spread, paired, Welch.

Every function works on whole arrays so that the simulations that check these
intervals run the very code the verdicts use: a row of ``x`` is one reproduction,
its columns are seeds.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from pytest_repro.errors import StatsError
from pytest_repro.stats.checks import show
from pytest_repro.stats.model import PaperSpread

FloatArray = NDArray[np.float64]


def check_level(level: float, name: str = "level") -> float:
    """Return ``level`` if it is a usable two-sided confidence level, else raise."""
    if not (isinstance(level, (int, float)) and math.isfinite(level) and 0.0 < level < 1.0):
        raise StatsError(f"{name}={show(level)} is not a confidence level; give a number in (0, 1)")
    return float(level)


def t_quantile(level: float | FloatArray, df: ArrayLike) -> FloatArray:
    """The two-sided Student-t multiplier: ``t_{(1 + level) / 2, df}``.

    ``df`` may be fractional (Welch) or an array; ``df <= 0`` gives ``inf``.
    """
    if np.ndim(level) == 0 and np.ndim(df) == 0:  # one multiplier: cached
        return np.asarray(_t_scalar(float(level), float(df)), dtype=np.float64)  # type: ignore[arg-type]
    df_arr = np.asarray(df, dtype=np.float64)
    p = (1.0 + np.asarray(level, dtype=np.float64)) / 2.0
    with np.errstate(invalid="ignore"):
        q = np.asarray(special.stdtrit(np.where(df_arr > 0, df_arr, 1.0), p), dtype=np.float64)
    return np.where(df_arr > 0, q, np.inf)


@functools.lru_cache(maxsize=4096)
def _t_scalar(level: float, df: float) -> float:
    """One two-sided multiplier (a claim asks for the same few again and again)."""
    if not df > 0:
        return math.inf
    return float(special.stdtrit(df, (1.0 + level) / 2.0))


def z_quantile(level: float) -> float:
    """The two-sided normal multiplier ``z_{(1 + level) / 2}``."""
    return float(special.ndtri((1.0 + level) / 2.0))


def mean_sd(x: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Row means and sample standard deviations (``ddof=1``; ``nan`` for one column)."""
    arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
    mean = arr.mean(axis=1)
    if arr.shape[1] < 2:
        return mean, np.full(arr.shape[0], np.nan)
    return mean, arr.std(axis=1, ddof=1)


def t_bounds(
    center: ArrayLike, se: ArrayLike, df: ArrayLike, level: float
) -> tuple[FloatArray, FloatArray]:
    """``center ∓ t_{(1+level)/2, df} · se``, elementwise."""
    c = np.asarray(center, dtype=np.float64)
    h = t_quantile(level, df) * np.asarray(se, dtype=np.float64)
    return c - h, c + h


def student_t(x: ArrayLike, level: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The Student-t interval on each row's mean: ``(mean, low, high)``.

    >>> m, lo, hi = student_t([[0.97, 0.98, 0.99]], 0.95)
    >>> round(float(lo[0]), 4), round(float(hi[0]), 4)
    (0.9552, 1.0048)
    """
    mean, sd = mean_sd(x)
    n = np.atleast_2d(np.asarray(x)).shape[1]
    low, high = t_bounds(mean, sd / math.sqrt(n), n - 1, level)
    return mean, low, high


def z_interval(x: ArrayLike, level: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The normal-theory interval ``mean ± z · s / sqrt(n)``; for comparison only."""
    mean, sd = mean_sd(x)
    n = np.atleast_2d(np.asarray(x)).shape[1]
    h = z_quantile(level) * sd / math.sqrt(n)
    return mean, mean - h, mean + h


def paper_sd(spread: PaperSpread) -> float:
    """The paper's standard deviation over its runs, whatever its ``±`` meant.

    ``sd`` is taken as is; ``se`` is ``sd / sqrt(m)``, so ``sd = se · sqrt(m)``; ``ci95``
    is ``t_{0.975, m-1} · sd / sqrt(m)``, so ``sd = ci95 / t_{0.975, m-1} · sqrt(m)``.

    >>> round(paper_sd(PaperSpread(value=0.001, kind="se", seeds=4)), 6)
    0.002
    """
    check_paper_spread(spread)
    m = spread.seeds
    if spread.kind == "sd":
        return float(spread.value)
    if spread.kind == "se":
        return float(spread.value) * math.sqrt(m)
    if spread.ci_method == "normal":
        return float(spread.value) / z_quantile(0.95) * math.sqrt(m)
    return float(spread.value) / float(t_quantile(0.95, m - 1)) * math.sqrt(m)


def check_paper_spread(spread: PaperSpread) -> None:
    """Raise :class:`StatsError` unless ``spread`` can be used."""
    if spread.kind not in ("sd", "se", "ci95"):
        raise StatsError(
            f"paper spread kind {spread.kind!r} is not one of sd, se, ci95; say whether the "
            "paper's ± is a standard deviation, a standard error or a 95% interval half-width"
        )
    if not (
        isinstance(spread.value, (int, float)) and math.isfinite(spread.value) and spread.value >= 0
    ):
        raise StatsError(
            f"paper spread value={show(spread.value)} must be a finite number >= 0 "
            "(the number after ±)"
        )
    if spread.ci_method not in ("t", "normal"):
        raise StatsError(
            f"paper ci95 method {spread.ci_method!r} is not t or normal; say how the paper's "
            "interval was computed (t: t quantile with m-1 df, normal: 1.96 standard errors)"
        )
    if isinstance(spread.seeds, bool) or not isinstance(spread.seeds, int) or spread.seeds < 2:
        raise StatsError(
            f"paper spread seeds={spread.seeds!r}: the paper's spread needs its number of runs "
            "m >= 2; without it the spread cannot be used, so leave the spread out"
        )


def pooled_sd(
    own_sd: ArrayLike,
    n: int,
    paper_sd_value: float | FloatArray,
    m: int,
    *,
    guard: bool = True,
) -> tuple[FloatArray, int]:
    """The spread used with the paper's help at few seeds: ``(sd, df)``.

    The pooled variance ``((n-1)·s² + (m-1)·s_p²) / (n + m - 2)`` has ``df = n + m - 2``;
    the sd used is ``max(pooled, own)`` so that a reproduction noisier than the paper is
    never made to look as precise as the paper (``guard=False`` gives plain pooling; it
    is kept to measure what the guard costs). With ``n = 1`` the seeds carry no spread
    and this is the paper's sd with ``df = m - 1``. The paper's sd is an estimate from
    ``m`` runs, never a known sigma, which is why the degrees of freedom stay finite.
    """
    own = np.asarray(own_sd, dtype=np.float64)
    df = n + m - 2
    own_var = np.where(np.isfinite(own), own**2, 0.0) if n > 1 else np.zeros_like(own)
    paper_var = np.asarray(paper_sd_value, dtype=np.float64) ** 2
    pooled = np.sqrt(((n - 1) * own_var + (m - 1) * paper_var) / df)
    if n > 1 and guard:
        pooled = np.maximum(pooled, own)
    return pooled, df


def welch(
    mean_a: ArrayLike,
    sd_a: ArrayLike,
    n_a: int,
    mean_b: ArrayLike,
    sd_b: ArrayLike,
    n_b: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Welch's difference ``a - b``: ``(difference, se, Welch–Satterthwaite df)``."""
    va = np.asarray(sd_a, dtype=np.float64) ** 2 / n_a
    vb = np.asarray(sd_b, dtype=np.float64) ** 2 / n_b
    se = np.sqrt(va + vb)
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    df = np.where(np.isfinite(df), df, float(min(n_a, n_b) - 1))
    diff = np.asarray(mean_a, dtype=np.float64) - np.asarray(mean_b, dtype=np.float64)
    return diff, se, df
