"""The skew guard of ``interval: auto``: what few seeds cannot show about a bad tail.

Seeds of real training often skew towards the worse side: most runs land close together
and now and then one trains worse. Three or five seeds usually miss the rare bad run, so
their mean sits on the better side of the true mean and their sd is small; a Student-t
interval then fits inside the band when the true mean is on its edge. With a mirrored
lognormal of skewness -3 (docs/statistics.md) that happens 13-17% of the time instead of
5%, and no rule can tell such a sample from a normal one by looking at it.

``interval: auto`` therefore stretches the worse end of the Student-t interval to a
critical value calibrated on that skewed shape (:mod:`.skewed`), but never further than
:func:`allowance` tolerances from the mean. The cap is what keeps the price low: a
missed tail pulls the mean in proportion to the seeds' true sd, and while that sd is at
most the tolerance the pull stays under the cap at the decide level. A reproduction at
the paper's value sits mid-band and is hardly affected; the cap fades with more seeds
(0.70 tolerances at 3 seeds, 0.48 at 10, 0.29 at 50). A claim whose seeds are known to
skew *and* to be noisier than its tolerance declares ``skewed_seeds: true``, which drops
the cap (and pays for it in power).

The constants are fitted from ``benchmarks/stats_robust.py --only guard``: the cap keeps
false "matched" at the band edge near 5% for skewed seeds whose sd equals the tolerance
at 2 to 50 seeds.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from numpy.typing import NDArray

from pytest_repro.stats.computed import Computed
from pytest_repro.stats.intervals import z_quantile
from pytest_repro.stats.model import Better
from pytest_repro.stats.skewed import critical_value

FloatArray = NDArray[np.float64]

#: A sample is falsely matched past the guard in two ways — its seeds tight enough to pass
#: the stretched end, or its mean far enough inside the band to pass the cap — so the
#: stretch is calibrated on this share of the interval's one-sided tail (3% for the 90%
#: decide interval) and the cap takes the rest.
TAIL = 0.6
#: ``allowance(n) = SCALE * n ** -POWER`` tolerances (never more than one tolerance).
SCALE = 0.98
POWER = 0.31
#: the level the cap is calibrated at.
DECIDE_LEVEL = 0.90


def allowance(n: int | NDArray[np.integer], level: float = DECIDE_LEVEL) -> float | FloatArray:
    """The cap, in tolerances: how far from the seed mean the guard may move the worse end
    of the two-sided ``level`` interval with ``n`` seeds. Calibrated at the 90% decide
    level; another level scales it by the square root of the ratio of the two normal
    quantiles (a stricter look of adaptive seeding gets a wider cap: false matched under
    skewed seeds 0.042 instead of 0.065, for 0.1 seed more on average), and it is never
    more than one tolerance at 90%."""
    base = np.minimum(1.0, SCALE * np.asarray(n, dtype=float) ** -POWER)
    return base * math.sqrt(z_quantile(level) / z_quantile(DECIDE_LEVEL))


def sides(better: Better) -> tuple[bool, bool]:
    """Which ends the guard holds: (low, high). ``better: none`` has no worse side, so both."""
    if better == "higher":
        return True, False
    if better == "lower":
        return False, True
    return True, True


def applies(interval: str, *, statistic: str, skewed_seeds: bool, deterministic: bool) -> bool:
    """Whether an absolute claim's verdict is held by the guard: ``interval: auto`` on the
    mean (a Student-t interval), unless the claim declares ``skewed_seeds`` or
    ``deterministic``."""
    return interval == "auto" and statistic == "mean" and not skewed_seeds and not deterministic


def by_side(hw: FloatArray, wide: FloatArray, better: Better) -> tuple[FloatArray, FloatArray]:
    """The (low, high) half-widths: ``wide`` on the ends the guard holds, ``hw`` elsewhere."""
    guard_low, guard_high = sides(better)
    return (wide if guard_low else hw), (wide if guard_high else hw)


def stretch(n: int, level: float) -> float:
    """The skew-calibrated critical value that sets the worse end before the cap, at the
    two-sided ``level``: calibrated on :data:`TAIL` of the interval's one-sided tail."""
    return critical_value(n, 1 - TAIL * (1 - level) / 2)


def skew_halfwidths(sd: FloatArray | float, n: int, level: float) -> FloatArray:
    """The worse end's distance from the mean before the cap: the skew-calibrated critical
    value times the seeds' own sd over ``sqrt(n)``. Only the measured spread is stretched,
    not a spread floor, so seeds that barely differ are held as copies of one run are."""
    return np.asarray(stretch(n, level) * np.asarray(sd, dtype=float) / math.sqrt(n))


def worse_halfwidths(
    hw: FloatArray, sd: FloatArray | float, n: int, tolerance: float, level: float
) -> FloatArray:
    """The guarded worse-side half-widths: the interval's own half-widths ``hw`` at ``n``
    seeds, widened to :func:`skew_halfwidths` of the seeds' sd ``sd`` but never beyond the
    cap (and never narrowed)."""
    hw = np.asarray(hw, dtype=float)
    if n < 2:
        return hw
    cap = float(allowance(n, level)) * tolerance
    return np.maximum(hw, np.minimum(cap, skew_halfwidths(sd, n, level)))


def guard_rows(
    mean: FloatArray,
    low: FloatArray,
    high: FloatArray,
    sd: FloatArray,
    n: int,
    tolerance: float,
    better: Better,
    level: float = DECIDE_LEVEL,
) -> tuple[FloatArray, FloatArray]:
    """:func:`guard` on rows of intervals at ``level`` (for simulations); ``sd``: each
    row's seed sd."""
    if n < 2:
        return low, high
    guard_low, guard_high = sides(better)
    if guard_low:
        low = mean - worse_halfwidths(mean - low, sd, n, tolerance, level)
    if guard_high:
        high = mean + worse_halfwidths(high - mean, sd, n, tolerance, level)
    return low, high


def guard(
    c: Computed,
    sd: float,
    n: int,
    tolerance: float,
    better: Better,
    levels: tuple[float, float],
) -> Computed:
    """``c`` with its worse end (both ends for ``better: none``) held by the skew guard at
    the decide and the shown level (:func:`worse_halfwidths`; ``sd``: the seeds' sd).
    Unchanged where the interval is already that wide; the method says ``(skew guard)``
    either way."""
    est = np.asarray(c.estimate, dtype=float)

    def hold(bounds: tuple[float, float], level: float) -> tuple[float, float]:
        lo, hi = (np.asarray(b, dtype=float) for b in bounds)
        lo, hi = guard_rows(est, lo, hi, np.asarray(sd, dtype=float), n, tolerance, better, level)
        return float(lo), float(hi)

    decide, show = hold(c.decide, levels[0]), hold(c.show, levels[1])
    method = f"{c.method} (skew guard)"
    if decide == c.decide and show == c.show:
        return dataclasses.replace(c, method=method)  # the rule applied; the t interval held
    side = "both ends" if all(sides(better)) else "the worse end"
    cap = float(allowance(n, levels[0]))
    note = (
        f"unseen bad seeds (skew guard): {n} seeds easily miss a rare bad one, so {side} of "
        f"the interval reaches up to {cap:.2f} tolerances from the mean "
        "(docs/statistics.md#the-skew-guard; interval: t decides on the plain t interval)"
    )
    return dataclasses.replace(c, decide=decide, show=show, method=method, notes=(*c.notes, note))


def needed_halfwidths(
    ns: NDArray[np.int64], hw: FloatArray, sd: float, tolerance: float, level: float, n: int
) -> FloatArray:
    """The guarded worse-side half-width at each candidate seed count, from the t
    half-widths ``hw`` at those counts and the seeds' sd. The critical value at ``n``
    seeds is used for every count: it only shrinks with more seeds, so the estimate errs
    towards more."""
    caps = np.asarray(allowance(ns, level), dtype=float) * tolerance
    skew = stretch(n, level) * sd / np.sqrt(ns.astype(float))
    return np.asarray(np.maximum(hw, np.minimum(caps, skew)), dtype=np.float64)


__all__ = [
    "POWER",
    "SCALE",
    "TAIL",
    "allowance",
    "applies",
    "by_side",
    "guard",
    "guard_rows",
    "needed_halfwidths",
    "sides",
    "skew_halfwidths",
    "stretch",
    "worse_halfwidths",
]
