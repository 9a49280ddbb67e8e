"""Input checks shared by the decision rules, and the annotations they attach.

Every problem raises :class:`~pytest_repro.errors.StatsError` with a message that names
the value (and the seed, when the caller says which seeds produced the values) and
says what to do.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from pytest_repro.errors import StatsError
from pytest_repro.stats.model import BETTER, METHODS, STATISTICS

FloatArray = NDArray[np.float64]

#: Scaled MAD: 1.4826 · median |x - median| estimates the sd for normal values.
MAD_SCALE = 1.482602218505602
#: When the MAD is 0, 1.2533 · mean |x - median| is used instead (same normal scale).
MEANAD_SCALE = 1.253314137315500
SKEW_LIMIT = 1.0
MIN_SEEDS_SKEW = 5
MIN_SEEDS_OUTLIER = 5


def show(value: object) -> str:
    """``repr`` of a value, with numpy scalars shown as plain Python numbers."""
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)


def seed_label(index: int, seeds: Sequence[int] | None) -> str:
    """``"seed 7 (index 2)"`` when the seeds are known, else ``"seed index 2"``."""
    if seeds is not None and 0 <= index < len(seeds):
        return f"seed {seeds[index]} (index {index})"
    return f"seed index {index}"


def check_seeds(seeds: Sequence[int] | None, n: int, what: str = "values") -> None:
    if seeds is not None and len(seeds) != n:
        raise StatsError(
            f"{len(seeds)} seeds given for {n} {what}; give one seed per value, in the same order"
        )


def finite_values(
    values: Sequence[float] | FloatArray,
    *,
    what: str = "values",
    seeds: Sequence[int] | None = None,
) -> FloatArray:
    """``values`` as a 1-D float array, or :class:`StatsError` naming the bad seed."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"{what} must be numbers, one per seed: {exc}") from exc
    if arr.ndim != 1:
        raise StatsError(f"{what} must be a flat list of numbers, one per seed")
    if arr.size == 0:
        raise StatsError(f"no {what}: at least one seed must report the metric")
    check_seeds(seeds, arr.size, what)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        i = int(bad[0])
        others = f" (and {bad.size - 1} more)" if bad.size > 1 else ""
        raise StatsError(
            f"{what}: {seed_label(i, seeds)} reported {show(arr[i])}{others}; a run that diverged "
            "or crashed has no usable value — fix or exclude that run and rerun"
        )
    return arr


#: Welch's interval needs this many seeds in each arm: with 2, its df (as low as 1) and
#: the two variances, each from one degree of freedom, make the interval erratic.
MIN_SEEDS_WELCH = 3


def check_welch_arms(n_a: int, n_b: int) -> None:
    """Refuse an unpaired (Welch) comparison with fewer than 3 seeds in an arm."""
    if min(n_a, n_b) < MIN_SEEDS_WELCH:
        raise StatsError(
            f"an unpaired comparison (Welch) needs {MIN_SEEDS_WELCH} or more seeds in each arm, "
            f"got {n_a} for A and {n_b} for B; run both arms on the same seeds (paired), or run "
            f"{MIN_SEEDS_WELCH} or more seeds in each arm"
        )


def check_positive(value: float | None, name: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not (
        isinstance(value, (int, float)) and math.isfinite(value) and value > 0
    ):
        raise StatsError(f"{name}={show(value)} must be a finite number > 0")


def check_finite(value: float, name: str) -> None:
    if isinstance(value, bool) or not (isinstance(value, (int, float)) and math.isfinite(value)):
        raise StatsError(f"{name}={show(value)} must be a finite number")


def check_choice(value: str, name: str) -> None:
    choices: dict[str, tuple[str, ...]] = {
        "method": METHODS,
        "statistic": STATISTICS,
        "better": BETTER,
    }
    allowed = choices[name]
    if value not in allowed:
        raise StatsError(f"unknown {name} {value!r}; use one of: {', '.join(allowed)}")


def check_disagreement(disagreement: float) -> None:
    check_finite(disagreement, "disagreement")
    if disagreement < 1.0:
        raise StatsError(
            f"disagreement={show(disagreement)} must be >= 1: it is the multiple of the tolerance "
            "beyond which a result contradicts the paper (default 3)"
        )


def is_constant(x: FloatArray) -> bool:
    """True when every value is the same (up to a few ulps of rounding)."""
    if x.size < 2:
        return False
    scale = float(np.max(np.abs(x)))
    return bool(float(np.ptp(x)) <= 8.0 * float(np.finfo(np.float64).eps) * max(scale, 1e-300))


#: The 99th percentile, for normal seed values, of the largest distance from the median in
#: scaled MADs, by number of seeds (400,000 simulated reproductions each, seed 20240229;
#: ``simulate.outlier_thresholds`` recomputes it). A seed beyond it is flagged, so a clean
#: reproduction gets a false outlier note about 1% of the time at every n. A fixed "3 MADs"
#: would flag 21-34% of clean reproductions at 3-10 seeds, because a MAD over so few values
#: is itself very noisy; below 5 seeds no threshold is useful (110 MADs at 3 seeds).
OUTLIER_THRESHOLDS: dict[int, float] = {
    5: 18.42,
    6: 10.10,
    7: 10.71,
    8: 8.01,
    9: 8.22,
    10: 6.92,
    11: 7.09,
    12: 6.31,
    13: 6.37,
    14: 5.90,
    15: 5.93,
    16: 5.60,
    17: 5.66,
    18: 5.39,
    19: 5.46,
    20: 5.24,
    21: 5.26,
    22: 5.10,
    23: 5.13,
    24: 4.98,
    25: 5.04,
    26: 4.91,
    27: 4.95,
    28: 4.85,
    29: 4.86,
    30: 4.76,
}


def outlier_threshold(n: int) -> float | None:
    """The flagging distance in MADs for ``n`` seeds; None below 5 seeds (no useful test)."""
    if n < MIN_SEEDS_OUTLIER:
        return None
    return OUTLIER_THRESHOLDS[min(n, max(OUTLIER_THRESHOLDS))]


def outlier_notes(x: FloatArray, seeds: Sequence[int] | None, what: str = "") -> list[str]:
    """Notes for seeds unusually far from the median (from 5 seeds up).

    Distances are in MADs scaled to the sd of normal values (x 1.4826); when more than half
    the seeds share the median value the MAD is 0 and the mean absolute deviation from the
    median (x 1.2533) takes its place. A seed is flagged beyond :func:`outlier_threshold`.
    """
    limit = outlier_threshold(int(x.size))
    if limit is None or is_constant(x):
        return []
    med = float(np.median(x))
    dev = np.abs(x - med)
    scale = MAD_SCALE * float(np.median(dev))
    if scale <= 0:
        scale = MEANAD_SCALE * float(np.mean(dev))
    if scale <= 0:
        return []
    notes = []
    prefix = f"{what}: " if what else ""
    with np.errstate(over="ignore"):
        mads = dev / scale
    for i in np.flatnonzero(mads > limit):
        k = int(i)
        notes.append(
            f"outlier: {prefix}{seed_label(k, seeds)} gave {x[k]:.6g}, {mads[k]:.1f} MADs "
            f"from the median {med:.6g} (clean runs of {x.size} seeds exceed {limit:g} one time "
            "in 100); check that run (the verdict still counts it)"
        )
    return notes


def skewness(x: FloatArray) -> float:
    """Sample skewness ``g1 = m3 / m2^1.5`` (moment estimator)."""
    d = x - x.mean()
    scale = float(np.sqrt(np.mean(d**2)))
    if not scale > 0:
        return 0.0
    return float(np.mean((d / scale) ** 3))


def skew_notes(x: FloatArray, what: str = "") -> list[str]:
    """A note when ``|skewness| > 1`` at 5 or more seeds."""
    if x.size < MIN_SEEDS_SKEW:
        return []
    g1 = skewness(x)
    if abs(g1) <= SKEW_LIMIT:
        return []
    prefix = f"{what}: " if what else ""
    return [
        f"skew: {prefix}the seeds' values are skewed (skewness {g1:+.2f} over {x.size} seeds); "
        "a mean over few skewed values is less reliable — run more seeds, or use "
        "statistic: median with 20 or more seeds"
    ]
