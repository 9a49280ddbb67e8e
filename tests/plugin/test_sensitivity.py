"""--repro-sensitivity: each assumed value's alternatives are run, and the claim's result
says how much each guess moves its verdict, without changing the verdict."""

from __future__ import annotations

import json

import pytest

from .conftest import HEADER, MakePaper, calls, claim

GUESSED = HEADER.replace(
    "    base: 0.9\n",
    "    base: {{value: 0.9, source: assumed, why: the paper never says, alternatives: [0.95, 0.85]}}\n",
)


def test_each_alternative_is_run_and_reported_beside_the_unchanged_verdict(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(header=GUESSED)
    result = pytester.runpytest(
        "--repro-inprocess",
        "-p",
        "no:cacheprovider",
        "--repro-sensitivity",
        "--repro-json=out.json",
    )
    result.assert_outcomes(passed=1)
    assert calls(folder) == 9  # 3 seeds for the assumed value, 3 for each alternative
    doc = json.loads((pytester.path / "out.json").read_text())
    acc = doc["papers"][0]["claims"][0]
    assert acc["verdict"] == "matched"
    moved = {e["value"]: e["verdict"] for e in acc["sensitivity"]}
    assert moved == {0.95: "exceeded", 0.85: "disagreement"}
    md = (folder / "results.md").read_text()
    assert "sensitivity: base = 0.95 instead of the assumed 0.9: [exceeded by 5.0 pp]" in md
    assert "(the verdict moves from matched)" in md


def test_without_the_flag_or_when_every_variant_sets_the_key_nothing_more_runs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(header=GUESSED, claims=claim(extra="config: {base: 0.9}"))
    pytester.runpytest("--repro-inprocess", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert calls(folder) == 3
    pytester.runpytest(
        "--repro-inprocess", "-p", "no:cacheprovider", "--repro-sensitivity"
    ).assert_outcomes(passed=1)
    assert calls(folder) == 3  # the claim sets base itself: the guess is never read


def test_alternatives_of_a_stated_value_are_refused_at_their_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(
        header=GUESSED.replace("source: assumed, why: the paper never says", "source: Table 2")
    )
    result = pytester.runpytest("--repro-inprocess", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*papers/p1/paper.yaml:*: run.config.base.alternatives: alternatives are other guesses*"]
    )
