"""Statistics questions as records: answering one gives exactly the keyword call's verdict."""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any

import numpy as np
import pytest

from pytest_repro.stats import (
    AbsoluteQuestion,
    ComparativeQuestion,
    PaperSpread,
    Schedule,
    answer_absolute,
    answer_comparative,
    decide_absolute,
    decide_comparative,
    decide_sequential,
    decide_sequential_comparative,
    schedule_for,
)

VALUES = [0.912, 0.905, 0.921, 0.899, 0.915, 0.908, 0.917, 0.903, 0.910, 0.906]
SEEDS = list(range(100, 110))
EXAMPLES = [(np.random.default_rng(i).random(400) < 0.9).astype(float).tolist() for i in range(10)]
MEANS = [float(np.mean(e)) for e in EXAMPLES]
MANY = [float(v) for v in np.random.default_rng(42).normal(0.9, 0.01, 24)]
ARM_B = [float(v) for v in np.random.default_rng(3).normal(0.90, 0.01, 10)]
ARM_A = [
    b + 0.02 + float(e)
    for b, e in zip(ARM_B, np.random.default_rng(4).normal(0, 0.01, 10), strict=True)
]
GENERATOR_SEED = 7
#: Looks at 3, 5 and 20 seeds: every absolute case below reaches one, most with values left over.
SCHEDULE = Schedule(stages=(3, 5, 20), alphas=(0.004, 0.01, 0.04))

ABSOLUTE: list[Any] = [
    pytest.param(
        VALUES[:4],
        {
            "paper": 0.91,
            "tolerance": 0.02,
            "paper_spread": PaperSpread(value=0.005, kind="sd", seeds=5),
            "seeds": SEEDS[:4],
        },
        id="pooled-t",
    ),
    pytest.param(
        VALUES,
        {
            "paper": 0.91,
            "tolerance": 0.02,
            "better": "lower",
            "method": "bootstrap-t",
            "disagreement": 4.0,
            "resolution": 0.001,
            "seeds": SEEDS,
        },
        id="bootstrap-t",
    ),
    pytest.param(
        MEANS[:7],
        {"paper": 0.9, "tolerance": 0.02, "method": "hierarchical", "examples": EXAMPLES[:7]},
        id="hierarchical",
    ),
    pytest.param(
        MANY,
        {"paper": 0.9, "tolerance": 0.01, "method": "bca", "statistic": "median"},
        id="bca-median",
    ),
]

COMPARATIVE: list[Any] = [
    pytest.param({"paired": True, "better": "higher", "seeds": SEEDS}, id="paired-t"),
    pytest.param(
        {"paired": True, "better": "higher", "method": "bootstrap-t", "margin": 0.005},
        id="paired-bootstrap-t",
    ),
    pytest.param(
        {
            "paired": False,
            "better": "lower",
            "method": "bootstrap-t",
            "paper_delta": -0.02,
            "tolerance": 0.01,
            "disagreement": 5.0,
        },
        id="welch-bootstrap-t",
    ),
]


def generator() -> np.random.Generator:
    return np.random.default_rng(GENERATOR_SEED)


@pytest.mark.parametrize(("values", "keywords"), ABSOLUTE)
def test_answering_an_absolute_question_gives_the_verdict_of_the_keyword_call(
    values: list[float], keywords: dict[str, Any]
) -> None:
    question = AbsoluteQuestion(**keywords, rng=generator())
    settled, verdict = answer_absolute(values, question)
    assert settled
    assert verdict == decide_absolute(values, **keywords, rng=generator())


@pytest.mark.parametrize(("values", "keywords"), ABSOLUTE)
def test_answering_an_absolute_question_on_a_schedule_is_the_sequential_call(
    values: list[float], keywords: dict[str, Any]
) -> None:
    question = AbsoluteQuestion(**keywords, rng=generator())
    answer = answer_absolute(values, question, SCHEDULE)
    assert answer == decide_sequential(values, schedule=SCHEDULE, **keywords, rng=generator())
    assert any("adaptive seeds: look" in note for note in answer[1].notes)


@pytest.mark.parametrize("keywords", COMPARATIVE)
def test_answering_a_comparative_question_gives_the_verdict_of_the_keyword_call(
    keywords: dict[str, Any],
) -> None:
    question = ComparativeQuestion(**keywords, rng=generator())
    settled, verdict = answer_comparative(ARM_A, ARM_B, question)
    assert settled
    assert verdict == decide_comparative(ARM_A, ARM_B, **keywords, rng=generator())


@pytest.mark.parametrize("keywords", COMPARATIVE)
@pytest.mark.parametrize("n", [6, 10])
def test_answering_a_comparative_question_on_a_schedule_is_the_sequential_call(
    keywords: dict[str, Any], n: int
) -> None:
    schedule = schedule_for()
    question = ComparativeQuestion(**keywords, rng=generator())
    answer = answer_comparative(ARM_A[:n], ARM_B[:n], question, schedule)
    expected = decide_sequential_comparative(
        ARM_A[:n], ARM_B[:n], schedule=schedule, **keywords, rng=generator()
    )
    assert answer == expected


def test_an_unsettled_look_is_answered_as_unsettled() -> None:
    noisy = [0.90, 0.93, 0.87]
    question = AbsoluteQuestion(paper=0.9, tolerance=0.01)
    settled, verdict = answer_absolute(noisy, question, schedule_for())
    assert not settled
    assert verdict.outcome == "inconclusive"


def test_without_a_schedule_an_inconclusive_answer_is_still_settled() -> None:
    question = AbsoluteQuestion(paper=0.9, tolerance=0.01)
    settled, verdict = answer_absolute([0.89, 0.91, 0.90], question)
    assert settled
    assert verdict.outcome == "inconclusive"


def test_the_generator_in_the_question_drives_the_resampling() -> None:
    def answer(seed: int) -> tuple[float, float]:
        question = AbsoluteQuestion(
            paper=0.91, tolerance=0.02, method="bootstrap-t", rng=np.random.default_rng(seed)
        )
        _, verdict = answer_absolute(VALUES, question)
        return verdict.interval.low, verdict.interval.high

    assert answer(1) == answer(1)
    assert answer(1) != answer(2)


@pytest.mark.parametrize(
    "question",
    [
        AbsoluteQuestion(paper=0.9, tolerance=0.01),
        ComparativeQuestion(paired=True, better="higher"),
    ],
)
def test_a_question_cannot_be_changed_once_built(
    question: AbsoluteQuestion | ComparativeQuestion,
) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        question.method = "bca"  # type: ignore[misc]
    changed = dataclasses.replace(question, method="bca")
    assert changed.method == "bca"
    assert question.method == "auto"


def test_a_question_is_built_from_keywords_only() -> None:
    with pytest.raises(TypeError):
        AbsoluteQuestion(0.9, 0.01)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        ComparativeQuestion(True, "higher")  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("question", "decide"),
    [(AbsoluteQuestion, decide_absolute), (ComparativeQuestion, decide_comparative)],
)
def test_a_question_has_the_keywords_and_defaults_of_its_keyword_call(
    question: type[Any], decide: Any
) -> None:
    keywords = inspect.signature(decide).parameters
    for field in dataclasses.fields(question):
        assert field.name in keywords, field.name
        param = keywords[field.name]
        assert param.kind is inspect.Parameter.KEYWORD_ONLY
        if field.default is dataclasses.MISSING:
            assert param.default is inspect.Parameter.empty, field.name
        else:
            assert field.default == param.default, field.name
        assert field.type == param.annotation, field.name
