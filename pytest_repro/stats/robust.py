"""Failed seeds, skewed seeds and deterministic runs: when a plain t interval cannot be trusted.

A *failed* seed is one that did not train: its value lies far on the worse side of the
other seeds. It is found by a declared threshold (``failed_below``) or by the rule of
:func:`find_failed`, at any seed count from 3. What happens then depends on what the
claim is about (``about``): the mean over all seeds (failed ones included, the default)
or the runs that succeeded (the failed seeds are set aside and the success rate is
reported with its Wilson interval). Either way the failed seeds are named in the notes.

When the seeds are skewed towards the worse side, or a failed seed is counted in the
mean, ``interval: auto`` widens the worse side of the Student-t interval by the seeds'
semi-deviation on that side (:func:`bad_side_sd`) and says so in the method name.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from pytest_repro.stats.checks import seed_label, skewness
from pytest_repro.stats.intervals import z_quantile
from pytest_repro.stats.model import Better

FloatArray = NDArray[np.float64]
About = Literal["mean", "successful"]
ABOUT: tuple[About, ...] = ("mean", "successful")

#: A detected failed seed lies more than this many tolerances beyond the others' median...
FAIL_TOLERANCES = 5.0
#: ... and more than this many of the other seeds' standard deviations.
FAIL_SPREADS = 10.0
#: At least this many seeds must remain successful for the rule to call any seed failed.
MIN_SUCCESSES = 2
#: ``interval: auto`` widens the worse side when the skewness towards it exceeds this.
SKEW_TRIGGER = 1.0
MIN_SEEDS_SKEW_FALLBACK = 5


def worse_sign(better: Better) -> float:
    """+1 when larger values are worse (``better: lower``), else -1 (lower values are worse)."""
    return 1.0 if better == "lower" else -1.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Failures:
    """The seeds (indices) that failed, and how they were found (``declared`` or ``detected``)."""

    failed: tuple[int, ...]
    rule: Literal["declared", "detected"]
    threshold: float | None = None

    def mask(self, n: int) -> NDArray[np.bool_]:
        ok = np.ones(n, dtype=bool)
        ok[list(self.failed)] = False
        return ok


def find_failed(
    x: FloatArray, *, tolerance: float, better: Better, failed_below: float | None = None
) -> Failures:
    """The failed seeds of ``x``.

    With ``failed_below`` every seed on the worse side of it fails (below it, or above it
    with ``better: lower``). Otherwise seeds are examined worst first: the worst seed
    fails when it lies more than :data:`FAIL_TOLERANCES` tolerances *and* more than
    :data:`FAIL_SPREADS` standard deviations of the remaining seeds beyond their median,
    and at least :data:`MIN_SUCCESSES` seeds remain; then the next worst is examined.
    For normal seeds whose spread is below the tolerance a false detection needs a
    5-sigma value, so clean reproductions practically never lose a seed.

    >>> find_failed(np.array([0.92, 0.921, 0.31]), tolerance=0.01, better="higher").failed
    (2,)
    """
    sign = worse_sign(better)
    if failed_below is not None:
        bad = x > failed_below if better == "lower" else x < failed_below
        return Failures(
            failed=tuple(int(i) for i in np.flatnonzero(bad)),
            rule="declared",
            threshold=float(failed_below),
        )
    order = list(np.argsort(-sign * x, kind="stable"))  # worst first
    failed: list[int] = []
    for i in order:
        rest = np.array([x[j] for j in order if j != i and j not in failed])
        if rest.size < MIN_SUCCESSES:
            break
        gap = sign * (float(x[i]) - float(np.median(rest)))
        spread = float(np.std(rest, ddof=1)) if rest.size > 1 else 0.0
        if gap > FAIL_TOLERANCES * tolerance and gap > FAIL_SPREADS * spread:
            failed.append(int(i))
        else:
            break
    return Failures(failed=tuple(sorted(failed)), rule="detected")


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a success rate of ``k`` out of ``n``.

    >>> tuple(round(v, 3) for v in wilson(2, 3))
    (0.208, 0.939)
    """
    z = z_quantile(level)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def failure_notes(
    x: FloatArray, f: Failures, seeds: Sequence[int] | None, about: About
) -> list[str]:
    """One note naming every failed seed, and one with the success rate."""
    if not f.failed:
        return []
    n = x.size
    named = ", ".join(f"{seed_label(i, seeds)} gave {x[i]:.6g}" for i in f.failed)
    if f.rule == "declared":
        why = f"beyond failed_below: {f.threshold:g}"
    else:
        why = (
            f"more than {FAIL_TOLERANCES:g} tolerances and {FAIL_SPREADS:g} sds of the other "
            "seeds beyond their median"
        )
    k = n - len(f.failed)
    lo, hi = wilson(k, n)
    use = (
        "it is set aside: the estimate is over the successful seeds (about: successful)"
        if about == "successful"
        else "it is counted in the mean (about: mean); write about: successful for a claim "
        "about the runs that train"
    )
    return [
        f"failed seed: {named} ({why}); {use}",
        f"success rate: {k} of {n} seeds ({k / n:.0%}, 95% Wilson interval [{lo:.2f}, {hi:.2f}])",
    ]


def bad_side_sd(x: FloatArray, better: Better) -> float:
    """The spread on the worse side: ``sqrt(2 · Σ_{worse} (x - mean)² / (n - 1))``.

    For symmetric seeds it estimates the sd; for seeds with a long tail on the worse side
    it is larger than the sd, which is what the interval's worse end needs.
    """
    d = x - x.mean()
    worse = d * worse_sign(better) > 0
    return float(math.sqrt(2.0 * float(np.sum(d[worse] ** 2)) / max(x.size - 1, 1)))


def skew_towards_worse(x: FloatArray, better: Better) -> float:
    """The sample skewness measured towards the worse side (positive: a tail that is worse)."""
    return worse_sign(better) * skewness(x)


def needs_fallback(x: FloatArray, better: Better, failures: Failures, about: About) -> str | None:
    """Why the t interval cannot be trusted for these seeds, or None."""
    if failures.failed and about == "mean":
        return "a failed seed is counted in the mean"
    if better != "none" and x.size >= MIN_SEEDS_SKEW_FALLBACK:
        g = skew_towards_worse(x, better)
        if g > SKEW_TRIGGER:
            return f"the seeds are skewed towards the worse side (skewness {g:+.2f})"
    return None


def binomial_sd(value: float, examples: int) -> float:
    """The test set's sampling sd of an accuracy ``value`` over ``examples`` examples.

    ``sqrt(p (1 - p) / N)``, with ``p`` kept at least ``1 / N`` away from 0 and 1 so that
    a perfect score still has a spread (continuous in the value).
    """
    p = min(max(value, 1.0 / examples), 1.0 - 1.0 / examples)
    return math.sqrt(p * (1.0 - p) / examples)


def widen_rows(
    x: FloatArray, mean: FloatArray, low: FloatArray, high: FloatArray, better: Better
) -> tuple[FloatArray, FloatArray]:
    """The skew fallback of :func:`needs_fallback` on rows of seeds (for simulations).

    Failed-seed detection is not applied here; rows whose skewness towards the worse side
    exceeds :data:`SKEW_TRIGGER` (from 5 seeds) get their worse end stretched.
    """
    n = x.shape[1]
    if better == "none" or n < MIN_SEEDS_SKEW_FALLBACK:
        return low, high
    sign = worse_sign(better)
    d = x - mean[:, None]
    m2 = np.mean(d**2, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        g = sign * np.mean(d**3, axis=1) / m2**1.5
        sd = np.sqrt(np.sum(d**2, axis=1) / (n - 1))
        bad = np.sqrt(2.0 * np.sum(np.where(d * sign > 0, d**2, 0.0), axis=1) / (n - 1))
        ratio = np.where((g > SKEW_TRIGGER) & (sd > 0), np.maximum(bad / sd, 1.0), 1.0)
    if sign > 0:
        return low, mean + (high - mean) * ratio
    return mean - (mean - low) * ratio, high
