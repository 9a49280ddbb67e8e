"""Intervals for the special cases of an absolute claim, as :class:`~.computed.Computed`.

* :func:`two_sample_interval`: the paper's runs as a second sample (:mod:`.twosample`);
* :func:`widen_worse_side`: the robust fallback of ``interval: auto`` (:mod:`.robust`);
* :func:`deterministic_interval`: ``deterministic: true``, one run whose only sampling
  error is the test set's;
* :func:`anytime_interval`: ``interval: anytime``, the confidence sequence of
  :mod:`.anytime`, valid however often seeds are added.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray

from pytest_repro.stats.computed import Computed
from pytest_repro.stats.intervals import z_quantile
from pytest_repro.stats.model import Better
from pytest_repro.stats.robust import bad_side_sd, binomial_sd, worse_sign
from pytest_repro.stats.rules import Floor, candidate_seeds
from pytest_repro.stats.twosample import halfwidths_two_sample, two_sample_bounds

FloatArray = NDArray[np.float64]


def two_sample_interval(
    x: FloatArray, levels: tuple[float, float], *, paper_sd: float, m: int, floor: Floor
) -> Computed:
    """The interval on the seed mean that also counts the paper's sampling error."""
    n = x.size
    own = float(np.std(x, ddof=1)) if n > 1 else math.nan
    min_sd = float(floor.apply(np.array([own]))[0]) if n > 1 and math.isfinite(own) else 0.0
    mean, low, high, se, df = two_sample_bounds(x, levels, paper_sd, m, min_sd=min_sd)
    rule = {1: "paper sd for both", 2: "pooled sd"}.get(n, "welch")
    method = f"two-sample t ({rule}; paper sd, m={m}, df={float(df[0]):.3g})"
    notes = (
        f"paper as a second sample: the paper's value is a mean over {m} runs (sd "
        f"{paper_sd:.4g}); the interval on mean - paper has se {float(se[0]):.4g} "
        f"(seeds' sd {own:.4g} over {n}, paper's over {m}), df {float(df[0]):.3g}",
    )
    ns = candidate_seeds(1)
    hw = halfwidths_two_sample(min_sd if n > 1 else paper_sd, ns, levels[0], paper_sd, m)
    return Computed(
        estimate=float(mean[0]),
        decide=(float(low[0, 0]), float(high[0, 0])),
        show=(float(low[1, 0]), float(high[1, 0])),
        method=method,
        needed_ns=ns,
        needed_hw=hw,
        notes=notes,
    )


def widen_worse_side(c: Computed, x: FloatArray, better: Better, why: str) -> Computed:
    """Stretch the worse end of both intervals by ``bad_side_sd / sd`` (never narrower)."""
    sd = float(np.std(x, ddof=1)) if x.size > 1 else 0.0
    ratio = bad_side_sd(x, better) / sd if sd > 0 else 1.0
    ratio = max(ratio, 1.0)
    upper = worse_sign(better) > 0

    def stretch(lo: float, hi: float) -> tuple[float, float]:
        if upper:
            return lo, c.estimate + (hi - c.estimate) * ratio
        return c.estimate - (c.estimate - lo) * ratio, hi

    note = (
        f"robust interval: {why}, so the worse end of the interval is stretched by the "
        f"seeds' spread on that side (x {ratio:.2f}); the t interval alone cannot be trusted"
    )
    return dataclasses.replace(
        c,
        decide=stretch(*c.decide),
        show=stretch(*c.show),
        method=f"{c.method} (worse side widened x{ratio:.2f})",
        needed_hw=None if c.needed_hw is None else c.needed_hw * ratio,
        notes=(*c.notes, note),
    )


def anytime_interval(x: FloatArray, levels: tuple[float, float], *, tolerance: float) -> Computed:
    """The confidence sequence on the seed mean at both levels (unbounded below 2 seeds)."""
    from pytest_repro.stats.anytime import floored_sd, halfwidth_factor

    n = x.size
    mean = float(np.mean(x))
    sd = floored_sd(float(np.std(x, ddof=1)), tolerance) if n > 1 else math.nan

    def bounds(level: float) -> tuple[float, float]:
        if n < 2:
            return (-math.inf, math.inf)
        h = halfwidth_factor(n, alpha=1.0 - level) * sd
        return (mean - h, mean + h)

    decide_level, show_level = levels
    note = (
        f"anytime: a {decide_level:.0%} confidence sequence (Lai's mixture, unknown spread): "
        "valid however often seeds are added and the claim read again"
    )
    return Computed(
        estimate=mean,
        decide=bounds(decide_level),
        show=bounds(show_level),
        method="anytime confidence sequence",
        needed_ns=None,
        needed_hw=None,
        notes=(note,),
    )


def deterministic_interval(
    x: FloatArray,
    levels: tuple[float, float],
    *,
    test_examples: int | None,
    floor: Floor,
) -> Computed:
    """One deterministic run: ``value ± z · sd``, with the test set's binomial sd when the
    claim gives ``test_examples`` (else the spread floor), never divided by ``sqrt(n)``.

    The sd used is ``max(binomial, floor(0))`` for a known resolution step, so it is
    continuous in the value; seeds that differ are averaged and noted.
    """
    value = float(np.mean(x))
    notes = []
    if test_examples is not None:
        sd = binomial_sd(value, test_examples)
        if floor.known_step:
            sd = max(sd, floor.value)
        source = f"test-set binomial sd {sd:.4g}, N={test_examples}"
    else:
        sd = floor.value
        source = f"spread floor {floor.describe()}"
    if x.size > 1 and float(np.ptp(x)) > 0:
        notes.append(
            f"deterministic: the claim says the run is deterministic, but its {x.size} seeds "
            f"differ (range {float(np.ptp(x)):.4g}); their mean is used"
        )
    notes.append(
        f"deterministic: one value decided against the band with the {source} and a "
        "normal quantile; more seeds would not narrow it"
    )
    d, s = (z_quantile(level) * sd for level in levels)
    return Computed(
        estimate=value,
        decide=(value - d, value + d),
        show=(value - s, value + s),
        method=f"deterministic ({source})",
        needed_ns=None,
        needed_hw=None,
        notes=tuple(notes),
    )
