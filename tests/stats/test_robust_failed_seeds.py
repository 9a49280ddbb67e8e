from __future__ import annotations

from pytest_repro.stats import PaperSpread, decide_absolute
from pytest_repro.stats.robust import find_failed, wilson


def test_a_seed_far_below_the_others_is_named_as_failed_at_three_seeds() -> None:
    v = decide_absolute([0.92, 0.921, 0.31], paper=0.92, tolerance=0.01, seeds=[1, 2, 3])
    assert v.outcome == "inconclusive"
    assert any(n.startswith("failed seed: seed 3 (index 2) gave 0.31") for n in v.notes)
    assert any(n.startswith("success rate: 2 of 3") for n in v.notes)
    assert "worse side widened" in v.method


def test_a_claim_about_successful_runs_sets_the_failed_seed_aside() -> None:
    v = decide_absolute([0.92, 0.921, 0.31], paper=0.92, tolerance=0.01, about="successful")
    assert v.outcome == "matched" and v.n == 2


def test_a_declared_threshold_decides_which_seeds_failed() -> None:
    x = [0.92, 0.90, 0.921]
    assert find_failed(
        __import__("numpy").array(x), tolerance=0.01, better="higher", failed_below=0.91
    ).failed == (1,)


def test_clean_seeds_lose_no_seed() -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    hits = sum(
        bool(find_failed(rng.normal(0, 0.5, 3), tolerance=1.0, better="higher").failed)
        for _ in range(2000)
    )
    assert hits == 0


def test_wilson_interval() -> None:
    lo, hi = wilson(2, 3)
    assert round(lo, 3) == 0.208 and round(hi, 3) == 0.939


def test_the_paper_as_a_second_sample_keeps_the_df_of_the_sd_it_uses() -> None:
    spread = PaperSpread(value=0.001, kind="sd", seeds=10)
    v = decide_absolute([0.90, 0.91], paper=0.905, tolerance=0.02, paper_spread=spread)
    assert v.outcome == "inconclusive"


def test_a_normal_ci95_is_converted_with_196() -> None:
    from pytest_repro.stats.intervals import paper_sd

    sd = paper_sd(PaperSpread(value=1.96, kind="ci95", seeds=4, ci_method="normal"))
    assert abs(sd - 2.0) < 1e-3


def test_a_deterministic_claim_uses_the_test_sets_binomial_error() -> None:
    v = decide_absolute(
        [0.905], paper=0.90, tolerance=0.01, deterministic=True, test_examples=10000
    )
    assert v.outcome == "matched" and v.method.startswith("deterministic (test-set binomial")
