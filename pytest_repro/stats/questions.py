"""A claim's statistics question as a typed record, and the functions that answer it.

An :class:`AbsoluteQuestion` or :class:`ComparativeQuestion` holds everything the
verdict depends on besides the per-seed values: the paper's number and tolerance, the
direction, the interval method, the generator that drives any resampling. Answering it
gives ``(settled, verdict)``: at a fixed seed count the answer is always settled; with
an adaptive :class:`~.adaptive.Schedule` it is settled once a look decides the claim.

>>> question = AbsoluteQuestion(paper=0.982, tolerance=0.01)
>>> settled, verdict = answer_absolute([0.981, 0.984, 0.979], question)
>>> settled, verdict.outcome
(True, 'matched')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pytest_repro.stats.absolute import decide_absolute
from pytest_repro.stats.adaptive import (
    Schedule,
    decide_sequential,
    decide_sequential_comparative,
)
from pytest_repro.stats.comparative import decide_comparative
from pytest_repro.stats.model import Better, Direction, Method, PaperSpread, Statistic, Verdict
from pytest_repro.stats.robust import About


@dataclass(frozen=True, slots=True, kw_only=True)
class AbsoluteQuestion:
    """An absolute claim's question: is the metric ``paper`` ± ``tolerance``?

    The fields are the keywords of :func:`~.absolute.decide_absolute`, with its
    defaults; the decision and display levels are left to the decider (or the
    schedule). ``rng`` drives bootstrap methods (``None``: a fixed default seed).

    >>> AbsoluteQuestion(paper=0.9, tolerance=0.01, method="bootstrap-t").method
    'bootstrap-t'
    """

    paper: float
    tolerance: float
    better: Better = "higher"
    method: Method = "auto"
    disagreement: float = 3.0
    paper_spread: PaperSpread | None = None
    statistic: Statistic = "mean"
    resolution: float | None = None
    examples: Sequence[Sequence[float]] | None = None
    seeds: Sequence[int] | None = None
    rng: np.random.Generator | None = None
    bounds: tuple[float, float] | None = None
    failed_below: float | None = None
    about: About = "mean"
    deterministic: bool = False
    test_examples: int | None = None
    skewed_seeds: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ComparativeQuestion:
    """A comparative claim's question: does A beat B (by ``margin``, or by ``paper_delta``
    ± ``tolerance``)?

    The fields are the keywords of :func:`~.comparative.decide_comparative`, with its
    defaults; ``paired`` says both arms ran the same seeds, in the same order.

    >>> ComparativeQuestion(paired=True, better="lower").margin
    0.0
    """

    paired: bool
    better: Direction
    paper_delta: float | None = None
    tolerance: float | None = None
    margin: float = 0.0
    method: Method = "auto"
    disagreement: float = 3.0
    seeds: Sequence[int] | None = None
    rng: np.random.Generator | None = None


def answer_absolute(
    values: Sequence[float], question: AbsoluteQuestion, schedule: Schedule | None = None
) -> tuple[bool, Verdict]:
    """``(settled, verdict)`` for an absolute claim's per-seed ``values``.

    Without a ``schedule`` this is :func:`~.absolute.decide_absolute` and always
    settled; with one it is :func:`~.adaptive.decide_sequential` at the largest stage
    the values reach.

    >>> from pytest_repro.stats.adaptive import schedule_for
    >>> question = AbsoluteQuestion(paper=0.982, tolerance=0.01)
    >>> settled, verdict = answer_absolute([0.981, 0.983, 0.982], question, schedule_for())
    >>> settled, verdict.outcome, verdict.interval.level
    (True, 'matched', 0.9926)
    """
    q = question
    if schedule is None:
        verdict = decide_absolute(
            values,
            paper=q.paper,
            tolerance=q.tolerance,
            better=q.better,
            method=q.method,
            disagreement=q.disagreement,
            paper_spread=q.paper_spread,
            statistic=q.statistic,
            resolution=q.resolution,
            examples=q.examples,
            seeds=q.seeds,
            rng=q.rng,
            bounds=q.bounds,
            failed_below=q.failed_below,
            about=q.about,
            deterministic=q.deterministic,
            test_examples=q.test_examples,
            skewed_seeds=q.skewed_seeds,
        )
        return True, verdict
    return decide_sequential(
        values,
        schedule=schedule,
        paper=q.paper,
        tolerance=q.tolerance,
        better=q.better,
        method=q.method,
        disagreement=q.disagreement,
        paper_spread=q.paper_spread,
        statistic=q.statistic,
        resolution=q.resolution,
        examples=q.examples,
        seeds=q.seeds,
        rng=q.rng,
        bounds=q.bounds,
        failed_below=q.failed_below,
        about=q.about,
        deterministic=q.deterministic,
        test_examples=q.test_examples,
        skewed_seeds=q.skewed_seeds,
    )


def answer_comparative(
    values_a: Sequence[float],
    values_b: Sequence[float],
    question: ComparativeQuestion,
    schedule: Schedule | None = None,
) -> tuple[bool, Verdict]:
    """``(settled, verdict)`` for a comparative claim's arms A and B.

    Without a ``schedule`` this is :func:`~.comparative.decide_comparative` and always
    settled; with one it is :func:`~.adaptive.decide_sequential_comparative`.

    >>> question = ComparativeQuestion(paired=True, better="higher")
    >>> answer_comparative([0.95, 0.96, 0.94], [0.90, 0.92, 0.91], question)[1].outcome
    'matched'
    """
    q = question
    if schedule is None:
        verdict = decide_comparative(
            values_a,
            values_b,
            paired=q.paired,
            better=q.better,
            paper_delta=q.paper_delta,
            tolerance=q.tolerance,
            margin=q.margin,
            method=q.method,
            disagreement=q.disagreement,
            seeds=q.seeds,
            rng=q.rng,
        )
        return True, verdict
    return decide_sequential_comparative(
        values_a,
        values_b,
        schedule=schedule,
        paired=q.paired,
        better=q.better,
        paper_delta=q.paper_delta,
        tolerance=q.tolerance,
        margin=q.margin,
        method=q.method,
        disagreement=q.disagreement,
        seeds=q.seeds,
        rng=q.rng,
    )
