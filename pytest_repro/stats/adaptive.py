"""Adaptive seeding: run seeds in stages and stop once the verdict is settled.

Looking at the verdict after every stage and stopping at the first decided one is a
sequential test; with the fixed-n 90% interval at every look, a reproduction whose
true mean sits at the edge of the tolerance band is falsely "matched" far more often
than 5% (about 0.14 when checked after every seed, see the benchmark). Each look
therefore decides on a wider interval: at look ``k`` the interval has level
``1 - 2 * alphas[k]``, with small ``alphas`` early and most of the error budget kept for
the last look, in the manner of O'Brien and Fleming. The alphas are calibrated so that
the false-matched rate at the band edge stays at 5%, as it is at a fixed seed count.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pytest_repro.errors import StatsError
from pytest_repro.stats.absolute import decide_absolute
from pytest_repro.stats.comparative import decide_comparative
from pytest_repro.stats.intervals import t_quantile
from pytest_repro.stats.model import Verdict

FloatArray = NDArray[np.float64]

DEFAULT_STAGES: tuple[int, ...] = (3, 5, 10)
#: Per-look one-sided levels for the default stages, ``≈ 0.0414 · (n_k / 10)²``.
DEFAULT_ALPHAS: tuple[float, ...] = (0.0037, 0.0103, 0.0414)
#: The false-matched rate at the band edge that calibrated schedules keep.
TARGET_ERROR = 0.05
#: Exponent of the spending shape: ``alpha_k = c · (n_k / n_K) ** SHAPE``.
SHAPE = 2.0
CALIBRATION_SEED = 31415
CALIBRATION_REPS = 200_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Schedule:
    """When to look at the verdict, and how strict each look is.

    ``stages`` are cumulative seed counts (``(3, 5, 10)``: look after 3, 5 and 10 seeds);
    ``alphas[k]`` is the one-sided error level of look ``k``, whose decision interval has
    level ``1 - 2 * alphas[k]``.
    """

    stages: tuple[int, ...]
    alphas: tuple[float, ...]

    def __post_init__(self) -> None:
        _check_stages(self.stages)
        if len(self.alphas) != len(self.stages):
            raise StatsError(
                f"schedule has {len(self.stages)} stages but {len(self.alphas)} alphas; "
                "give one per stage"
            )
        for a in self.alphas:
            if not (isinstance(a, (int, float)) and 0.0 < a < 0.5):
                raise StatsError(f"schedule alpha {a!r} must lie in (0, 0.5)")

    @property
    def levels(self) -> tuple[float, ...]:
        """The two-sided level of each look's decision interval."""
        return tuple(1.0 - 2.0 * a for a in self.alphas)

    def look(self, n: int) -> int:
        """The index of the look ``n`` seeds reach: the largest stage ``<= n``."""
        reached = [k for k, s in enumerate(self.stages) if s <= n]
        if not reached:
            raise StatsError(
                f"{n} seeds reach no look of the schedule {self.stages}; the first look "
                f"needs {self.stages[0]} seeds"
            )
        return reached[-1]


def _check_stages(stages: Sequence[int]) -> tuple[int, ...]:
    out = tuple(stages)
    if not out:
        raise StatsError("adaptive seeding needs at least one stage, e.g. [3, 5, 10]")
    for s in out:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise StatsError(f"stage {s!r} is not a whole number of seeds")
    if out[0] < 2:
        raise StatsError(f"the first stage must be 2 or more seeds, got {out[0]}")
    if any(b <= a for a, b in itertools.pairwise(out)):
        raise StatsError(f"stages {list(out)} must increase strictly (cumulative seed counts)")
    if out[-1] > 1000:
        raise StatsError(f"the last stage ({out[-1]}) exceeds 1000 seeds")
    return tuple(int(s) for s in out)


def _edge_statistics(stages: tuple[int, ...]) -> FloatArray:
    """``(reps, looks)`` t statistics ``(mu - mean) / se`` for normal seeds.

    The worst case for a false "matched" at the band edge is a spread that is small
    next to the tolerance: then the interval's far end never leaves the band, and a
    look says "matched" exactly when its interval's near end stays on the true mean's
    side, i.e. when this statistic exceeds the look's t quantile.
    """
    rng = np.random.default_rng(CALIBRATION_SEED)
    z = rng.standard_normal((CALIBRATION_REPS, stages[-1]))
    out = np.empty((CALIBRATION_REPS, len(stages)))
    for k, n in enumerate(stages):
        head = z[:, :n]
        out[:, k] = -head.mean(axis=1) / (head.std(axis=1, ddof=1) / math.sqrt(n))
    return out


def edge_error(stages: Sequence[int], alphas: Sequence[float]) -> float:
    """The false-"matched" rate at the band edge (spread small next to the tolerance).

    At each look the verdict is "matched" when the statistic clears the look's
    quantile, "exceeded" (settled, stop) when it clears it on the other side, and
    otherwise the seeds go on. Estimated with 200,000 simulated reproductions and a
    fixed seed, so the answer is the same every time.
    """
    st = _check_stages(stages)
    return _edge_error(st, tuple(float(a) for a in alphas))


def _edge_error(stages: tuple[int, ...], alphas: tuple[float, ...]) -> float:
    tstat = _edge_statistics_cached(stages)
    alive = np.ones(tstat.shape[0], dtype=bool)
    matched = np.zeros(tstat.shape[0], dtype=bool)
    for k, (n, a) in enumerate(zip(stages, alphas, strict=True)):
        c = float(t_quantile(1.0 - 2.0 * a, n - 1))
        hit = alive & (tstat[:, k] >= c)
        matched |= hit
        alive &= ~hit & ~(tstat[:, k] <= -c)
    return float(matched.mean())


@lru_cache(maxsize=16)
def _edge_statistics_cached(stages: tuple[int, ...]) -> FloatArray:
    return _edge_statistics(stages)


def _shape(stages: tuple[int, ...]) -> tuple[float, ...]:
    return tuple((s / stages[-1]) ** SHAPE for s in stages)


def _round3(x: float) -> float:
    return float(f"{x:.3g}")


@lru_cache(maxsize=64)
def _calibrated(stages: tuple[int, ...]) -> tuple[float, ...]:
    shape = _shape(stages)
    lo, hi = TARGET_ERROR / 4.0, TARGET_ERROR * 2.0
    for _ in range(40):
        mid = (lo + hi) / 2.0
        err = _edge_error(stages, tuple(mid * w for w in shape))
        if err > TARGET_ERROR:
            hi = mid
        else:
            lo = mid
    return tuple(_round3(lo * w) for w in shape)


def schedule_for(stages: Sequence[int] = DEFAULT_STAGES) -> Schedule:
    """The adaptive schedule for ``stages`` (cumulative seed counts).

    ``(3, 5, 10)`` gives alphas ``(0.0037, 0.0103, 0.0414)``. Other stages get alphas of
    the same O'Brien–Fleming-type shape, ``alpha_k = c · (n_k / n_last)²``, with ``c``
    calibrated (fixed-seed simulation, deterministic) so that the false-"matched" rate
    at the band edge is 5%, the fixed-n rate. One stage is the fixed-n test (alpha 0.05).

    >>> schedule_for().alphas
    (0.0037, 0.0103, 0.0414)
    """
    st = _check_stages(stages)
    if st == DEFAULT_STAGES:
        return Schedule(stages=st, alphas=DEFAULT_ALPHAS)
    if len(st) == 1:
        return Schedule(stages=st, alphas=(TARGET_ERROR,))
    return Schedule(stages=st, alphas=_calibrated(st))


def _annotate(
    verdict: Verdict, schedule: Schedule, k: int, available: int, settled: bool
) -> Verdict:
    stage = schedule.stages[k]
    last = k == len(schedule.stages) - 1
    note = (
        f"adaptive seeds: look {k + 1} of {len(schedule.stages)} at {stage} seeds, "
        f"decision interval at {schedule.levels[k]:.2%}"
    )
    if settled and not last:
        note += "; settled, no more seeds needed"
    elif not settled:
        note += f"; not settled, run seeds up to {schedule.stages[k + 1]}"
    notes = [note]
    if available > stage:
        notes.append(
            f"adaptive seeds: {available - stage} value(s) beyond the look at {stage} seeds "
            "were not used (looks happen only at the schedule's stages)"
        )
    return dataclasses.replace(verdict, notes=(*verdict.notes, *notes))


def _reject_level(kwargs: dict[str, Any]) -> None:
    if "decide_level" in kwargs:
        raise StatsError(
            "decide_level is set by the adaptive schedule (1 - 2 * alpha at each look); "
            "leave it out"
        )


def decide_sequential(
    values: Sequence[float], *, schedule: Schedule, **absolute_kwargs: Any
) -> tuple[bool, Verdict]:
    """Look at an absolute claim's verdict at the largest stage ``<= len(values)``.

    Returns ``(settled, verdict)``: settled when the look's interval decides the claim
    (matched, gap, exceeded or disagreement), and always at the last stage (where an
    undecided claim stays inconclusive). The other keywords are those of
    :func:`~pytest_repro.stats.absolute.decide_absolute`.

    >>> settled, v = decide_sequential([0.981, 0.983, 0.982], schedule=schedule_for(),
    ...                                paper=0.982, tolerance=0.01)
    >>> settled, v.outcome, v.interval.level
    (True, 'matched', 0.9926)
    """
    _reject_level(absolute_kwargs)
    vals = list(values)
    k = schedule.look(len(vals))
    stage = schedule.stages[k]
    kwargs = dict(absolute_kwargs)
    for key in ("seeds", "examples"):
        if kwargs.get(key) is not None:
            kwargs[key] = list(kwargs[key])[:stage]
    verdict = decide_absolute(vals[:stage], decide_level=schedule.levels[k], **kwargs)
    settled = verdict.decided or k == len(schedule.stages) - 1
    return settled, _annotate(verdict, schedule, k, len(vals), settled)


def decide_sequential_comparative(
    a: Sequence[float], b: Sequence[float], *, schedule: Schedule, **comparative_kwargs: Any
) -> tuple[bool, Verdict]:
    """:func:`decide_sequential` for a comparative claim; ``n`` counts pairs (paired) or
    the smaller arm (unpaired). Keywords are those of
    :func:`~pytest_repro.stats.comparative.decide_comparative`.
    """
    _reject_level(comparative_kwargs)
    va, vb = list(a), list(b)
    n = min(len(va), len(vb))
    k = schedule.look(n)
    stage = schedule.stages[k]
    kwargs = dict(comparative_kwargs)
    if kwargs.get("seeds") is not None:
        kwargs["seeds"] = list(kwargs["seeds"])[:stage]
    verdict = decide_comparative(va[:stage], vb[:stage], decide_level=schedule.levels[k], **kwargs)
    settled = verdict.decided or k == len(schedule.stages) - 1
    return settled, _annotate(verdict, schedule, k, max(len(va), len(vb)), settled)
