"""The paper's runs as a second sample: an equivalence test on the difference of two means.

When the paper gives its spread (sd, se or ci95) and its number of runs ``m``, its value
is itself a mean over ``m`` runs with a standard error. The interval on
``mean - paper`` then counts both sampling errors:

* ``n >= 3``: ``se² = s²/n + s_p²/m`` with Welch–Satterthwaite degrees of freedom while
  the paper's sd is at least the seeds' own; when the seeds spread more than the paper
  says, their sd stands for both (``se = s · sqrt(1/n + 1/m)``, ``df = n - 1``): an
  understated paper sd never makes the reproduction look precise;
* ``n = 2``: the seeds' sd has one degree of freedom, so it is pooled with the
  paper's: ``se² = max(pooled, own)²/n + s_p²/m``, with ``df = n + m - 2`` while the
  pooled sd is the larger and the Welch–Satterthwaite df (near 1) once the seeds' own
  sd is: the degrees of freedom follow the sd that is used;
* ``n = 1``: the paper's sd for both, ``se = s_p · sqrt(1 + 1/m)``, ``df = m - 1``.

The interval is reported around the reproduction's mean (``mean ± t · se``), so the
usual band table decides it.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from pytest_repro.stats.intervals import mean_sd, pooled_sd, t_quantile

FloatArray = NDArray[np.float64]


def two_sample_se_df(
    own_sd: ArrayLike, n: int | NDArray[np.int64], paper_sd: ArrayLike, m: int
) -> tuple[FloatArray, FloatArray]:
    """``(se, df)`` of ``mean - paper`` for seeds with ``own_sd`` over ``n`` and the paper's
    ``paper_sd`` over ``m`` runs, elementwise (see the module docstring for n = 1, 2)."""
    own = np.asarray(own_sd, dtype=np.float64)
    sp = np.asarray(paper_sd, dtype=np.float64)
    n_arr = np.asarray(n, dtype=np.int64)
    own, sp, n_arr = np.broadcast_arrays(own, sp, n_arr)
    nf = n_arr.astype(np.float64)
    own_ok = np.where(np.isfinite(own), own, 0.0)
    va = own_ok**2 / nf
    vb = sp**2 / m
    with np.errstate(invalid="ignore", divide="ignore"):
        df = (va + vb) ** 2 / (va**2 / np.maximum(nf - 1, 1) + vb**2 / (m - 1))
    se = np.sqrt(va + vb)
    df = np.where(np.isfinite(df), df, float(m - 1))
    # The guard: one recipe's seed-to-seed spread is one spread, so a paper sd below the
    # seeds' own is as likely understated (a best-of-runs sd, an se called sd) as lucky.
    # Then the seeds' sd stands for both samples: se = s · sqrt(1/n + 1/m), df = n - 1.
    guarded = (n_arr >= 3) & (own_ok > sp)
    se = np.where(guarded, own_ok * np.sqrt(1 / nf + 1 / m), se)
    df = np.where(guarded, nf - 1, df)
    pooled, _ = pooled_sd(own_ok, 2, sp, m, guard=False)
    borrowed = pooled >= own_ok
    two_se = np.sqrt(np.maximum(pooled, own_ok) ** 2 / nf + vb)
    se = np.where(n_arr == 2, two_se, se)
    df = np.where((n_arr == 2) & borrowed, nf + m - 2, df)
    se = np.where(n_arr == 1, sp * math.sqrt(1 + 1 / m), se)
    df = np.where(n_arr == 1, float(m - 1), df)
    return np.asarray(se, dtype=np.float64), np.asarray(df, dtype=np.float64)


def two_sample_bounds(
    x: ArrayLike, levels: tuple[float, ...], paper_sd: ArrayLike, m: int, *, min_sd: float = 0.0
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(mean, low, high, se, df)`` for rows of seeds; ``low``/``high`` are ``(levels, rows)``.

    ``min_sd`` floors the seeds' sd (a spread the seeds cannot measure).
    """
    arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n = arr.shape[1]
    mean, own = mean_sd(arr)
    if n > 1:
        own = np.maximum(own, min_sd)
    se, df = two_sample_se_df(own, n, paper_sd, m)
    low = np.empty((len(levels), arr.shape[0]))
    high = np.empty_like(low)
    for k, level in enumerate(levels):
        h = t_quantile(level, df) * se
        low[k] = mean - h
        high[k] = mean + h
    return mean, low, high, se, df


def halfwidths_two_sample(
    own_sd: float, ns: NDArray[np.int64], level: float, paper_sd: float, m: int
) -> FloatArray:
    """Decision half-widths at each seed count in ``ns`` if the spreads stayed as measured."""
    se, df = two_sample_se_df(np.full(ns.shape, own_sd), ns, paper_sd, m)
    return np.asarray(t_quantile(level, df) * se, dtype=np.float64)
