"""Claim shapes seen in real code: the final value, a difference of two metrics, the step a
metric first crosses a threshold; and ``expect: shortfall`` for scaled-down runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import MakePaper

FAST = ("--repro-inprocess", "-p", "no:cacheprovider", "--repro-json=r.json")

#: acc per epoch: base + spread * (seed - 1) + slope * epoch; loss = 1 - acc.
SLOPED = (
    "run:\n  entrypoint: train:run\n"
    "  config: {{epochs: 5, base: 0.8, spread: 0.001, slope: 0.02, fail_seed: -1}}\n"
)
HEADER = 'paper:\n  id: "{paper_id}"\n  title: A paper for tests\n' + SLOPED


def shape_claim(at: str, *, metric: str = "acc", paper: float = 0.9, extra: str = "") -> str:
    return (
        f"  - id: c\n    text: a claim\n    source: Table 1\n    metric: {metric}\n"
        f"    at: {at}\n    paper: {paper}\n    tolerance: 0.01\n" + extra
    )


def result(pytester: pytest.Pytester) -> dict[str, object]:
    document = json.loads((pytester.path / "r.json").read_text())
    (paper,) = document["papers"]
    (claim,) = paper["claims"]
    return dict(claim)


def test_at_final_reads_the_last_logged_point_and_says_so(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=shape_claim("final"), header=HEADER)
    outcome = pytester.runpytest("-v", *FAST)
    outcome.stdout.fnmatch_lines(["*paper.yaml::c [[]matched within 0.010[]]*"])
    claim = result(pytester)
    assert claim["at"] == {"final": True}
    assert claim["values"] == pytest.approx([0.899, 0.9, 0.901])  # epoch 5, not epoch 1
    assert "final (the last logged point)" in (folder / "results.md").read_text()


def test_words_like_last_are_still_refused_with_the_explicit_spelling(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=shape_claim("last"), header=HEADER)
    outcome = pytester.runpytest(*FAST)
    outcome.stdout.fnmatch_lines(
        ["*claims[[]c[]].at: 'last' is not a point in training*", "*or at: final when*"]
    )


def test_a_difference_of_two_metrics_within_one_run(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    # acc - loss = 2 acc - 1 = 0.8 at epoch 5
    make_paper(claims=shape_claim("{epoch: 5}", metric="acc - loss", paper=0.8), header=HEADER)
    outcome = pytester.runpytest("-v", *FAST)
    outcome.stdout.fnmatch_lines(["*paper.yaml::c [[]matched within 0.010[]]*"])
    assert result(pytester)["values"] == pytest.approx([0.798, 0.8, 0.802])


def test_a_difference_names_the_term_that_was_never_logged(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=shape_claim("{epoch: 5}", metric="acc - val_loss"), header=HEADER)
    outcome = pytester.runpytest(*FAST)
    outcome.stdout.fnmatch_lines(["*'val_loss' was never logged*the run logged: *acc*loss*"])


def test_the_step_at_which_a_metric_first_crosses_a_threshold(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    at = "{first: {metric: acc, above: 0.855}}"
    make_paper(claims=shape_claim(at, metric="epoch", paper=3), header=HEADER)
    pytester.runpytest(*FAST)
    claim = result(pytester)
    assert claim["values"] == [3.0, 3.0, 3.0]  # 0.859, 0.86, 0.861 at epoch 3; below at 2
    assert claim["at"] == {"first": {"metric": "acc", "above": 0.855, "axis": "epoch"}}


def test_a_threshold_never_reached_says_how_far_the_metric_got(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    at = "{first: {metric: acc, above: 0.99}}"
    make_paper(claims=shape_claim(at, metric="epoch", paper=3), header=HEADER)
    outcome = pytester.runpytest(*FAST)
    outcome.stdout.fnmatch_lines(
        ["*acc never reached 0.99 (its highest value was 0.899, by epoch 5)*"]
    )


def test_first_needs_the_axis_as_the_claims_metric(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=shape_claim("{first: {metric: acc, above: 0.9}}"), header=HEADER)
    outcome = pytester.runpytest(*FAST)
    outcome.stdout.fnmatch_lines(
        ["*claims[[]c[]].metric: of a claim read at: {first: ...} is the axis*"]
    )


SHORT = '    expect: shortfall\n    hypothesis: "5 epochs instead of the paper\'s 200"\n'


def test_expect_shortfall_covers_a_gap_below_the_paper(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=shape_claim("{epoch: 5}", paper=0.95, extra=SHORT), header=HEADER)
    pytester.runpytest(*FAST).assert_outcomes(xfailed=1)


def test_expect_shortfall_never_covers_an_excess(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    # far above the paper: exceeded, which the shortfall never covers (XPASS, not xfail)
    extra = SHORT + "    better: higher\n"
    make_paper(claims=shape_claim("{epoch: 5}", paper=0.5, extra=extra), header=HEADER)
    outcome = pytester.runpytest(*FAST)
    assert result(pytester)["verdict"] == "exceeded"
    assert result(pytester)["expected"] is False
    outcome.assert_outcomes(xpassed=1)


def test_expect_shortfall_needs_a_direction(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    extra = SHORT + "    better: none\n"
    make_paper(claims=shape_claim("{epoch: 5}", extra=extra), header=HEADER)
    outcome = pytester.runpytest(*FAST)
    outcome.stdout.fnmatch_lines(["*expect: shortfall is the short side of the paper*"])


def test_shortfall_on_the_excess_side_of_a_lower_is_better_metric_fails(
    tmp_path: Path,
) -> None:
    from pytest_repro.results import ClaimResult

    def made(estimate: float, better: str, verdict: str = "gap") -> ClaimResult:
        return ClaimResult(
            paper_id="p",
            paper_title="t",
            path="p.yaml",
            id="c",
            line=1,
            kind="absolute",
            text="",
            source="",
            metric="err",
            at={"epoch": 1},
            verdict=verdict,  # type: ignore[arg-type]
            label="",
            paper=0.1,
            better=better,
            estimate=estimate,
            expect="shortfall",
        )

    assert made(0.2, "lower").expected  # a higher error than the paper: short
    assert not made(0.05, "lower").expected  # a lower error: an excess, never expected
    assert made(0.05, "higher").expected
    assert not made(0.2, "higher").expected
    assert not made(0.05, "higher", verdict="matched").expected
