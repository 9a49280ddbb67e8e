"""Bootstrap intervals: percentile, BCa, studentized (bootstrap-t) and hierarchical.

Each function takes an explicit :class:`numpy.random.Generator`; the same generator
state gives the same interval, bit for bit. Like :mod:`.intervals`, the one-sample
functions take a 2-D array whose rows are independent reproductions (columns are
seeds), so simulations can check them at scale; a claim is a single row.

All of them return ``(estimate, low, high)`` where ``estimate`` has one entry per row
and ``low``/``high`` have shape ``(len(levels), rows)``: one set of resamples serves
every level asked for (the decision level and the level shown in reports).

The percentile bootstrap is here only to be measured: with the few seeds a
reproduction can afford it covers far below its nominal level (see
``benchmarks/stats_calibration.py``), so no verdict uses it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from pytest_repro.stats.model import Statistic

FloatArray = NDArray[np.float64]
Bounds = tuple[FloatArray, FloatArray, FloatArray]

#: Upper bound on the floats one block of resamples may hold (rows x B x n).
_BLOCK_ELEMENTS = 4_000_000
#: Per-example outcomes with at most this many distinct values are resampled through
#: multinomial counts of those values (exact, and independent of the number of examples).
_MAX_DISTINCT_FOR_COUNTS = 32


def statistic_of(x: ArrayLike, statistic: Statistic) -> FloatArray:
    """The statistic along the last axis: mean, median, or IQM.

    The IQM (interquartile mean) drops ``floor(n / 4)`` values at each end and
    averages the rest (the 25% trimmed mean).
    """
    arr = np.asarray(x, dtype=np.float64)
    if statistic == "mean":
        return np.asarray(arr.mean(axis=-1), dtype=np.float64)
    if statistic == "median":
        return np.asarray(np.median(arr, axis=-1), dtype=np.float64)
    n = arr.shape[-1]
    cut = n // 4
    srt = np.sort(arr, axis=-1)
    return np.asarray(srt[..., cut : n - cut].mean(axis=-1), dtype=np.float64)


def _as_rows(x: ArrayLike) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[np.newaxis, :]
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError("expected a 2-D array: rows are reproductions, columns are seeds")
    return arr


def _resampled_statistics(
    x: FloatArray, statistic: Statistic, rng: np.random.Generator, resamples: int
) -> FloatArray:
    """``(rows, B)`` statistics of bootstrap resamples of each row."""
    rows, n = x.shape
    out = np.empty((rows, resamples))
    block = max(1, _BLOCK_ELEMENTS // (resamples * n))
    for start in range(0, rows, block):
        stop = min(rows, start + block)
        idx = rng.integers(0, n, size=(stop - start, resamples, n))
        sample = np.take_along_axis(x[start:stop, np.newaxis, :], idx, axis=2)
        out[start:stop] = statistic_of(sample, statistic)
    return out


def _order_statistic(sorted_values: FloatArray, q: FloatArray) -> FloatArray:
    """Per-row quantile ``q`` of sorted bootstrap values, as order statistic ``(B + 1) q``.

    ``sorted_values`` is ``(rows, B)``; ``q`` is ``(rows,)``. When ``(B + 1) q`` is a whole
    number this is exactly that order statistic; otherwise neighbours are interpolated.
    """
    resamples = sorted_values.shape[1]
    pos = np.clip((resamples + 1) * q - 1.0, 0.0, resamples - 1.0)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, resamples - 1)
    frac = pos - lo
    v_lo = np.take_along_axis(sorted_values, lo[:, np.newaxis], axis=1)[:, 0]
    v_hi = np.take_along_axis(sorted_values, hi[:, np.newaxis], axis=1)[:, 0]
    # Neighbours that are equal (infinite t values included) need no interpolation.
    with np.errstate(invalid="ignore"):
        out = np.where((frac > 0) & (v_hi != v_lo), v_lo + frac * (v_hi - v_lo), v_lo)
    return np.asarray(out, dtype=np.float64)


def _tails(levels: Sequence[float]) -> list[float]:
    return [(1.0 - float(level)) / 2.0 for level in levels]


def percentile(
    x: ArrayLike,
    levels: Sequence[float],
    *,
    rng: np.random.Generator,
    resamples: int = 9999,
    statistic: Statistic = "mean",
) -> Bounds:
    """The percentile bootstrap interval of the statistic over each row's seeds."""
    rows = _as_rows(x)
    est = statistic_of(rows, statistic)
    boot = np.sort(_resampled_statistics(rows, statistic, rng, resamples), axis=1)
    low = np.empty((len(levels), rows.shape[0]))
    high = np.empty_like(low)
    for k, tail in enumerate(_tails(levels)):
        low[k] = _order_statistic(boot, np.full(rows.shape[0], tail))
        high[k] = _order_statistic(boot, np.full(rows.shape[0], 1.0 - tail))
    return est, low, high


def _jackknife(x: FloatArray, statistic: Statistic) -> FloatArray:
    """``(rows, n)`` leave-one-out statistics."""
    rows, n = x.shape
    if statistic == "mean":
        return np.asarray((x.sum(axis=1, keepdims=True) - x) / (n - 1), dtype=np.float64)
    keep = ~np.eye(n, dtype=bool)
    loo = np.broadcast_to(x[:, np.newaxis, :], (rows, n, n))[:, keep].reshape(rows, n, n - 1)
    return statistic_of(loo, statistic)


def acceleration(x: ArrayLike, statistic: Statistic) -> FloatArray:
    """BCa's acceleration from the jackknife: ``Σ d³ / (6 (Σ d²)^1.5)``, ``d = θ̄(.) - θ(i)``."""
    rows = _as_rows(x)
    jack = _jackknife(rows, statistic)
    d = jack.mean(axis=1, keepdims=True) - jack
    num = (d**3).sum(axis=1)
    den = 6.0 * (d**2).sum(axis=1) ** 1.5
    with np.errstate(invalid="ignore", divide="ignore"):
        a = np.where(den > 0, num / den, 0.0)
    return np.asarray(a, dtype=np.float64)


def bca(
    x: ArrayLike,
    levels: Sequence[float],
    *,
    rng: np.random.Generator,
    resamples: int = 9999,
    statistic: Statistic = "mean",
) -> Bounds:
    """The bias-corrected and accelerated (BCa) bootstrap interval.

    The bias correction ``z0`` is the normal quantile of the share of resampled
    statistics below the estimate (ties count half); the acceleration comes from the
    jackknife. Valid for smooth statistics at enough seeds: verdicts only use it from
    20 seeds up.
    """
    rows = _as_rows(x)
    est = statistic_of(rows, statistic)
    boot = _resampled_statistics(rows, statistic, rng, resamples)
    below = (boot < est[:, np.newaxis]).sum(axis=1) + 0.5 * (boot == est[:, np.newaxis]).sum(axis=1)
    share = np.clip(below / resamples, 1.0 / (resamples + 1), resamples / (resamples + 1))
    z0 = special.ndtri(share)
    a = acceleration(rows, statistic)
    boot.sort(axis=1)
    low = np.empty((len(levels), rows.shape[0]))
    high = np.empty_like(low)
    for k, tail in enumerate(_tails(levels)):
        for out, q in ((low, tail), (high, 1.0 - tail)):
            z = z0 + special.ndtri(q)
            adj = special.ndtr(z0 + z / (1.0 - a * z))
            out[k] = _order_statistic(boot, np.asarray(adj, dtype=np.float64))
    return est, low, high


def bootstrap_t(
    x: ArrayLike,
    levels: Sequence[float],
    *,
    rng: np.random.Generator,
    resamples: int = 9999,
) -> Bounds:
    """The studentized bootstrap (bootstrap-t) interval on each row's mean.

    Resamples the seeds, studentizes each resampled mean by its own standard error,
    and reads the interval ends off the order statistics of those t values:
    ``[mean - t*_(1-a) · se, mean - t*_(a) · se]``. A resample whose seeds are all the
    same value has no spread; its t value is ``±inf`` (or 0), which keeps it in the
    tails where it belongs.
    """
    rows = _as_rows(x)
    n_rows, n = rows.shape
    mean = rows.mean(axis=1)
    se = rows.std(axis=1, ddof=1) / math.sqrt(n) if n > 1 else np.full(n_rows, np.nan)
    tstar = np.empty((n_rows, resamples))
    block = max(1, _BLOCK_ELEMENTS // (resamples * n))
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        idx = rng.integers(0, n, size=(stop - start, resamples, n))
        sample = np.take_along_axis(rows[start:stop, np.newaxis, :], idx, axis=2)
        m_star = sample.mean(axis=2)
        se_star = sample.std(axis=2, ddof=1) / math.sqrt(n)
        diff = m_star - mean[start:stop, np.newaxis]
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se_star > 0, diff / se_star, np.sign(diff) * np.inf)
        tstar[start:stop] = np.where(np.isnan(t), 0.0, t)
    tstar.sort(axis=1)
    low = np.empty((len(levels), n_rows))
    high = np.empty_like(low)
    for k, tail in enumerate(_tails(levels)):
        t_lo = _order_statistic(tstar, np.full(n_rows, tail))
        t_hi = _order_statistic(tstar, np.full(n_rows, 1.0 - tail))
        low[k] = mean - t_hi * se
        high[k] = mean - t_lo * se
    return mean, low, high


def hierarchical_resamples(examples: Sequence[Sequence[float]] | Sequence[FloatArray]) -> int:
    """The number of resamples :func:`hierarchical` uses for these examples.

    9999 when every seed's outcomes take few distinct values (0/1 correctness: each
    resample costs the same whatever the number of examples), else 1999.
    """
    few = all(
        np.unique(np.asarray(e, dtype=np.float64)).size <= _MAX_DISTINCT_FOR_COUNTS
        for e in examples
    )
    return 9999 if few else 1999


def expanded_tail(level: float, n: int) -> float:
    """The tail probability of the expanded percentile interval (Hesterberg).

    A percentile interval over ``n`` resampled units is too narrow at small ``n``: its
    spread is the plug-in ``(n-1)/n`` variance and its ends are normal, not t, quantiles.
    The expanded interval reads the percentiles at ``Φ(sqrt(n/(n-1)) · t_{a, n-1})``
    instead of ``a = (1 - level) / 2``, which corrects both for a mean.
    """
    tail = (1.0 - level) / 2.0
    if n < 2:
        return tail
    t = float(special.stdtrit(n - 1, tail))
    return float(special.ndtr(math.sqrt(n / (n - 1)) * t))


def hierarchical(
    examples: Sequence[Sequence[float]] | Sequence[FloatArray],
    levels: Sequence[float],
    *,
    rng: np.random.Generator,
    resamples: int | None = None,
    expand: bool = True,
) -> Bounds:
    """Two-stage (seed x example) bootstrap of the mean over seeds of per-seed means.

    Each resample draws ``n`` seeds with replacement, then, for each drawn seed, that
    seed's examples with replacement; the statistic is the mean over the drawn seeds
    of their resampled example means. The interval is the expanded percentile interval
    (:func:`expanded_tail`, over the ``n`` seeds) of those resampled statistics;
    ``expand=False`` gives the plain percentile interval, which covers below its level
    when the seed-to-seed spread dominates. It accounts for both the seed-to-seed
    spread and the finite test set.
    """
    seeds = [np.asarray(e, dtype=np.float64).ravel() for e in examples]
    n = len(seeds)
    b = hierarchical_resamples(seeds) if resamples is None else resamples
    est = float(np.mean([e.mean() for e in seeds]))
    chosen = rng.integers(0, n, size=(b, n))
    inner = np.empty((b, n))
    for i, e in enumerate(seeds):
        where = chosen == i
        count = int(where.sum())
        if count == 0:
            continue
        values, counts = np.unique(e, return_counts=True)
        size = e.size
        if values.size <= _MAX_DISTINCT_FOR_COUNTS:
            draws = rng.multinomial(size, counts / size, size=count)
            means = draws @ values / size
        else:
            means = np.empty(count)
            block = max(1, _BLOCK_ELEMENTS // size)
            for start in range(0, count, block):
                stop = min(count, start + block)
                idx = rng.integers(0, size, size=(stop - start, size))
                means[start:stop] = e[idx].mean(axis=1)
        inner[where] = means
    boot = np.sort(inner.mean(axis=1))[np.newaxis, :]
    low = np.empty((len(levels), 1))
    high = np.empty_like(low)
    tails = [expanded_tail(lv, n) for lv in levels] if expand else _tails(levels)
    for k, tail in enumerate(tails):
        low[k] = _order_statistic(boot, np.array([tail]))
        high[k] = _order_statistic(boot, np.array([1.0 - tail]))
    return np.array([est]), low, high


def _two_sample_draws(
    a: FloatArray, b: FloatArray, rng: np.random.Generator, resamples: int
) -> tuple[FloatArray, FloatArray]:
    """Resampled arms, each ``(B, n_arm)``: arms are resampled independently."""
    ia = rng.integers(0, a.size, size=(resamples, a.size))
    ib = rng.integers(0, b.size, size=(resamples, b.size))
    return a[ia], b[ib]


def two_sample_bootstrap_t(
    a: ArrayLike,
    b: ArrayLike,
    levels: Sequence[float],
    *,
    rng: np.random.Generator,
    resamples: int = 9999,
) -> Bounds:
    """Studentized bootstrap of ``mean(a) - mean(b)`` with Welch's standard error."""
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    est = float(xa.mean() - xb.mean())
    se = math.sqrt(xa.var(ddof=1) / xa.size + xb.var(ddof=1) / xb.size)
    sa, sb = _two_sample_draws(xa, xb, rng, resamples)
    diff = sa.mean(axis=1) - sb.mean(axis=1) - est
    se_star = np.sqrt(sa.var(axis=1, ddof=1) / xa.size + sb.var(axis=1, ddof=1) / xb.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se_star > 0, diff / se_star, np.sign(diff) * np.inf)
    tstar = np.sort(np.where(np.isnan(t), 0.0, t))[np.newaxis, :]
    low = np.empty((len(levels), 1))
    high = np.empty_like(low)
    for k, tail in enumerate(_tails(levels)):
        low[k] = est - _order_statistic(tstar, np.array([1.0 - tail])) * se
        high[k] = est - _order_statistic(tstar, np.array([tail])) * se
    return np.array([est]), low, high


def two_sample_bca(
    a: ArrayLike,
    b: ArrayLike,
    levels: Sequence[float],
    *,
    rng: np.random.Generator,
    resamples: int = 9999,
) -> Bounds:
    """BCa interval on ``mean(a) - mean(b)``, arms resampled independently.

    The acceleration uses the empirical influence values of both arms:
    ``a = Σ_k Σ_i l³/n_k³ / (6 (Σ_k Σ_i l²/n_k²)^1.5)`` with ``l = a_i - mean(a)`` for A
    and ``l = -(b_i - mean(b))`` for B.
    """
    xa = np.asarray(a, dtype=np.float64).ravel()
    xb = np.asarray(b, dtype=np.float64).ravel()
    est = float(xa.mean() - xb.mean())
    sa, sb = _two_sample_draws(xa, xb, rng, resamples)
    theta = sa.mean(axis=1) - sb.mean(axis=1)
    below = float((theta < est).sum() + 0.5 * (theta == est).sum())
    share = min(max(below / resamples, 1.0 / (resamples + 1)), resamples / (resamples + 1))
    z0 = float(special.ndtri(share))
    la = xa - xa.mean()
    lb = -(xb - xb.mean())
    num = float((la**3).sum() / xa.size**3 + (lb**3).sum() / xb.size**3)
    den = 6.0 * float((la**2).sum() / xa.size**2 + (lb**2).sum() / xb.size**2) ** 1.5
    accel = num / den if den > 0 else 0.0
    boot = np.sort(theta)[np.newaxis, :]
    low = np.empty((len(levels), 1))
    high = np.empty_like(low)
    for k, tail in enumerate(_tails(levels)):
        for out, q in ((low, tail), (high, 1.0 - tail)):
            z = z0 + float(special.ndtri(q))
            adj = float(special.ndtr(z0 + z / (1.0 - accel * z)))
            out[k] = _order_statistic(boot, np.array([adj]))
    return np.array([est]), low, high
