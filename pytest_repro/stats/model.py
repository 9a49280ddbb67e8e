"""The vocabulary of the statistics engine: outcomes, methods and the verdict record.

Everything here is a frozen dataclass or a ``Literal``; nothing computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pytest_repro.vocab import (
    BETTER,
    METHOD_MIN_SEEDS,
    METHODS,
    OUTCOMES,
    SPREAD_KINDS,
    STATISTICS,
    Better,
    Direction,
    Method,
    Outcome,
    SpreadKind,
    Statistic,
)

__all__ = [
    "BETTER",
    "BOOTSTRAP_RESAMPLES",
    "DEFAULT_SEED",
    "MAX_SEEDS_NEEDED",
    "METHODS",
    "MIN_SEEDS_BCA",
    "MIN_SEEDS_BOOTSTRAP_T",
    "MIN_SEEDS_HIERARCHICAL",
    "OUTCOMES",
    "SPREAD_KINDS",
    "STATISTICS",
    "Better",
    "Direction",
    "Interval",
    "Method",
    "Outcome",
    "PaperSpread",
    "SpreadKind",
    "Statistic",
    "Verdict",
]

#: The seed used when a function that resamples is given ``rng=None``; results are
#: reproducible run to run either way.
DEFAULT_SEED = 20240229

#: Bootstrap resamples for bootstrap-t and BCa. ``(B + 1) * alpha`` is a whole number
#: for every level we use, so the interval ends are order statistics, not interpolations.
BOOTSTRAP_RESAMPLES = 9999

#: Seed counts below which a method is not offered (its coverage is too far below nominal).
MIN_SEEDS_BOOTSTRAP_T = METHOD_MIN_SEEDS["bootstrap-t"]
MIN_SEEDS_BCA = METHOD_MIN_SEEDS["bca"]
MIN_SEEDS_HIERARCHICAL = METHOD_MIN_SEEDS["hierarchical"]

#: ``seeds_needed`` searches seed counts up to this.
MAX_SEEDS_NEEDED = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class Interval:
    """A two-sided interval at ``level`` (``0.90`` is a 90% interval).

    The ends may be infinite: one seed without the paper's spread has no interval.
    """

    low: float
    high: float
    level: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperSpread:
    """The paper's own ``±``: ``value`` is the number after it and ``kind`` says what it is.

    ``sd``: the standard deviation over the paper's ``seeds`` runs; ``se``: the standard
    error of the paper's mean; ``ci95``: the half-width of a 95% interval on that mean.
    ``seeds`` is the paper's number of runs (at least 2).

    >>> PaperSpread(value=0.004, kind="sd", seeds=5)
    PaperSpread(value=0.004, kind='sd', seeds=5, ci_method='t')
    """

    value: float
    kind: SpreadKind
    seeds: int
    #: For ``ci95``: ``t`` (``t_{0.975, m-1} · se``, the default) or ``normal`` (``1.96 · se``).
    ci_method: Literal["t", "normal"] = "t"


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """What the seeds say about one claim.

    ``estimate`` is the statistic over seeds (for a comparative claim, the improvement of
    A over B); ``interval`` is the interval the decision used (90% at a fixed seed count,
    the look's level when seeds are adaptive) and ``shown`` the 95% interval reports
    display. ``delta`` is ``estimate - reference``, where the reference is the paper's
    value (comparative: the paper's improvement when given, else the margin).
    ``seeds_needed`` is the smallest seed count that would have decided the claim if the
    mean and spread stayed as measured (``None`` when no count up to 1000 would, or there
    is no spread to extrapolate from). ``deviation_in_tol`` is
    ``|estimate - reference| / tolerance`` whenever there is a tolerance.
    """

    outcome: Outcome
    estimate: float
    interval: Interval
    shown: Interval
    delta: float
    n: int
    method: str
    seeds_needed: int | None
    deviation_in_tol: float | None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def decided(self) -> bool:
        """True unless the outcome is ``inconclusive``."""
        return self.outcome != "inconclusive"
