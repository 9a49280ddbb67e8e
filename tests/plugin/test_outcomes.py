"""What a user sees when claims run: outcomes, labels, failure blocks and the verdict table."""

from __future__ import annotations

import pytest

from .conftest import MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


def test_a_matching_claim_passes_and_shows_its_label(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "papers/p1/paper.yaml::acc [[]matched within 1.0 pp[]]*",
            "*reproduction verdicts*",
            "p1::acc*90.0%*[[]matched within 1.0 pp[]]",
            "1 matched",
        ]
    )


@pytest.mark.parametrize(
    ("base", "outcome", "label"),
    [
        (0.92, "passed", "[[]exceeded by 2.0 pp[]]"),
        (0.88, "failed", "[[]gap of 2.0 pp, no hypothesis stated[]]"),
        (0.80, "failed", "[[]fundamental disagreement, see results.md#acc[]]"),
    ],
)
def test_each_verdict_maps_to_a_pytest_outcome(
    pytester: pytest.Pytester, make_paper: MakePaper, base: float, outcome: str, label: str
) -> None:
    make_paper(claims=claim(extra=f"config: {{base: {base}}}"))
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(**{outcome: 1})
    result.stdout.fnmatch_lines([f"papers/p1/paper.yaml::acc {label}*"])


def test_a_gap_prints_paper_versus_measured_the_rerun_command_and_the_remedy(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim(extra="config: {base: 0.88}"))
    result = pytester.runpytest(*FAST)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "papers/p1/paper.yaml:*: claim acc",
            "  accuracy reaches the paper's value (Table 1)",
            "  paper      90.0%   tolerance ±1.0 pp   (acc at epoch 5)",
            "  measured   88.0% 90% CI [[]87.5%, 88.2%[]]",
            "             95% CI [[]87.2%, 88.2%[]]   student-t (skew guard)",
            "             n=3 (0: 87.9%, 1: 88.0%, 2: 88.1%)",
            "  delta      -2.0 pp",
            "  verdict    [[]gap of 2.0 pp, no hypothesis stated[]]",
            '*rerun: pytest "papers/p1/paper.yaml::acc"*--repro-rerun=acc*',
            "fix: if the gap is understood, record it in the claim: expect: gap*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_an_expected_gap_with_its_hypothesis_is_xfailed(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    extra = """
    config: {base: 0.88}
    expect: gap
    hypothesis: the substitute dataset is harder
    """
    make_paper(claims=claim(extra=extra))
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(xfailed=1)
    result.stdout.fnmatch_lines(
        ["*::acc XFAIL [[]gap of 2.0 pp, hypothesis: the substitute dataset is harder[]]*"]
    )


def test_an_expected_gap_that_matches_is_reported_as_xpass(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim(extra="expect: gap\nhypothesis: it used to fall short"))
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(xpassed=1)


def test_an_expected_gap_does_not_hide_a_disagreement(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim(extra="config: {base: 0.5}\nexpect: gap\nhypothesis: small gap"))
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)


def test_inconclusive_fails_by_default_and_can_be_skipped(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim(extra="config: {spread: 0.01}"))
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::acc [[]inconclusive at * seeds: to add seeds, decide with interval: anytime[]]*",
            "fix: the interval is wider*",
        ]
    )
    skipped = pytester.runpytest("-v", "--repro-inconclusive=skip", *FAST)
    skipped.assert_outcomes(skipped=1)


def test_a_metric_never_logged_at_the_claims_epoch_is_an_error_that_says_what_was_logged(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(
        claims=claim().replace("at: {epoch: 5}", "at: {epoch: 60}")
        + claim("typo").replace("metric: acc", "metric: ac")
    )
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*::acc [[]error: acc never reached epoch 60 (last: 5) in 3 of 3 runs[]]*",
            "*::typo [[]error: ac was never logged (did you mean 'acc'?) in 3 of 3 runs[]]*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*seed 0 (run p1-*): the run logged acc up to epoch 5 but never reached epoch 60*"]
    )


def test_a_run_that_raises_is_reported_with_its_output_and_the_session_goes_on(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim(extra="config: {fail_seed: 1}") + claim("other"))
    result = pytester.runpytest("-p", "no:cacheprovider")  # real worker processes
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(
        [
            "*verdict    [[]error: 1 of 3 runs was not ok (failed)[]]",
            "*seed 1 (p1-*): failed: RuntimeError: seed 1 failed on purpose",
            "*last output:",
            "*about to fail on purpose",
        ]
    )


def test_x_stops_after_the_first_failing_claim(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim("a", extra="config: {base: 0.5}") + claim("b"))
    result = pytester.runpytest("-x", *FAST)
    result.assert_outcomes(failed=1)


def test_comparative_claims_compare_variants_paired_over_seeds(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    claims = """\
  - id: a-beats-b
    text: A beats B
    source: Figure 2
    metric: acc
    at: {epoch: 5}
    compare: {a: strong, b: {config: {base: 0.8}}}
    margin: 0.05
  - id: b-beats-a
    text: B beats A (it does not)
    source: Figure 2
    metric: acc
    at: {epoch: 5}
    compare: {a: {config: {base: 0.8}}, b: strong}
  - id: lower-loss
    text: A has the lower loss
    source: Figure 2
    metric: loss
    better: lower
    at: {epoch: 5}
    compare: {a: strong, b: {config: {base: 0.8}}}
"""
    make_paper(claims=claims, variants="strong: {base: 0.9}")
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::a-beats-b [[]matched: A higher than B by 0.100 (margin 0.050)[]]*",
            "*::b-beats-a [[]fundamental disagreement: B higher than A by 0.100, see results.md#b-beats-a[]]*",
            "*::lower-loss [[]matched: A lower than B by 0.100[]]*",
        ]
    )


def test_adaptive_seeds_stop_when_the_verdict_is_settled(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=claim(extra="seeds: {min: 3, max: 10}"))
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(passed=1)
    from .conftest import calls

    assert calls(folder) < 10


def test_claims_on_the_same_variant_share_runs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    from .conftest import calls

    folder = make_paper(claims=claim("one") + claim("two", paper=0.905, tolerance=0.02))
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=2)
    assert calls(folder) == 3


def test_a_nan_metric_is_an_error_that_names_the_seed(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    train = (
        "def run(ctx):\n"
        "    value = float('nan') if ctx.seed == 1 else 0.9\n"
        "    ctx.log(epoch=5, acc=value)\n"
    )
    make_paper(train=train)
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::acc [[]error: acc is nan at epoch 5 in 1 of 3 runs[]]*",
            "*seed 1 (run p1-*): acc is nan at epoch 5: the run diverged or logged an invalid value*",
        ]
    )
