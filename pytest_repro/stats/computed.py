"""The interval a claim's verdict is decided on, computed before its outcome is known.

Absolute and comparative claims both build a :class:`Computed`: from a Student-t
interval on one sample (:func:`t_interval`: an absolute claim's seed values, or a
paired comparison's differences) or from a bootstrap result (:func:`from_bootstrap`).
Each also carries the half-widths at other seed counts that ``seeds_needed`` reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pytest_repro.stats.checks import is_constant
from pytest_repro.stats.intervals import t_quantile
from pytest_repro.stats.model import DEFAULT_SEED, PaperSpread
from pytest_repro.stats.rules import Floor, absolute_t, candidate_seeds, halfwidths_t

FloatArray = NDArray[np.float64]
#: The "interval" of a claim that has none (one seed per arm, no paper spread).
UNBOUNDED = (-math.inf, math.inf)


def default_rng(rng: np.random.Generator | None) -> np.random.Generator:
    """``rng``, or a generator seeded with :data:`~.model.DEFAULT_SEED`."""
    return np.random.default_rng(DEFAULT_SEED) if rng is None else rng


@dataclass(frozen=True, slots=True, kw_only=True)
class Computed:
    """An interval computation for one claim, before the outcome is decided.

    ``decide`` is the interval at the decision level and ``show`` the one reports
    display. ``needed_ns`` and ``needed_hw`` are candidate seed counts and the
    decision-level half-width each would give if the spread stayed as measured
    (``None`` when there is no spread to extrapolate from).
    """

    estimate: float
    decide: tuple[float, float]
    show: tuple[float, float]
    method: str
    needed_ns: NDArray[np.int64] | None
    needed_hw: FloatArray | None
    notes: tuple[str, ...] = ()


def from_bootstrap(
    est: FloatArray,
    low: FloatArray,
    high: FloatArray,
    method: str,
    n: int,
    decide_level: float,
) -> Computed:
    """Package a bootstrap result; seeds_needed extrapolates its width like a t interval."""
    half = (float(high[0, 0]) - float(low[0, 0])) / 2.0
    sd_eff = half / float(t_quantile(decide_level, n - 1)) * math.sqrt(n)
    ns = candidate_seeds(2)
    hw = halfwidths_t(sd_eff, ns, decide_level)
    return Computed(
        estimate=float(est[0]),
        decide=(float(low[0, 0]), float(high[0, 0])),
        show=(float(low[1, 0]), float(high[1, 0])),
        method=method,
        needed_ns=ns,
        needed_hw=hw,
    )


def t_interval(
    x: FloatArray,
    levels: tuple[float, float],
    *,
    spread: PaperSpread | None,
    spread_sd: float | None,
    floor: Floor,
    why: str = "",
    single: bool | None = None,
    what: str = "seeds",
) -> Computed:
    """The Student-t interval on the mean of ``x`` at ``levels`` (decide, show).

    With the paper's ``spread`` (and its sd, ``spread_sd``) few seeds borrow the paper's
    spread; a spread below ``floor`` is raised to it, and ``why`` ends that note.
    Identical values (``single``: by default detected) are one effective value.
    """
    n = x.size
    m = spread.seeds if spread is not None else None
    tb = absolute_t(
        x[np.newaxis, :], levels, spread_sd=spread_sd, spread_m=m, floor=floor, single=single
    )
    if tb.single is not None and bool(tb.single[0]):
        return _single(x, tb.estimate, tb.low, tb.high, spread_sd, m, floor, what)
    notes: list[str] = []
    if tb.pooled and spread_sd is not None and m is not None:
        own = float(tb.own_sd[0])
        method = f"pooled student-t (paper sd, m={m}, df={int(tb.df[0])})"
        if n == 1:
            notes.append(
                f"pooling: one seed carries no spread; the interval uses the paper's sd "
                f"{spread_sd:.4g} over its {m} runs (df={m - 1})"
            )
        elif own > spread_sd:  # then own > pooled too, and the guard keeps own
            notes.append(
                f"pooling: {n} seeds borrow the paper's spread (sd {spread_sd:.4g}, m={m}); the "
                f"seeds' own sd {own:.4g} is larger and is used, with df={n + m - 2}"
            )
        else:
            notes.append(
                f"pooling: {n} seeds borrow the paper's spread (sd {spread_sd:.4g}, m={m}): "
                f"pooled sd {float(tb.sd[0]):.4g}, df={n + m - 2}"
            )
    else:
        method = "student-t"
    if bool(tb.floored[0]):
        reason = (
            f"all {n} seeds gave {x[0]:.6g}"
            if is_constant(x)
            else f"the spread ({'pooled ' if tb.pooled else ''}sd) is below the floor"
        )
        used = "" if floor.known_step else f" (max(sd, floor - sd) = {float(tb.sd[0]):.6g})"
        notes.append(f"spread floor: {reason}; the floor is {floor.describe()}{used}{why}")
    ns: NDArray[np.int64] | None = None
    hw: FloatArray | None = None
    if n > 1 or spread_sd is not None:
        own_sd = float(spread_sd or 0.0) if n == 1 else float(tb.own_sd[0])
        ns = candidate_seeds(1 if spread_sd is not None else 2)
        hw = halfwidths_t(own_sd, ns, levels[0], spread_sd=spread_sd, spread_m=m, floor=floor)
    return Computed(
        estimate=float(tb.estimate[0]),
        decide=(float(tb.low[0, 0]), float(tb.high[0, 0])),
        show=(float(tb.low[1, 0]), float(tb.high[1, 0])),
        method=method,
        needed_ns=ns,
        needed_hw=hw,
        notes=tuple(notes),
    )


def identical_note(x: FloatArray, what: str = "seeds") -> str:
    """The note on seeds that all gave the same value."""
    return (
        f"identical seeds: all {x.size} {what} gave {x[0]:.6g}: the seed may not reach the random "
        "generators, or the run is deterministic; copies of one run count as one value "
        "(n_eff = 1), so more seeds will not narrow the interval unless they differ"
    )


def _single(
    x: FloatArray,
    estimate: FloatArray,
    low: FloatArray,
    high: FloatArray,
    spread_sd: float | None,
    m: int | None,
    floor: Floor,
    what: str,
) -> Computed:
    """The interval of one effective value (every seed gave the same value)."""
    notes = [identical_note(x, what)]
    if spread_sd is not None and m is not None:
        method = f"one effective value (paper sd, m={m}, df={m - 1})"
        notes.append(
            f"one effective value: the interval uses the paper's sd {spread_sd:.4g} over its "
            f"{m} runs (df={m - 1}), not divided by sqrt({x.size})"
        )
    elif floor.source == "estimate":
        method = "one effective value"
        notes.append(
            "one effective value and no known spread (no resolution, tolerance or margin): "
            "no interval — give resolution:, or make the seeds reach the run"
        )
    else:
        method = "one effective value (spread floor)"
        notes.append(
            f"one effective value: its spread is taken as the floor, {floor.describe()}, "
            "with a normal quantile; decided only when the whole interval lies on one side"
        )
    # More copies give the same interval: it decides at the fewest seeds that show the copies
    # (1 with the paper's spread, else 2) or never.
    half = (float(high[0, 0]) - float(low[0, 0])) / 2.0
    first = 1 if spread_sd is not None else 2
    ns = np.array([first], dtype=np.int64) if math.isfinite(half) else None
    hw = np.array([half], dtype=np.float64) if math.isfinite(half) else None
    return Computed(
        estimate=float(estimate[0]),
        decide=(float(low[0, 0]), float(high[0, 0])),
        show=(float(low[1, 0]), float(high[1, 0])),
        method=method,
        needed_ns=ns,
        needed_hw=hw,
        notes=tuple(notes),
    )
