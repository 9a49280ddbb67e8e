"""Claims about a curve over a swept parameter: the shared types and paired tests.

The data for one claim are ``xs``, the ``K`` swept values, and ``values``, an array of
shape ``(n_seeds, K)``: row ``i`` is seed ``i``'s metric at each swept value. The same
seeds run at every point, so a difference between two points is paired by seed. A
``NaN`` entry is a missing run: every comparison that needs it leaves that seed out, and
the verdict's notes say so.

The rules live in :mod:`.trend` (monotone, slope), :mod:`.peak` and :mod:`.curve`; see
``docs/statistics-sweeps.md``. What the fields of the :class:`~.model.Verdict` inside a
:class:`SweepVerdict` mean for each kind:

* ``trend``: ``estimate`` is the deciding adjacent step in the claimed direction
  (positive: the claimed way), ``interval`` its 90% paired-t interval (``shown``: 95%),
  ``delta = estimate - margin``, ``deviation_in_tol`` is ``None``;
* ``slope``: the verdict of :func:`~.absolute.decide_absolute` on the per-seed slopes
  (``estimate``: their mean, ``delta``: minus the paper's slope, ``deviation_in_tol``:
  ``|delta| / tolerance``);
* ``peak``: ``estimate`` is the smallest margin by which the best in-range point beats an
  outside point, with its Bonferroni-adjusted interval, ``delta = estimate``;
* ``curve``: ``estimate`` is the mean at the worst point, ``delta`` its deviation from the
  paper, ``deviation_in_tol`` ``|delta| / tolerance`` there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special

from pytest_repro.errors import StatsError
from pytest_repro.stats.intervals import t_quantile
from pytest_repro.stats.model import Interval, Verdict
from pytest_repro.stats.rules import FALLBACK_FLOOR_FRACTION, identical_rows

FloatArray = NDArray[np.float64]
SweepKind = Literal["trend", "slope", "peak", "curve"]

#: One-sided level of every decision test (two-sided 90% intervals).
ALPHA = 0.05
#: Level of the simultaneous band shown over the points.
SHOW_LEVEL = 0.95


@dataclass(frozen=True, slots=True, kw_only=True)
class PointSummary:
    """One swept value: the seeds' mean and a 95% *simultaneous* band over all points.

    ``low``/``high`` are Bonferroni-t: each point's Student-t interval at level
    ``1 - 0.05 / K``, so all ``K`` cover at once with probability at least 95%. ``n`` is
    the number of seeds with a value here; ``values`` are those values.

    >>> PointSummary(x=1.0, mean=0.5, low=0.4, high=0.6, n=3, values=(0.45, 0.5, 0.55)).n
    3
    """

    x: float
    mean: float
    low: float
    high: float
    n: int
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class StepSummary:
    """One adjacent step of a trend: ``difference`` is ``mean(value(x_to) - value(x_from))``
    over the ``n`` seeds with both values; ``interval`` (90%) and ``shown`` (95%) are its
    paired-t intervals; ``p_value`` is the one-sided p of "the step is not in the claimed
    direction by more than the margin"; ``p_against`` the Holm-adjusted p of "the step is
    not against the claimed direction".
    """

    x_from: float
    x_to: float
    difference: float
    interval: Interval
    shown: Interval
    p_value: float
    p_against: float
    n: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepVerdict:
    """The verdict on a claim about a curve, and what a report draws.

    ``verdict`` is an ordinary :class:`~.model.Verdict` (its fields per kind are listed in
    this module's docstring). ``points`` summarise every swept value; ``steps`` the
    adjacent steps (trend); ``location``/``location_estimate`` the extremum's x (peak);
    ``fit`` ``(intercept, slope)`` of the seed-mean line on ``scale`` (slope).
    """

    kind: SweepKind
    verdict: Verdict
    points: tuple[PointSummary, ...]
    steps: tuple[StepSummary, ...] = ()
    location: Interval | None = None
    location_estimate: float | None = None
    fit: tuple[float, float] | None = None
    scale: str | None = None

    @property
    def outcome(self) -> str:
        return self.verdict.outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class SweepData:
    """Checked input: ``xs`` increasing ``(K,)``, ``values`` ``(n, K)`` with NaN for missing."""

    xs: FloatArray = field(compare=False)
    values: FloatArray = field(compare=False)

    @property
    def k(self) -> int:
        return int(self.xs.size)

    @property
    def n(self) -> int:
        return int(self.values.shape[0])


def fmt(x: float) -> str:
    return f"{x:g}"


def check_sweep(xs: ArrayLike, values: ArrayLike, *, min_points: int = 2) -> SweepData:
    """``xs`` and ``values`` checked and sorted by ``xs``, or :class:`StatsError`.

    >>> check_sweep([2.0, 1.0], [[0.2, 0.1], [0.3, 0.2]]).values.tolist()
    [[0.1, 0.2], [0.2, 0.3]]
    """
    try:
        x = np.asarray(xs, dtype=np.float64)
        v = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise StatsError(f"xs and values must be numbers: {exc}") from exc
    if x.ndim != 1 or x.size < min_points:
        raise StatsError(
            f"xs must be a flat list of at least {min_points} swept values, got shape {x.shape}"
        )
    if not np.isfinite(x).all():
        raise StatsError("xs: every swept value must be a finite number")
    if v.ndim != 2 or v.shape[1] != x.size:
        raise StatsError(
            f"values must have shape (n_seeds, {x.size}): one row per seed, one column per "
            f"swept value; got shape {v.shape}"
        )
    if v.shape[0] < 1:
        raise StatsError("values has no seeds: at least one row is needed")
    if np.isinf(v).any():
        i, j = (int(a[0]) for a in np.nonzero(np.isinf(v)))
        raise StatsError(
            f"values: seed index {i} at x={fmt(float(x[j]))} is {fmt(float(v[i, j]))}; write NaN for a "
            "missing or failed run"
        )
    order = np.argsort(x, kind="stable")
    x, v = x[order], v[:, order]
    if np.any(np.diff(x) <= 0):
        dup = float(x[int(np.flatnonzero(np.diff(x) <= 0)[0])])
        raise StatsError(f"xs: the swept value {fmt(dup)} appears twice; give each value once")
    empty = np.flatnonzero(~np.isfinite(v).any(axis=0))
    if empty.size:
        raise StatsError(
            f"no seed has a value at x={fmt(float(x[int(empty[0])]))}; every swept value needs "
            "at least one run"
        )
    return SweepData(xs=x, values=v)


def missing_note(data: SweepData) -> list[str]:
    """One note naming the missing (NaN) values, or none."""
    where = np.argwhere(np.isnan(data.values))
    if not where.size:
        return []
    named = ", ".join(f"seed index {i} at x={fmt(float(data.xs[j]))}" for i, j in where[:10])
    more = f" (and {len(where) - 10} more)" if len(where) > 10 else ""
    return [f"missing values: {named}{more}; each comparison that needs one leaves that seed out"]


def point_summaries(data: SweepData, level: float = SHOW_LEVEL) -> tuple[PointSummary, ...]:
    """Each point's mean and its Bonferroni-t simultaneous band at ``level``."""
    each = 1.0 - (1.0 - level) / data.k
    out = []
    for j in range(data.k):
        col = data.values[:, j]
        col = col[np.isfinite(col)]
        mean = float(col.mean())
        if col.size > 1:
            h = float(t_quantile(each, col.size - 1)) * float(col.std(ddof=1)) / math.sqrt(col.size)
        else:
            h = math.inf
        out.append(
            PointSummary(
                x=float(data.xs[j]),
                mean=mean,
                low=mean - h,
                high=mean + h,
                n=int(col.size),
                values=tuple(float(c) for c in col),
            )
        )
    return tuple(out)


def paired(data: SweepData, i: int, j: int) -> tuple[FloatArray, tuple[int, ...]]:
    """``value(x_j) - value(x_i)`` per seed with both values, and the seeds left out."""
    a, b = data.values[:, i], data.values[:, j]
    ok = np.isfinite(a) & np.isfinite(b)
    return b[ok] - a[ok], tuple(int(s) for s in np.flatnonzero(~ok))


def copies(data: SweepData, i: int, j: int) -> bool:
    """Whether the seeds with values at both ``x_i`` and ``x_j`` are copies of one run:
    at least 2 of them, and each of the two columns the same for all (relative ``1e-12``).
    """
    a, b = data.values[:, i], data.values[:, j]
    ok = np.isfinite(a) & np.isfinite(b)
    if int(ok.sum()) < 2:
        return False
    both = np.vstack([a[ok], b[ok]])
    return bool(identical_rows(both).all())


def paired_t(
    d: ArrayLike,
    *,
    resolution: float | None = None,
    floor: float | None = None,
    single: ArrayLike | bool = False,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Row means, standard errors and df of paired differences ``d`` (``(rows, n)``).

    With one difference the standard error is ``nan`` (no test can be made). The sd of
    the differences is floored as the absolute rule floors a spread
    (``docs/statistics.md``, *Edge cases*): a known ``resolution`` replaces any smaller
    sd; otherwise ``floor`` (default: a tenth of the row's ``|mean|``) is used as
    ``max(sd, floor - sd)``, which only changes an sd below ``floor / 2``. Rows marked
    ``single`` (both swept values are copies of one run on every seed) count as one
    effective difference: its standard error is ``resolution`` or ``floor`` itself, not
    divided by ``sqrt(n)``, with a normal quantile (``df = inf``); without either it is
    ``inf`` (no spread to test against: never significant).

    >>> m, se, df = paired_t([[1.0, 2.0, 3.0]])
    >>> float(m[0]), round(float(se[0]), 4), float(df[0])
    (2.0, 0.5774, 2.0)
    >>> m, se, df = paired_t([[0.2, 0.2, 0.2]], resolution=0.01)
    >>> round(float(se[0]), 5), float(df[0])
    (0.00577, 2.0)
    >>> m, se, df = paired_t([[0.2, 0.2, 0.2]], single=True)
    >>> float(se[0]), float(df[0])
    (inf, inf)
    """
    arr = np.atleast_2d(np.asarray(d, dtype=np.float64))
    rows, n = arr.shape
    mean = arr.mean(axis=1) if n else np.full(rows, np.nan)
    if n < 2:
        return mean, np.full(rows, np.nan), np.zeros(rows)
    sd = arr.std(axis=1, ddof=1)
    scale = np.max(np.abs(arr), axis=1)
    sd = np.where(sd <= 8.0 * np.finfo(np.float64).eps * np.maximum(scale, 1e-300), 0.0, sd)
    if resolution is not None:
        sd = np.maximum(sd, resolution)
        one_sd = np.full(rows, float(resolution))
    else:
        f = FALLBACK_FLOOR_FRACTION * np.abs(mean) if floor is None else np.full(rows, floor)
        sd = np.maximum(sd, f - sd)
        one_sd = np.full(rows, math.inf if floor is None else float(floor))
    one = np.broadcast_to(np.asarray(single, dtype=bool), (rows,))
    se = np.where(one, one_sd, sd / math.sqrt(n))
    df = np.where(one, math.inf, float(n - 1))
    return mean, se, df


def p_greater(mean: ArrayLike, se: ArrayLike, df: ArrayLike, edge: float) -> FloatArray:
    """One-sided t p-value against "the true mean is at most ``edge``".

    ``p < 0.05`` exactly when the 90% interval's lower end lies above ``edge``. A zero
    standard error (identical differences) gives 0 above the edge and 1 otherwise; no
    standard error (one difference) gives 1.

    >>> round(float(p_greater(2.0, 0.5774, 2.0, 0.0)), 4)
    0.0371
    """
    m = np.asarray(mean, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    f = np.asarray(df, dtype=np.float64)
    ok = np.isfinite(s) & (s > 0) & (f > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = np.where(ok, (m - edge) / np.where(ok, s, 1.0), 0.0)
        p = np.asarray(special.stdtr(np.where(ok, f, 1.0), -t), dtype=np.float64)
    zero = np.isfinite(s) & (s == 0) & (f > 0)
    p = np.where(zero, np.where(m > edge, 0.0, 1.0), p)
    return np.asarray(np.where(ok | zero, p, 1.0), dtype=np.float64)


def t_interval(mean: float, se: float, df: float, level: float) -> Interval:
    """``mean ± t · se`` at ``level``; unbounded without a standard error."""
    if not (math.isfinite(se) and df > 0):
        return Interval(low=-math.inf, high=math.inf, level=level)
    h = float(t_quantile(level, df)) * se
    return Interval(low=mean - h, high=mean + h, level=level)


def dropped_note(what: str, dropped: Sequence[int]) -> list[str]:
    if not dropped:
        return []
    return [f"{what}: left out seed index {', '.join(str(i) for i in dropped)} (missing value)"]


__all__ = [
    "ALPHA",
    "SHOW_LEVEL",
    "PointSummary",
    "StepSummary",
    "SweepData",
    "SweepKind",
    "SweepVerdict",
    "check_sweep",
    "copies",
    "missing_note",
    "p_greater",
    "paired",
    "paired_t",
    "point_summaries",
]
