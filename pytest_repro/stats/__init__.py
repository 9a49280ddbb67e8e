"""Statistics for reproduction verdicts: intervals over seeds, decision rules, adaptive seeds.

The public names are re-exported here. A verdict for an absolute claim::

    from pytest_repro.stats import decide_absolute
    verdict = decide_absolute([0.981, 0.984, 0.979], paper=0.982, tolerance=0.01)
    verdict.outcome        # "matched"

A claim's question can also be built once, as a typed record, and answered::

    from pytest_repro.stats import AbsoluteQuestion, answer_absolute
    settled, verdict = answer_absolute([0.981, 0.984, 0.979],
                                       AbsoluteQuestion(paper=0.982, tolerance=0.01))

The rules are written out for users in ``docs/statistics.md``. This package imports
``scipy.special``; nothing imports it when the plugin loads.
"""

from __future__ import annotations

from pytest_repro.stats.absolute import decide_absolute
from pytest_repro.stats.adaptive import (
    Schedule,
    decide_sequential,
    decide_sequential_comparative,
    schedule_for,
)
from pytest_repro.stats.comparative import decide_comparative
from pytest_repro.stats.model import (
    DEFAULT_SEED,
    Better,
    Interval,
    Method,
    Outcome,
    PaperSpread,
    SpreadKind,
    Statistic,
    Verdict,
)
from pytest_repro.stats.questions import (
    AbsoluteQuestion,
    ComparativeQuestion,
    answer_absolute,
    answer_comparative,
)

__all__ = [
    "DEFAULT_SEED",
    "AbsoluteQuestion",
    "Better",
    "ComparativeQuestion",
    "Interval",
    "Method",
    "Outcome",
    "PaperSpread",
    "Schedule",
    "SpreadKind",
    "Statistic",
    "Verdict",
    "answer_absolute",
    "answer_comparative",
    "decide_absolute",
    "decide_comparative",
    "decide_sequential",
    "decide_sequential_comparative",
    "schedule_for",
]
