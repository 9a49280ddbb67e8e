"""An anytime-valid check: a confidence sequence for the mean over seeds.

The fixed-seed verdict is an equivalence test at a seed count chosen in advance. Adding
seeds after an inconclusive look and deciding again is a sequential test with no
correction, and a reproduction whose true mean sits on the band edge is then called
"matched" well over 5% of the time. A confidence sequence is an interval that holds at
every seed count at once: it may be read after every added seed, as often as one likes,
and still covers the true mean with the stated probability over the whole sequence.

The sequence used here is Lai's (1976) mixture for a normal mean with unknown spread:
for a candidate mean ``mu``, the Bayes factor of a normal mixture over the standardised
effect ``(m - mu) / sigma`` (prior precision :data:`PRIOR_PRECISION`) against no effect,
with the scale-invariant prior on ``sigma``, is

    B_n(mu) = sqrt(tau / (n + tau)) * (S / (S - n² (x̄ - mu)² / (n + tau))) ** (n / 2),

``S = sum (x_i - mu)²``. Under the true ``mu`` it is a nonnegative martingale starting at
1, so by Ville's inequality it ever exceeds ``1 / alpha`` with probability at most
``alpha``; the sequence is the set of ``mu`` where it has not, which has a closed form
(:func:`halfwidth_factor`). The check decides a claim with the same table as the
fixed-seed verdict (:func:`~pytest_repro.stats.rules.classify_absolute`) applied to the
sequence instead of the 90% interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pytest_repro.stats.model import Better, Outcome
from pytest_repro.stats.rules import (
    FALLBACK_FLOOR_FRACTION,
    classify_absolute,
    classify_comparative,
    outcome_of,
)

#: Two-sided error of the sequence. The two sides are symmetric, so the chance that the
#: sequence ever lies wholly above the true mean (a false "matched" at the lower band
#: edge) is about half of it; measured below 5% (docs/statistics-seeds-and-papers.md).
ANYTIME_ALPHA = 0.10
#: Prior precision of the standardised effect: the sequence is tightest from about 5 to
#: 40 seeds with this value.
PRIOR_PRECISION = 0.3


def halfwidth_factor(
    n: int, *, alpha: float = ANYTIME_ALPHA, tau: float = PRIOR_PRECISION
) -> float:
    """The sequence's half-width over the seeds' sd at ``n`` seeds (``inf`` when too few).

    >>> round(halfwidth_factor(10) * math.sqrt(10), 2)
    3.48
    """
    if n < 2:
        return math.inf
    q = (alpha * math.sqrt(tau / (n + tau))) ** (2.0 / n)
    a = (1.0 - q) * (n + tau)
    if n - a <= 0:
        return math.inf
    return math.sqrt(a * (n - 1) / (n * (n - a)))


def floored_sd(sd: float, tolerance: float) -> float:
    """The seeds' sd with the spread floor of the fixed-seed verdict (``tolerance / 10``,
    used as ``max(sd, floor - sd)``): identical seeds never give a zero-width sequence."""
    floor = FALLBACK_FLOOR_FRACTION * tolerance
    return max(sd, floor - sd)


@dataclass(frozen=True, slots=True, kw_only=True)
class AnytimeCheck:
    """The check at ``n`` seeds: the confidence sequence ``[low, high]`` and its outcome."""

    outcome: Outcome
    low: float
    high: float
    n: int
    level: float = 1.0 - ANYTIME_ALPHA

    @property
    def decided(self) -> bool:
        return self.outcome != "inconclusive"


def sequence(values: Sequence[float], *, tolerance: float) -> tuple[float, float]:
    """The confidence sequence on the mean of ``values`` (``(-inf, inf)`` below 2 seeds)."""
    x = np.asarray(values, dtype=np.float64)
    if x.size < 2:
        return (-math.inf, math.inf)
    mean = float(x.mean())
    sd = floored_sd(float(x.std(ddof=1)), tolerance)
    h = halfwidth_factor(int(x.size)) * sd
    return (mean - h, mean + h)


def _clip(low: float, high: float, bounds: tuple[float, float] | None) -> tuple[float, float]:
    if bounds is None:
        return low, high
    return max(low, bounds[0]), min(high, bounds[1])


def anytime_absolute(
    values: Sequence[float],
    *,
    paper: float,
    tolerance: float,
    better: Better = "higher",
    disagreement: float = 3.0,
    bounds: tuple[float, float] | None = None,
) -> AnytimeCheck:
    """The anytime-valid check of an absolute claim "the metric is ``paper ± tolerance``".

    Safe to read after every added seed: at the band edge it says "matched" at most about
    5% of the time over all seed counts together.

    >>> anytime_absolute([0.9] * 2 + [0.901, 0.899] * 4, paper=0.9, tolerance=0.01).outcome
    'matched'
    """
    low, high = _clip(*sequence(values, tolerance=tolerance), bounds)
    code = int(
        classify_absolute(
            low, high, paper=paper, tolerance=tolerance, better=better, disagreement=disagreement
        )
    )
    return AnytimeCheck(outcome=outcome_of(code), low=low, high=high, n=len(values))


def anytime_comparative(
    improvements: Sequence[float],
    *,
    margin: float = 0.0,
    paper_delta: float | None = None,
    tolerance: float | None = None,
    disagreement: float = 3.0,
) -> AnytimeCheck:
    """The check of a paired comparative claim, on the per-seed improvements of A over B."""
    scale = tolerance if tolerance is not None else margin if margin > 0 else None
    if scale is None:
        x = np.asarray(improvements, dtype=np.float64)
        scale = abs(float(x.mean())) if x.size else 1.0
    low, high = sequence(improvements, tolerance=scale or 1e-12)
    code = int(
        classify_comparative(
            low,
            high,
            margin=margin,
            paper_delta=paper_delta,
            tolerance=tolerance,
            disagreement=disagreement,
        )
    )
    return AnytimeCheck(outcome=outcome_of(code), low=low, high=high, n=len(improvements))


__all__ = [
    "ANYTIME_ALPHA",
    "PRIOR_PRECISION",
    "AnytimeCheck",
    "anytime_absolute",
    "anytime_comparative",
    "floored_sd",
    "halfwidth_factor",
    "sequence",
]
