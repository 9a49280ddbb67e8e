"""Simulated reproductions, to measure what the rules promise.

Each function draws many reproductions at once (rows are reproductions, columns are
seeds) and runs the same array functions the verdicts use, so a measured rate is the
rate of the shipped rules. The tests in ``tests/stats`` and
``benchmarks/stats_calibration.py`` are built on these.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from pytest_repro.stats import bootstrap as boot
from pytest_repro.stats.adaptive import Schedule
from pytest_repro.stats.intervals import mean_sd, pooled_sd, student_t, t_bounds, z_interval
from pytest_repro.stats.model import Better, Outcome
from pytest_repro.stats.robust import widen_rows
from pytest_repro.stats.rules import (
    FALLBACK_FLOOR_FRACTION,
    INCONCLUSIVE,
    MAX_SEEDS_POOLED,
    OUTCOME_CODES,
    CodeArray,
    Floor,
    absolute_t,
    classify_absolute,
)
from pytest_repro.stats.skew_guard import guard_rows
from pytest_repro.stats.skewed import SIGMA as SKEW_SIGMA

FloatArray = NDArray[np.float64]
Distribution = Literal["normal", "accuracy", "lognormal", "skewed"]
CoverageMethod = Literal["t", "z", "percentile", "bca", "bootstrap-t"]

#: Rows per block when bootstrapping many reproductions (bounds memory).
_BOOT_BLOCK = 200


def draw(
    dist: Distribution,
    *,
    mean: float,
    sd: float,
    size: tuple[int, ...],
    rng: np.random.Generator,
) -> FloatArray:
    """Seed values with the given mean and sd.

    ``normal``; ``accuracy``: a Beta distribution with that mean and sd (bounded by 1,
    mildly left-skewed near 0.97); ``lognormal``: a strongly right-skewed distribution
    (skewness 6.2) shifted and scaled to that mean and sd; ``skewed``: seeds that now and
    then train worse, a lognormal mirrored onto the lower side (skewness -3, the shape of
    :mod:`.skewed`).
    """
    if dist == "normal":
        return rng.normal(mean, sd, size)
    if dist == "skewed":
        s = SKEW_SIGMA
        raw = rng.lognormal(0.0, s, size)
        mu, var = math.exp(s * s / 2), (math.exp(s * s) - 1) * math.exp(s * s)
        return np.asarray(mean - sd * (raw - mu) / math.sqrt(var), dtype=np.float64)
    if dist == "accuracy":
        k = mean * (1.0 - mean) / sd**2 - 1.0
        return rng.beta(mean * k, (1.0 - mean) * k, size)
    raw = rng.lognormal(0.0, 1.0, size)
    mu, var = math.exp(0.5), (math.e - 1.0) * math.e
    return np.asarray(mean + sd * (raw - mu) / math.sqrt(var), dtype=np.float64)


def coverage(
    method: CoverageMethod,
    dist: Distribution,
    n: int,
    *,
    reps: int,
    rng: np.random.Generator,
    level: float = 0.95,
    mean: float = 0.97,
    sd: float = 0.005,
    resamples: int = 999,
) -> float:
    """Share of simulated reproductions whose ``level`` interval holds the true mean."""
    x = draw(dist, mean=mean, sd=sd, size=(reps, n), rng=rng)
    if method == "t":
        _, low, high = student_t(x, level)
    elif method == "z":
        _, low, high = z_interval(x, level)
    else:
        lows, highs = [], []
        for start in range(0, reps, _BOOT_BLOCK):
            block = x[start : start + _BOOT_BLOCK]
            if method == "percentile":
                _, lo, hi = boot.percentile(block, [level], rng=rng, resamples=resamples)
            elif method == "bca":
                _, lo, hi = boot.bca(block, [level], rng=rng, resamples=resamples)
            else:
                _, lo, hi = boot.bootstrap_t(block, [level], rng=rng, resamples=resamples)
            lows.append(lo[0])
            highs.append(hi[0])
        low, high = np.concatenate(lows), np.concatenate(highs)
    return float(np.mean((low <= mean) & (mean <= high)))


def pooled_coverage(
    n: int,
    m: int,
    *,
    reps: int,
    rng: np.random.Generator,
    level: float = 0.95,
    sd: float = 1.0,
    paper_sd_ratio: float = 1.0,
    guard: bool = True,
) -> float:
    """Coverage of the pooled interval when the paper's sd comes from ``m`` runs of the
    same distribution (the paper's runs are simulated too, one set per reproduction).
    At ``n >= 5`` the rule uses the seeds' own spread only, as the verdicts do.

    ``paper_sd_ratio`` below 1 makes the paper's runs less noisy than the reproduction's
    (the case the ``max(pooled, own)`` guard is for); ``guard=False`` pools plainly.
    """
    x = rng.normal(0.0, sd, (reps, n))
    paper_runs = rng.normal(0.0, sd * paper_sd_ratio, (reps, m))
    spread_sd = paper_runs.std(axis=1, ddof=1)
    if guard or n > MAX_SEEDS_POOLED:
        tb = absolute_t(x, (level,), spread_sd=spread_sd, spread_m=m)
        low, high = tb.low[0], tb.high[0]
    else:
        mean, own = mean_sd(x)
        psd, df = pooled_sd(own, n, spread_sd, m, guard=False)
        low, high = t_bounds(mean, psd / math.sqrt(n), df, level)
    return float(np.mean((low <= 0.0) & (high >= 0.0)))


def rates(codes: CodeArray) -> dict[Outcome, float]:
    """The share of each outcome among simulated verdicts."""
    counts = np.bincount(codes.astype(np.intp), minlength=len(OUTCOME_CODES))
    return {name: float(c) / codes.size for name, c in zip(OUTCOME_CODES, counts, strict=True)}


def absolute_codes(
    *,
    true_mean: float,
    sd: float,
    n: int,
    paper: float,
    tolerance: float,
    reps: int,
    rng: np.random.Generator,
    better: Better = "higher",
    disagreement: float = 3.0,
    level: float = 0.90,
    paper_m: int | None = None,
    dist: Distribution = "normal",
) -> CodeArray:
    """Verdict outcomes of ``reps`` reproductions of ``n`` seeds each (the default
    Student-t rule, or the pooled rule when ``paper_m`` paper runs are simulated)."""
    x = draw(dist, mean=true_mean, sd=sd, size=(reps, n), rng=rng)
    spread_sd: FloatArray | None = None
    if paper_m is not None:
        spread_sd = draw(dist, mean=true_mean, sd=sd, size=(reps, paper_m), rng=rng).std(
            axis=1, ddof=1
        )
    return _codes(x, level, paper, tolerance, better, disagreement, spread_sd, paper_m)


def _codes(
    x: FloatArray,
    level: float,
    paper: float,
    tolerance: float,
    better: Better,
    disagreement: float,
    spread_sd: FloatArray | None = None,
    paper_m: int | None = None,
) -> CodeArray:
    floor = Floor(value=FALLBACK_FLOOR_FRACTION * tolerance, source="tolerance")
    tb = absolute_t(x, (level,), spread_sd=spread_sd, spread_m=paper_m, floor=floor)
    low, high = widen_rows(x, tb.estimate, tb.low[0], tb.high[0], better)
    if x.shape[1] > 1:  # the skew guard (one seed has no spread to stretch)
        sd = x.std(axis=1, ddof=1)
        low, high = guard_rows(tb.estimate, low, high, sd, x.shape[1], tolerance, better, level)
    return classify_absolute(
        low,
        high,
        paper=paper,
        tolerance=tolerance,
        better=better,
        disagreement=disagreement,
    )


def _stop_at_first_decided(
    x: FloatArray,
    looks: list[tuple[int, float]],
    paper: float,
    tolerance: float,
    better: Better,
    disagreement: float,
) -> tuple[CodeArray, NDArray[np.int64]]:
    reps = x.shape[0]
    codes = np.full(reps, INCONCLUSIVE, dtype=np.int8)
    used = np.zeros(reps, dtype=np.int64)
    alive = np.ones(reps, dtype=bool)
    for k, (n, level) in enumerate(looks):
        rows = np.flatnonzero(alive)
        if not rows.size:
            break
        c = _codes(x[rows, :n], level, paper, tolerance, better, disagreement)
        last = k == len(looks) - 1
        stop = (c != INCONCLUSIVE) | last
        codes[rows[stop]] = c[stop]
        used[rows[stop]] = n
        alive[rows[stop]] = False
    return codes, used


def sequential_codes(
    *,
    true_mean: float,
    sd: float,
    schedule: Schedule,
    paper: float,
    tolerance: float,
    reps: int,
    rng: np.random.Generator,
    better: Better = "higher",
    disagreement: float = 3.0,
    dist: Distribution = "normal",
    values: FloatArray | None = None,
) -> tuple[CodeArray, NDArray[np.int64]]:
    """Outcomes and seeds used under adaptive seeding with ``schedule``: seeds drawn from
    ``dist``, or the rows of ``values`` (``reps`` rows of the last stage's seeds)."""
    if values is None:
        x = draw(dist, mean=true_mean, sd=sd, size=(reps, schedule.stages[-1]), rng=rng)
    else:
        x = np.asarray(values, dtype=np.float64)
    looks = list(zip(schedule.stages, schedule.levels, strict=True))
    return _stop_at_first_decided(x, looks, paper, tolerance, better, disagreement)


def peeking_codes(
    *,
    true_mean: float,
    sd: float,
    first: int,
    last: int,
    paper: float,
    tolerance: float,
    reps: int,
    rng: np.random.Generator,
    level: float = 0.90,
    better: Better = "higher",
    disagreement: float = 3.0,
) -> tuple[CodeArray, NDArray[np.int64]]:
    """What NOT to do: the fixed-n interval checked after every seed, stopping at the
    first decided verdict. Shown in the benchmark to inflate false "matched"."""
    x = rng.normal(true_mean, sd, (reps, last))
    looks = [(n, level) for n in range(first, last + 1)]
    return _stop_at_first_decided(x, looks, paper, tolerance, better, disagreement)


def hierarchical_coverage(
    n: int,
    *,
    reps: int,
    rng: np.random.Generator,
    examples: int = 1000,
    accuracy: float = 0.9,
    seed_sd: float = 0.03,
    level: float = 0.95,
    resamples: int = 999,
) -> tuple[float, float, float]:
    """Coverage of the hierarchical bootstrap and of Student-t over per-seed accuracies.

    Each seed has its own true accuracy (normal around ``accuracy`` with ``seed_sd``)
    and is scored on its own ``examples`` test examples (0/1 outcomes); the target is
    ``accuracy``. Returns ``(hierarchical, hierarchical plain percentile, student-t)``.
    """
    hit_e = hit_p = hit_t = 0
    tail = boot.expanded_tail(level, n)
    plain_level = level
    for _ in range(reps):
        p = np.clip(rng.normal(accuracy, seed_sd, n), 0.0, 1.0)
        ex = [(rng.random(examples) < pi).astype(np.float64) for pi in p]
        # One set of resamples for both: the expanded ends are the plain ends at this level.
        _, lo, hi = boot.hierarchical(
            ex, [1.0 - 2.0 * tail, plain_level], rng=rng, resamples=resamples, expand=False
        )
        hit_e += int(lo[0, 0] <= accuracy <= hi[0, 0])
        hit_p += int(lo[1, 0] <= accuracy <= hi[1, 0])
        _, tl, th = student_t(np.array([[e.mean() for e in ex]]), level)
        hit_t += int(tl[0] <= accuracy <= th[0])
    return hit_e / reps, hit_p / reps, hit_t / reps


def outlier_thresholds(
    ns: range = range(5, 31), *, reps: int = 400_000, level: float = 0.99, seed: int = 20240229
) -> dict[int, float]:
    """The ``level`` quantile, for normal seed values, of the largest distance from the median
    in scaled MADs; ``checks.OUTLIER_THRESHOLDS`` holds this table at the defaults."""
    rng = np.random.default_rng(seed)
    out = {}
    for n in ns:
        x = rng.normal(size=(reps, n))
        dev = np.abs(x - np.median(x, axis=1, keepdims=True))
        ratio = dev.max(axis=1) / (1.4826 * np.median(dev, axis=1))
        out[n] = round(float(np.quantile(ratio, level)), 2)
    return out


def outlier_note_rate(n: int, *, reps: int = 20_000, seed: int = 1) -> float:
    """How often clean normal reproductions of ``n`` seeds get an outlier note."""
    from pytest_repro.stats.checks import outlier_notes

    rng = np.random.default_rng(seed)
    flagged = sum(bool(outlier_notes(rng.normal(size=n), None)) for _ in range(reps))
    return flagged / reps


def bounded_codes(
    *,
    true_mean: float,
    sd: float,
    n: int,
    paper: float,
    tolerance: float,
    bounds: tuple[float, float] | None,
    reps: int,
    rng: np.random.Generator,
    level: float = 0.90,
) -> CodeArray:
    """Verdicts of reproductions whose normal seed values are clipped to ``(0, 1)`` (a
    fraction cannot pass 1), decided with the metric's ``bounds`` (``None``: without)."""
    x = np.clip(rng.normal(true_mean, sd, size=(reps, n)), 0.0, 1.0)
    floor = Floor(value=FALLBACK_FLOOR_FRACTION * tolerance, source="tolerance")
    tb = absolute_t(x, (level,), floor=floor)
    low, high = tb.low[0], tb.high[0]
    if n > 1:
        spread = x.std(axis=1, ddof=1)
        low, high = guard_rows(tb.estimate, low, high, spread, n, tolerance, "higher", level)
    if bounds is not None:
        low, high = np.maximum(low, bounds[0]), np.minimum(high, bounds[1])
    return classify_absolute(
        low, high, paper=paper, tolerance=tolerance, better="higher", disagreement=3.0
    )
