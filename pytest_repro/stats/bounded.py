"""Metrics with a range: a fraction lies in [0, 1], a percentage in [0, 100].

A verdict's intervals are clipped to the metric's range, so no report shows an
accuracy above 100%. Clipping the decision interval is also the one-sided test where
the tolerance band reaches a bound (``paper + tol >= 1``): the interval's far end can
then never leave the band, and only the other side is tested, at the one-sided level
of the two-sided interval (5% for the 90% interval).
"""

from __future__ import annotations

import dataclasses
import math

from pytest_repro.errors import StatsError
from pytest_repro.stats.checks import show
from pytest_repro.stats.computed import Computed

#: The range a unit implies; units not listed are unbounded.
UNIT_BOUNDS: dict[str, tuple[float, float]] = {
    "fraction": (0.0, 1.0),
    "percent": (0.0, 100.0),
    "%": (0.0, 100.0),
}


def bounds_for_unit(unit: str | None) -> tuple[float, float] | None:
    """The range of a claim's ``unit:`` (``"fraction"`` gives ``(0.0, 1.0)``), else ``None``.

    >>> bounds_for_unit("percent"), bounds_for_unit("loss")
    ((0.0, 100.0), None)
    """
    return UNIT_BOUNDS.get(unit.strip().lower()) if unit else None


def claim_bounds(unit: str | None, paper: float | None) -> tuple[float, float] | None:
    """The range a claim's unit implies, when the paper's value lies in it (else None).

    >>> claim_bounds("fraction", 0.9), claim_bounds("fraction", 1.5)
    ((0.0, 1.0), None)
    """
    found = bounds_for_unit(unit)
    if found is None or paper is None or not found[0] <= paper <= found[1]:
        return None
    return found


def check_bounds(bounds: tuple[float, float] | None, paper: float) -> tuple[float, float]:
    """``(low, high)`` of a usable range holding ``paper``; ``(-inf, inf)`` for ``None``."""
    if bounds is None:
        return -math.inf, math.inf
    try:
        low, high = (float(b) for b in bounds)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"bounds={bounds!r} must be two numbers (low, high): {exc}") from exc
    if math.isnan(low) or math.isnan(high) or not low < high:
        raise StatsError(f"bounds={bounds!r} must be (low, high) with low < high")
    if not low <= paper <= high:
        raise StatsError(
            f"paper={show(paper)} lies outside the metric's range [{low:g}, {high:g}]; "
            "check the unit (a fraction is 0..1, a percent 0..100)"
        )
    return low, high


def clip_to_bounds(c: Computed, low: float, high: float) -> tuple[Computed, list[str]]:
    """``c`` with both intervals clipped to ``[low, high]``, and a note when it changed."""
    if low == -math.inf and high == math.inf:
        return c, []
    decide = (max(c.decide[0], low), min(c.decide[1], high))
    shown = (max(c.show[0], low), min(c.show[1], high))
    if decide == c.decide and shown == c.show:
        return c, []
    note = (
        f"bounded metric: the interval is clipped to the range [{low:g}, {high:g}]; where the "
        "tolerance band reaches a bound, only the other side is tested (one-sided)"
    )
    return dataclasses.replace(c, decide=decide, show=shown), [note]
