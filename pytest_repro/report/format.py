"""Numbers and verdict labels as reproduction reports write them.

``unit: fraction`` shows 0.982 as ``98.2%`` and a difference of 0.005 as
``0.5 pp`` (percentage points, never a relative %). The number of decimals
follows the tolerance, so a claim with a 2 pp tolerance is not shown to 0.001 pp.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_repro.report.escape import one_line


@dataclass(frozen=True, slots=True)
class Units:
    """Formats values and differences of one claim's metric."""

    unit: str | None = None
    tolerance: float | None = None

    @property
    def scale(self) -> float:
        return 100.0 if self.unit == "fraction" else 1.0

    @property
    def percent(self) -> bool:
        return self.unit in ("fraction", "percent")

    def decimals(self) -> int:
        if self.tolerance is None or self.tolerance <= 0:
            return 1 if self.percent else 3
        shown = self.tolerance * self.scale
        return max(1 if self.percent else 2, min(6, -math.floor(math.log10(shown)) + 1))

    def value(self, x: float | None) -> str:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "n/a"
        if self.percent:
            return f"{x * self.scale:.{self.decimals()}f}%"
        return _plain(x, self.decimals()) + self._suffix()

    def diff(self, x: float | None, *, signed: bool = True) -> str:
        """A difference: ``+0.5 pp`` for percentages, ``-0.012`` otherwise."""
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return "n/a"
        decimals = self.decimals()
        shown = x * self.scale
        if round(shown, decimals) == 0:
            shown = 0.0  # no "-0.0"
        sign = "+" if signed and round(shown, decimals) > 0 else ""
        if self.percent:
            return f"{sign}{shown:.{decimals}f} pp"
        return sign + _plain(shown, decimals) + self._suffix()

    def magnitude(self, x: float) -> str:
        return self.diff(abs(x), signed=False)

    def interval(self, bounds: Sequence[float] | None) -> str:
        if not bounds:
            return "n/a"
        low, high = bounds
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            return "unbounded"
        return f"[{self.value(low)}, {self.value(high)}]"

    def diff_interval(self, bounds: Sequence[float] | None) -> str:
        """An interval of differences: ``[+27.4, +28.5] pp``."""
        if not bounds:
            return "n/a"
        low, high = bounds
        if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
            return "unbounded"
        if self.percent:
            return f"[{self.diff(low).removesuffix(' pp')}, {self.diff(high)}]"
        return f"[{self.diff(low)}, {self.diff(high)}]"

    def _suffix(self) -> str:
        if self.unit and not self.percent:
            return f" {one_line(self.unit)}"  # a value is shown on one line
        return ""


def _plain(x: float, decimals: int) -> str:
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 10 ** (-decimals)):
        return f"{x:.3g}"
    return f"{x:.{decimals}f}"


def first_sentence(text: str, limit: int = 80) -> str:
    """A label keeps the first sentence (cut at ``limit`` characters); reports keep the whole text.

    A label is one line: line breaks become spaces and control characters escapes
    (:func:`~pytest_repro.report.escape.plain`), wherever it is printed.
    """
    first = one_line(text).strip().split(". ")[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rstrip() + "…"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def size(n: int) -> str:
    """A byte count for people: ``312.0 MiB``, ``1.2 GiB``, ``512 B``."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


def at_text(at: Mapping[str, Any]) -> str:
    """The words for a result's ``at`` (``At.to_json`` of the spec): ``epoch 5``, ``final``, ..."""
    arms = at.get("arms")
    if isinstance(arms, Sequence) and len(arms) == 2:  # a comparison read at two points
        return f"A at {at_text(arms[0])}, B at {at_text(arms[1])}"
    if at.get("final"):
        return "final (the last logged point)"
    first = at.get("first")
    if isinstance(first, Mapping):
        side, value = (">=", first.get("above")) if "above" in first else ("<=", first.get("below"))
        return f"first {first.get('axis', 'step')} where {first.get('metric')} {side} {value}"
    return ", ".join(f"{k} {v}" for k, v in at.items())
