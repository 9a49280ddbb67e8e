"""Decision rules for absolute and comparative claims, read as a specification."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from pytest_repro.errors import ReproError, StatsError
from pytest_repro.stats import (
    Interval,
    PaperSpread,
    decide_absolute,
    decide_comparative,
)
from pytest_repro.stats.intervals import paper_sd, student_t
from pytest_repro.stats.rules import classify_absolute, classify_comparative, outcome_of
from pytest_repro.stats.simulate import absolute_codes

PAPER = 0.90
TOL = 0.01


def tight(center: float, n: int = 5, spread: float = 0.0005) -> list[float]:
    """``n`` values with mean ``center`` and a small, symmetric spread."""
    offsets = np.linspace(-1.0, 1.0, n) * spread
    return [center + float(o) for o in offsets]


# --- absolute outcomes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("center", "better", "outcome"),
    [
        (0.900, "higher", "matched"),
        (0.885, "higher", "gap"),
        (0.915, "higher", "exceeded"),
        (0.850, "higher", "disagreement"),
        (0.950, "higher", "exceeded"),
        (0.850, "lower", "exceeded"),
        (0.885, "lower", "exceeded"),
        (0.915, "lower", "gap"),
        (0.885, "none", "gap"),
        (0.915, "none", "gap"),
        (0.950, "none", "disagreement"),
    ],
)
def test_a_tight_interval_gets_the_outcome_its_position_says(
    center: float, better: str, outcome: str
) -> None:
    v = decide_absolute(tight(center), paper=PAPER, tolerance=TOL, better=better)  # type: ignore[arg-type]
    assert v.outcome == outcome


def test_a_wide_interval_is_inconclusive_and_says_how_many_seeds_would_decide() -> None:
    v = decide_absolute([0.89, 0.91, 0.90], paper=PAPER, tolerance=TOL)
    assert v.outcome == "inconclusive"
    assert v.seeds_needed is not None
    assert v.seeds_needed > 3


def test_the_band_ends_count_as_inside() -> None:
    code = classify_absolute(
        PAPER - TOL, PAPER + TOL, paper=PAPER, tolerance=TOL, better="higher", disagreement=3.0
    )
    assert outcome_of(int(code)) == "matched"


def test_disagreement_is_beyond_the_given_multiple_of_the_tolerance() -> None:
    values = tight(0.86)  # 4 tolerances below
    assert decide_absolute(values, paper=PAPER, tolerance=TOL).outcome == "disagreement"
    wider = decide_absolute(values, paper=PAPER, tolerance=TOL, disagreement=5.0)
    assert wider.outcome == "gap"


def test_verdict_fields_describe_the_decision() -> None:
    values = [0.901, 0.899, 0.903, 0.897, 0.900]
    v = decide_absolute(values, paper=PAPER, tolerance=TOL, method="t")
    mean, low, high = student_t([values], 0.90)
    _, low95, high95 = student_t([values], 0.95)
    assert v.estimate == pytest.approx(float(mean[0]))
    assert v.interval == Interval(low=float(low[0]), high=float(high[0]), level=0.90)
    assert v.shown == Interval(low=float(low95[0]), high=float(high95[0]), level=0.95)
    assert v.delta == pytest.approx(v.estimate - PAPER)
    assert v.deviation_in_tol == pytest.approx(abs(v.estimate - PAPER) / TOL)
    assert v.n == 5
    assert v.method == "student-t"
    assert v.notes == ()
    assert v.warnings == ()


def test_student_t_interval_matches_scipy() -> None:
    values = [0.97, 0.975, 0.968, 0.981]
    _, low, high = student_t([values], 0.95)
    ref = sps.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sps.sem(values))
    assert (float(low[0]), float(high[0])) == pytest.approx(ref, rel=1e-12)


def test_seeds_needed_is_the_smallest_n_whose_t_interval_fits_in_the_band() -> None:
    values = [0.895, 0.905, 0.900, 0.903, 0.897]
    v = decide_absolute(values, paper=PAPER, tolerance=TOL)
    mean, sd = float(np.mean(values)), float(np.std(values, ddof=1))
    slack = TOL - abs(mean - PAPER)
    expected = next(
        n for n in range(2, 1001) if sps.t.ppf(0.95, n - 1) * sd / math.sqrt(n) <= slack
    )
    assert v.seeds_needed == expected


def test_seeds_needed_is_none_when_the_mean_sits_on_the_band_edge() -> None:
    values = [PAPER + TOL - 0.002, PAPER + TOL + 0.002]
    v = decide_absolute(values, paper=PAPER, tolerance=TOL)
    assert v.estimate == pytest.approx(PAPER + TOL)
    assert v.seeds_needed is None or v.seeds_needed > 100


# --- one seed -------------------------------------------------------------------------


def test_one_seed_without_the_paper_spread_is_inconclusive_with_its_deviation() -> None:
    v = decide_absolute([0.905], paper=PAPER, tolerance=TOL)
    assert v.outcome == "inconclusive"
    assert v.deviation_in_tol == pytest.approx(0.5)
    assert v.interval.low == -math.inf
    assert v.interval.high == math.inf
    assert v.seeds_needed is None
    assert any("one seed" in note for note in v.notes)


def test_one_seed_with_the_paper_spread_uses_the_paper_sd_with_m_minus_1_df() -> None:
    spread = PaperSpread(value=0.002, kind="sd", seeds=5)
    v = decide_absolute(
        [0.901], paper=PAPER, tolerance=TOL, paper_spread=spread, paper_sample=False
    )
    half = (v.interval.high - v.interval.low) / 2
    assert half == pytest.approx(sps.t.ppf(0.95, 4) * 0.002)
    assert v.method == "pooled student-t (paper sd, m=5, df=4)"
    assert v.outcome == "matched"


# --- the paper's spread ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("sd", 0.004, 0.004),
        ("se", 0.002, 0.002 * 2.0),
        ("ci95", 0.005, 0.005 / sps.t.ppf(0.975, 3) * 2.0),
    ],
)
def test_the_papers_spread_is_converted_to_its_sd(kind: str, value: float, expected: float) -> None:
    assert paper_sd(PaperSpread(value=value, kind=kind, seeds=4)) == pytest.approx(expected)  # type: ignore[arg-type]


def test_three_seeds_pool_with_the_paper_sd() -> None:
    spread = PaperSpread(value=0.003, kind="sd", seeds=5)
    values = [0.900, 0.901, 0.899]
    v = decide_absolute(
        values, paper=PAPER, tolerance=TOL, paper_spread=spread, paper_sample=False, method="t"
    )
    assert v.method == "pooled student-t (paper sd, m=5, df=6)"
    pooled = math.sqrt((2 * np.var(values, ddof=1) + 4 * 0.003**2) / 6)
    half = (v.interval.high - v.interval.low) / 2
    assert half == pytest.approx(sps.t.ppf(0.95, 6) * pooled / math.sqrt(3))
    assert any(note.startswith("pooling:") for note in v.notes)


def test_pooling_never_makes_noisy_seeds_look_as_precise_as_the_paper() -> None:
    spread = PaperSpread(value=0.0005, kind="sd", seeds=5)
    values = [0.895, 0.905, 0.900]
    v = decide_absolute(
        values, paper=PAPER, tolerance=TOL, paper_spread=spread, paper_sample=False, method="t"
    )
    own = float(np.std(values, ddof=1))
    half = (v.interval.high - v.interval.low) / 2
    assert half == pytest.approx(sps.t.ppf(0.95, 6) * own / math.sqrt(3))
    assert any("own sd" in note for note in v.notes)


def test_five_seeds_use_only_their_own_spread() -> None:
    spread = PaperSpread(value=0.003, kind="sd", seeds=5)
    values = tight(0.9)
    with_spread = decide_absolute(
        values, paper=PAPER, tolerance=TOL, paper_spread=spread, paper_sample=False
    )
    without = decide_absolute(values, paper=PAPER, tolerance=TOL)
    assert with_spread.method == "student-t (skew guard)"
    assert with_spread.interval == without.interval


def test_a_paper_standard_error_above_half_the_tolerance_is_warned_about() -> None:
    spread = PaperSpread(value=0.006, kind="se", seeds=3)
    v = decide_absolute(tight(0.9), paper=PAPER, tolerance=TOL, paper_spread=spread)
    assert any("standard error" in w for w in v.warnings)
    quiet = decide_absolute(
        tight(0.9),
        paper=PAPER,
        tolerance=TOL,
        paper_spread=PaperSpread(value=0.004, kind="se", seeds=3),
    )
    assert quiet.warnings == ()


# --- spread floor ------------------------------------------------------------------------


def test_identical_seeds_count_as_one_value_with_the_tolerance_floor_as_its_spread() -> None:
    v = decide_absolute([0.9, 0.9, 0.9], paper=PAPER, tolerance=TOL)
    assert v.outcome == "matched"
    half = (v.interval.high - v.interval.low) / 2
    assert half == pytest.approx(sps.norm.ppf(0.95) * 0.1 * TOL)
    assert any(note.startswith("identical seeds: all 3 seeds gave 0.9") for note in v.notes)
    assert any("n_eff = 1" in note for note in v.notes)


def test_the_single_value_is_spread_by_the_metrics_resolution_when_given() -> None:
    v = decide_absolute([0.9, 0.9, 0.9], paper=PAPER, tolerance=TOL, resolution=0.004)
    half = (v.interval.high - v.interval.low) / 2
    assert half == pytest.approx(sps.norm.ppf(0.95) * 0.004)
    assert any("resolution" in note for note in v.notes)


def test_a_known_resolution_floors_any_smaller_spread() -> None:
    values = [0.9, 0.9, 0.9001]
    v = decide_absolute(values, paper=PAPER, tolerance=TOL, resolution=0.001, method="t")
    half = (v.interval.high - v.interval.low) / 2
    assert half == pytest.approx(sps.t.ppf(0.95, 2) * 0.001 / math.sqrt(3))


def test_per_example_outcomes_give_a_floor_of_one_over_n() -> None:
    examples = [[1.0] * 180 + [0.0] * 20 for _ in range(3)]
    v = decide_absolute([0.9, 0.9, 0.901], paper=PAPER, tolerance=TOL, examples=examples)
    half = (v.interval.high - v.interval.low) / 2
    assert half == pytest.approx(sps.t.ppf(0.95, 2) * (1 / 200) / math.sqrt(3))
    assert any("1/N" in note for note in v.notes)


def test_a_bootstrap_method_falls_back_to_t_when_seeds_do_not_vary() -> None:
    v = decide_absolute(
        [0.9, 0.9, 0.9, 0.9, 0.9, 0.9 + 1e-9], paper=PAPER, tolerance=TOL, method="bootstrap-t"
    )
    assert v.method == "student-t (spread floor)"
    assert v.interval.high > v.interval.low


# --- annotations ---------------------------------------------------------------------------


def test_an_outlying_seed_is_named_in_a_note_without_changing_the_outcome() -> None:
    values = [0.900, 0.901, 0.899, 0.9005, 0.8995, 0.8800]
    seeds = [10, 11, 12, 13, 14, 15]
    v = decide_absolute(values, paper=PAPER, tolerance=0.05, seeds=seeds)
    outliers = [n for n in v.notes if n.startswith("outlier")]
    assert len(outliers) == 1
    assert "seed 15" in outliers[0]
    assert v.outcome == "matched"


@pytest.mark.parametrize("n", [5, 10, 20])
def test_clean_reproductions_get_a_false_outlier_note_about_one_time_in_a_hundred(n: int) -> None:
    from pytest_repro.stats.simulate import outlier_note_rate

    assert 0.005 <= outlier_note_rate(n, reps=8000, seed=n) <= 0.016


def test_no_outlier_note_below_five_seeds_where_no_threshold_is_meaningful() -> None:
    v = decide_absolute([0.9, 0.9001, 0.95], paper=PAPER, tolerance=0.1)
    assert not [n for n in v.notes if n.startswith("outlier")]


def test_the_outlier_table_is_what_the_simulation_gives() -> None:
    from pytest_repro.stats.checks import OUTLIER_THRESHOLDS
    from pytest_repro.stats.simulate import outlier_thresholds

    fresh = outlier_thresholds(range(5, 31, 5), reps=60_000)
    for n, value in fresh.items():
        assert value == pytest.approx(OUTLIER_THRESHOLDS[n], rel=0.08)


def test_skewed_values_get_a_note_from_five_seeds() -> None:
    values = [0.90, 0.901, 0.902, 0.9005, 0.9015, 0.93]
    v = decide_absolute(values, paper=PAPER, tolerance=0.05)
    assert any(n.startswith("skew") for n in v.notes)
    few = decide_absolute(values[-4:], paper=PAPER, tolerance=0.05)
    assert not any(n.startswith("skew") for n in few.notes)  # the note, not the guard
    assert any(n.startswith("unseen bad seeds (skew guard)") for n in few.notes)


# --- methods --------------------------------------------------------------------------------


def test_auto_uses_student_t_for_the_mean() -> None:
    assert (
        decide_absolute(tight(0.9), paper=PAPER, tolerance=TOL).method == "student-t (skew guard)"
    )
    assert decide_absolute(tight(0.9), paper=PAPER, tolerance=TOL, method="t").method == "student-t"


def test_auto_uses_bca_for_a_median_over_20_seeds() -> None:
    values = list(np.random.default_rng(1).normal(0.9, 0.002, 25))
    v = decide_absolute(values, paper=PAPER, tolerance=TOL, statistic="median")
    assert v.method == "bca (B=9999, median)"
    assert v.estimate == pytest.approx(float(np.median(values)))


def test_iqm_is_the_25_percent_trimmed_mean() -> None:
    values = list(np.random.default_rng(2).normal(0.9, 0.002, 24))
    v = decide_absolute(values, paper=PAPER, tolerance=TOL, statistic="iqm")
    assert v.estimate == pytest.approx(float(sps.trim_mean(values, 0.25)))


@pytest.mark.parametrize("statistic", ["median", "iqm"])
def test_a_median_or_iqm_needs_20_seeds(statistic: str) -> None:
    with pytest.raises(StatsError, match="20 or more seeds"):
        decide_absolute(tight(0.9, 10), paper=PAPER, tolerance=TOL, statistic=statistic)  # type: ignore[arg-type]


def test_auto_keeps_student_t_when_examples_are_logged_and_hierarchical_is_asked_for() -> None:
    rng = np.random.default_rng(3)
    examples = [(rng.random(500) < 0.9).astype(float).tolist() for _ in range(10)]
    values = [float(np.mean(e)) for e in examples]
    auto = decide_absolute(values, paper=PAPER, tolerance=0.03, examples=examples)
    assert auto.method.startswith("student-t")  # widened when the 10 values happen to skew
    asked = decide_absolute(
        values, paper=PAPER, tolerance=0.03, examples=examples, method="hierarchical"
    )
    assert asked.method == "hierarchical bootstrap (B=9999)"
    assert asked.warnings == ()
    with pytest.raises(StatsError, match="5 or more seeds"):
        decide_absolute(
            values[:4], paper=PAPER, tolerance=0.03, examples=examples[:4], method="hierarchical"
        )


def test_examples_that_disagree_with_the_values_are_warned_about() -> None:
    examples = [[1.0, 0.0, 1.0, 1.0]] * 3
    v = decide_absolute([0.9, 0.91, 0.92], paper=PAPER, tolerance=TOL, examples=examples)
    assert any("per-example" in w for w in v.warnings)


@pytest.mark.parametrize(
    ("method", "n", "label"),
    [
        ("t", 3, "student-t"),
        ("bootstrap-t", 5, "bootstrap-t (B=9999)"),
        ("bca", 20, "bca (B=9999)"),
    ],
)
def test_explicit_methods_are_named_in_the_verdict(method: str, n: int, label: str) -> None:
    values = list(np.random.default_rng(4).normal(0.9, 0.002, n))
    v = decide_absolute(values, paper=PAPER, tolerance=TOL, method=method)  # type: ignore[arg-type]
    assert v.method == label


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"method": "bootstrap-t"}, "5 or more seeds"),
        ({"method": "bca"}, "20 or more seeds"),
        ({"method": "hierarchical"}, "per-example outcomes"),
        ({"method": "hierarchical", "examples": [[1.0, 0.0]] * 4}, "5 or more seeds"),
        ({"method": "t", "statistic": "median"}, "works on the mean"),
        ({"method": "percentile"}, "unknown method"),
    ],
)
def test_methods_refuse_seed_counts_they_cannot_serve(
    kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(StatsError, match=match):
        decide_absolute(tight(0.9, 4), paper=PAPER, tolerance=TOL, **kwargs)  # type: ignore[arg-type]


# --- unusable input -----------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_non_finite_value_names_its_seed(bad: float) -> None:
    with pytest.raises(StatsError, match=r"seed 11 \(index 1\)"):
        decide_absolute([0.9, bad, 0.9], paper=PAPER, tolerance=TOL, seeds=[10, 11, 12])
    with pytest.raises(StatsError, match="seed index 1"):
        decide_absolute([0.9, bad, 0.9], paper=PAPER, tolerance=TOL)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"tolerance": 0.0}, "tolerance"),
        ({"tolerance": -0.5}, "tolerance"),
        ({"tolerance": math.nan}, "tolerance"),
        ({"paper": math.inf}, "paper"),
        ({"better": "up"}, "unknown better"),
        ({"statistic": "mode"}, "unknown statistic"),
        ({"paper_spread": PaperSpread(value=0.01, kind="var", seeds=5)}, "sd, se, ci95"),  # type: ignore[arg-type]
        ({"paper_spread": PaperSpread(value=0.01, kind="sd", seeds=1)}, "m >= 2"),
        ({"paper_spread": PaperSpread(value=-0.01, kind="sd", seeds=5)}, ">= 0"),
        ({"resolution": 0.0}, "resolution"),
        ({"disagreement": 0.5}, "disagreement"),
        ({"decide_level": 1.5}, "decide_level"),
        ({"seeds": [1, 2]}, "one seed per value"),
        ({"examples": [[1.0]]}, "one list of per-example outcomes per seed"),
    ],
)
def test_unusable_arguments_raise_stats_error(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"paper": PAPER, "tolerance": TOL}
    args.update(kwargs)
    with pytest.raises(StatsError, match=match):
        decide_absolute([0.9, 0.91, 0.89], **args)  # type: ignore[arg-type]


def test_stats_error_is_a_repro_error_and_a_value_error() -> None:
    with pytest.raises(StatsError) as info:
        decide_absolute([], paper=PAPER, tolerance=TOL)
    assert isinstance(info.value, ReproError)
    assert isinstance(info.value, ValueError)


# --- comparative claims ---------------------------------------------------------------------


A = [0.95, 0.96, 0.94, 0.955]
B = [0.90, 0.92, 0.91, 0.905]


def test_paired_comparison_uses_per_seed_differences() -> None:
    v = decide_comparative(A, B, paired=True, better="higher")
    d = np.subtract(A, B)
    ref = sps.ttest_rel(A, B).confidence_interval(0.90)
    assert v.method == "paired t"
    assert v.estimate == pytest.approx(float(d.mean()))
    assert (v.interval.low, v.interval.high) == pytest.approx((ref.low, ref.high))
    assert v.outcome == "matched"
    assert v.delta == pytest.approx(v.estimate)  # reference: margin 0


def test_unpaired_comparison_is_welch() -> None:
    v = decide_comparative(A, B[:3], paired=False, better="higher")
    ref = sps.ttest_ind(A, B[:3], equal_var=False).confidence_interval(0.90)
    assert v.method == "welch t"
    assert (v.interval.low, v.interval.high) == pytest.approx((ref.low, ref.high))
    assert v.n == 3


def test_lower_is_better_measures_the_improvement_as_b_minus_a() -> None:
    loss_a, loss_b = [0.5, 0.52, 0.49], [0.8, 0.83, 0.79]
    v = decide_comparative(loss_a, loss_b, paired=True, better="lower")
    assert v.estimate == pytest.approx(float(np.mean(np.subtract(loss_b, loss_a))))
    assert v.outcome == "matched"


def test_a_confidently_reversed_direction_is_a_disagreement() -> None:
    assert decide_comparative(B, A, paired=True, better="higher").outcome == "disagreement"


def test_beating_b_by_less_than_the_margin_is_a_gap() -> None:
    v = decide_comparative(A, B, paired=True, better="higher", margin=0.2)
    assert v.outcome == "gap"
    assert v.delta == pytest.approx(v.estimate - 0.2)


@pytest.mark.parametrize(
    ("low", "high", "margin", "outcome"),
    [
        (0.1, 0.3, 0.05, "matched"),
        (0.01, 0.3, 0.05, "inconclusive"),
        (-0.1, 0.03, 0.05, "gap"),
        (-0.3, -0.1, 0.05, "disagreement"),
        (-0.1, 0.3, 0.0, "inconclusive"),
        (-0.1, -0.01, 0.0, "disagreement"),
    ],
)
def test_comparative_rules_without_the_papers_improvement(
    low: float, high: float, margin: float, outcome: str
) -> None:
    code = classify_comparative(
        low, high, margin=margin, paper_delta=None, tolerance=None, disagreement=3.0
    )
    assert outcome_of(int(code)) == outcome


@pytest.mark.parametrize(
    ("shift", "outcome"),
    [(0.05, "matched"), (0.03, "gap"), (0.07, "exceeded"), (-0.02, "disagreement")],
)
def test_comparative_rules_with_the_papers_improvement(shift: float, outcome: str) -> None:
    b = [0.90, 0.91, 0.92, 0.905, 0.915]
    a = [x + shift + e for x, e in zip(b, [0.0005, -0.0005, 0.0, 0.0003, -0.0003], strict=True)]
    v = decide_comparative(a, b, paired=True, better="higher", paper_delta=0.05, tolerance=0.01)
    assert v.outcome == outcome
    assert v.deviation_in_tol == pytest.approx(abs(v.estimate - 0.05) / 0.01)


def test_identical_differences_get_a_floor() -> None:
    v = decide_comparative([0.95, 0.96, 0.97], [0.90, 0.91, 0.92], paired=True, better="higher")
    assert v.interval.high > v.interval.low
    assert any(n.startswith("spread floor") for n in v.notes)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"paired": True, "better": "higher", "b": [0.9, 0.91]}, "same seeds"),
        ({"paired": True, "better": "none"}, "direction"),
        ({"paired": True, "better": "higher", "paper_delta": 0.1}, "needs a tolerance"),
        ({"paired": True, "better": "higher", "margin": -0.1}, "margin"),
        ({"paired": True, "better": "higher", "method": "hierarchical"}, "comparative"),
        ({"paired": True, "better": "higher", "method": "bootstrap-t"}, "5 or more pairs"),
        ({"paired": True, "better": "higher", "a": [0.9, math.nan, 0.9]}, "values of A"),
    ],
)
def test_unusable_comparisons_raise_stats_error(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"a": [0.95, 0.96, 0.94], "b": [0.90, 0.92, 0.91]}
    args.update(kwargs)
    a, b = args.pop("a"), args.pop("b")
    with pytest.raises(StatsError, match=match):
        decide_comparative(a, b, **args)  # type: ignore[arg-type]


def test_comparative_bootstrap_methods_are_named() -> None:
    rng = np.random.default_rng(5)
    a = list(rng.normal(0.95, 0.01, 20))
    b = list(rng.normal(0.90, 0.01, 20))
    assert decide_comparative(a, b, paired=True, better="higher", method="bootstrap-t").method == (
        "paired bootstrap-t (B=9999)"
    )
    assert decide_comparative(a, b, paired=False, better="higher", method="bca").method == (
        "two-sample bca (B=9999)"
    )
    v = decide_comparative(a, b, paired=False, better="higher", method="bootstrap-t")
    assert v.method == "welch bootstrap-t (B=9999)"
    assert v.outcome == "matched"


def test_one_seed_per_arm_is_inconclusive() -> None:
    v = decide_comparative([0.95], [0.90], paired=True, better="higher", tolerance=0.01)
    assert v.outcome == "inconclusive"
    assert v.deviation_in_tol == pytest.approx(5.0)


# --- the simulations measure the shipped rules -----------------------------------------------


@pytest.mark.parametrize(("n", "m"), [(2, None), (3, 5), (5, None), (1, 4)])
def test_simulated_outcomes_equal_decide_absolute_row_by_row(n: int, m: int | None) -> None:
    rng = np.random.default_rng(11)
    reps = 150
    true_mean, sd = 0.0, 0.6
    codes = absolute_codes(
        true_mean=true_mean, sd=sd, n=n, paper=0.0, tolerance=1.0, reps=reps, rng=rng, paper_m=m
    )
    rng = np.random.default_rng(11)
    x = rng.normal(true_mean, sd, (reps, n))
    paper_sds = rng.normal(true_mean, sd, (reps, m)).std(axis=1, ddof=1) if m else None
    for i in range(reps):
        spread = (
            None
            if paper_sds is None
            else PaperSpread(value=float(paper_sds[i]), kind="sd", seeds=m or 2)
        )
        v = decide_absolute(
            list(x[i]), paper=0.0, tolerance=1.0, paper_spread=spread, paper_sample=False
        )
        assert v.outcome == outcome_of(int(codes[i]))


def test_a_non_finite_example_names_its_seed_and_example() -> None:
    examples = [[1.0, 0.0], [1.0, math.nan], [0.0, 1.0]]
    with pytest.raises(StatsError, match=r"seed 8 \(index 1\): example 1 is nan"):
        decide_absolute(
            [0.5, 0.5, 0.5], paper=0.5, tolerance=0.1, examples=examples, seeds=[7, 8, 9]
        )


def test_paired_arms_of_different_length_are_refused_before_anything_else() -> None:
    with pytest.raises(StatsError, match="same seeds in both arms"):
        decide_comparative(
            [0.9, 0.91, 0.92], [0.9, 0.91], paired=True, better="higher", seeds=[1, 2, 3]
        )
