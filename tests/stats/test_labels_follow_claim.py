"""The label follows the claim: above/below for two-sided claims, copies named as such."""

from __future__ import annotations

from types import SimpleNamespace

from pytest_repro.labels import verdict_label
from pytest_repro.report.format import Units
from pytest_repro.stats import decide_absolute


def claim(better: str) -> SimpleNamespace:
    return SimpleNamespace(
        kind="absolute",
        paper=SimpleNamespace(value=0.90),
        tolerance=0.01,
        better=better,
        margin=0.0,
        hypothesis=None,
        see=None,
        id="acc",
    )


def label(values: list[float], better: str) -> str:
    v = decide_absolute(values, paper=0.90, tolerance=0.01, better=better)  # type: ignore[arg-type]
    return verdict_label(claim(better), v, Units("fraction", 0.01))  # type: ignore[arg-type]


def test_a_two_sided_claim_above_the_paper_says_above_never_gap() -> None:
    text = label([0.9145, 0.915, 0.9155], "none")
    assert text.startswith("[above the paper by 1.5 pp")
    assert "gap" not in text


def test_a_two_sided_claim_below_the_paper_says_below() -> None:
    assert label([0.8845, 0.885, 0.8855], "none").startswith("[below the paper by 1.5 pp")


def test_a_directional_claim_below_the_paper_is_still_a_gap() -> None:
    assert label([0.8845, 0.885, 0.8855], "higher").startswith("[gap of 1.5 pp")


def test_undecided_copies_of_one_run_say_more_copies_will_not_decide() -> None:
    text = label([0.909] * 4, "higher")
    assert text == "[inconclusive: all 4 seeds gave the same value, more copies will not decide]"
