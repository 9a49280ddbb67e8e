"""``skewed_seeds: true``: critical values for seeds that skew towards the worse side.

Some recipes' seeds are not symmetric: most train well and a few train worse (RL,
fine-tuning with unstable seeds, small data). Their sample mean over few seeds is then
usually on the *better* side of the true mean, with a small sd, and the Student-t bound
on the worse side is too optimistic: at the band edge a skewness of -3 is falsely
"matched" 12–17% of the time instead of 5% (docs/statistics.md). No rule can see such a
skew in 3 or 5 values, so a claim whose seeds are known to skew says so, and the worse
end of its intervals uses critical values calibrated on a skewness of -3: the lognormal
with sigma 0.715, mirrored onto the worse side. They are the quantiles of the studentized
mean ``(mean - mu) / (s / sqrt(n))`` of that shape (``2^17`` samples per ``n``, fixed
seed), so they depend only on ``n`` and the level, not on the scale. The better end keeps
the t interval. What this costs on symmetric seeds is measured in docs/statistics.md.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
from numpy.typing import NDArray

from pytest_repro.stats.computed import Computed
from pytest_repro.stats.intervals import t_quantile
from pytest_repro.stats.model import Better
from pytest_repro.stats.robust import worse_sign

#: sigma of the lognormal the critical values are calibrated on (skewness about 3).
SIGMA = 0.715
#: how many simulated reproductions calibrate one critical value.
DRAWS = 2**17
#: seed counts above this extrapolate the simulated critical value (see critical_value).
SIMULATED_UP_TO = 30
_SEED = 20240229


@functools.lru_cache(maxsize=32)
def _studentized(n: int) -> NDArray[np.float64]:
    """The sorted studentized means of ``n`` seeds of the skewed shape (fixed seed)."""
    rng = np.random.default_rng([_SEED, n])
    rows = max(4096, min(DRAWS, 2**22 // n))
    mu = math.exp(SIGMA * SIGMA / 2)
    x = -(rng.lognormal(0.0, SIGMA, (rows, n)) - mu)  # long tail below: the worse side
    t = np.asarray(x.mean(axis=1) / (x.std(axis=1, ddof=1) / math.sqrt(n)), dtype=np.float64)
    t.sort()
    return t


@functools.lru_cache(maxsize=512)
def critical_value(n: int, level: float) -> float:
    """The one-sided ``level`` critical value of the studentized mean of ``n`` seeds whose
    values skew towards the worse side with skewness -3 (never below Student-t's).

    Simulated up to :data:`SIMULATED_UP_TO` seeds; beyond, its excess over Student-t's
    shrinks as ``1/sqrt(n)`` (the first-order skewness term of the studentized mean),
    which stays within 2% above a simulation at 50 and 100 seeds.
    """
    if n < 2:
        raise ValueError("a skew-calibrated interval needs 2 or more seeds")
    t_n = float(t_quantile(2 * level - 1, n - 1))
    if n > SIMULATED_UP_TO:
        m = SIMULATED_UP_TO
        excess = critical_value(m, level) - float(t_quantile(2 * level - 1, m - 1))
        return t_n + excess * math.sqrt(m / n)
    t = _studentized(n)
    return max(float(np.quantile(t, level)), t_n)


def skew_calibrated(c: Computed, n: int, levels: tuple[float, float], better: Better) -> Computed:
    """``c`` with the worse end of both intervals moved out to the skew-calibrated
    critical values (``levels``: the two-sided decide and show levels)."""
    upper = worse_sign(better) > 0
    factors = []
    for level in levels:
        one_sided = (1 + level) / 2
        factors.append(critical_value(n, one_sided) / float(t_quantile(level, n - 1)))

    def stretch(bounds: tuple[float, float], k: float) -> tuple[float, float]:
        lo, hi = bounds
        if upper:
            return lo, c.estimate + (hi - c.estimate) * k
        return c.estimate - (c.estimate - lo) * k, hi

    k_decide, k_show = factors
    note = (
        f"skewed seeds (skewed_seeds: true): the worse end of the interval uses critical "
        f"values calibrated on seeds skewed towards the worse side (skewness -3), "
        f"x{k_decide:.2f} the t interval's"
    )
    return dataclasses.replace(
        c,
        decide=stretch(c.decide, k_decide),
        show=stretch(c.show, k_show),
        method=f"{c.method} (skew-calibrated worse side x{k_decide:.2f})",
        needed_hw=None if c.needed_hw is None else c.needed_hw * k_decide,
        notes=(*c.notes, note),
    )


__all__ = ["DRAWS", "SIGMA", "SIMULATED_UP_TO", "critical_value", "skew_calibrated"]
