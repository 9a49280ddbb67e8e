"""``--repro-plan``: what a session would run and why, executing nothing; and the forecast."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import MakePaper, calls, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")
PLAN = ("--repro-plan", "-v", *FAST)


def two_claims(make_paper: MakePaper) -> Path:
    return make_paper(claims=claim("a") + claim("b", extra="config: {base: 0.9}"))


def edit(folder: Path, old: str, new: str) -> None:
    path = folder / "paper.yaml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_on_a_warm_ledger_the_plan_has_nothing_to_run_and_executes_nothing(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert calls(folder) == 3
    result = pytester.runpytest(*PLAN)
    result.assert_outcomes(skipped=1)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*::acc [[]plan: 0 to run, 3 cached[]]*",
            "*= reproduction plan =*",
            "papers/p1/paper.yaml::acc: 0 to run, 3 cached",
            "repro plan: 3 runs, 3 cached, 0 to run; nothing to compute",
        ]
    )
    assert calls(folder) == 3


def test_after_editing_one_variants_config_only_its_runs_are_planned_with_the_change(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = two_claims(make_paper)
    pytester.runpytest(*FAST).assert_outcomes(passed=2)
    edit(folder, "config: {base: 0.9}", "config: {base: 0.905}")
    result = pytester.runpytest(*PLAN)
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*::a [[]plan: 0 to run, 3 cached[]]*",
            "*::b [[]plan: 3 to run (config changed), 0 cached[]]*",
            "papers/p1/paper.yaml::a: 0 to run, 3 cached",
            "papers/p1/paper.yaml::b: 3 to run, 0 cached",
            "    p1 [[]base=0.905[]] seed 0: config changed: base 0.9 → 0.905 (~* s)",
            "    p1 [[]base=0.905[]] seed 1: config changed: base 0.9 → 0.905 (~* s)",
            "    p1 [[]base=0.905[]] seed 2: config changed: base 0.9 → 0.905 (~* s)",
            "repro plan: 6 runs, 3 cached, 3 to run; ~* s of compute, ~* s on * worker*"
            " (estimated from recorded runs)",
        ]
    )
    assert result.stdout.str().count("config changed: base") == 3
    assert calls(folder) == 3


def test_a_paper_never_run_plans_every_run_as_never_run_without_an_estimate(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    result = pytester.runpytest(*PLAN)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*::acc [[]plan: 3 to run (never run), 0 cached[]]*",
            "repro plan: 3 runs, 0 cached, 3 to run; no estimate (no recorded runs of these papers)",
        ]
    )
    assert result.stdout.str().count(": never run") == 3
    assert calls(folder) == 0
    assert not (pytester.path / ".repro" / "ledger.sqlite").exists()


def test_a_forced_rerun_is_planned_as_forced(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    pytester.runpytest(*FAST)
    result = pytester.runpytest("--repro-rerun=acc", *PLAN)
    result.stdout.fnmatch_lines(["*::acc [[]plan: 3 to run (forced), 0 cached[]]*"])
    assert result.stdout.str().count("forced (--repro-rerun)") == 3


def test_a_run_that_failed_is_planned_again_because_it_failed(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    edit(folder, "fail_seed: -1", "fail_seed: 1")
    pytester.runpytest(*FAST).assert_outcomes(failed=1)
    result = pytester.runpytest(*PLAN)
    result.stdout.fnmatch_lines(
        [
            "*::acc [[]plan: 1 to run (last run failed), 2 cached[]]*",
            "    p1 [[]defaults[]] seed 1: last run failed (failed)*",
        ]
    )


def test_sanity_checks_are_planned_with_their_own_runs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(top="sanity: [determinism]\n")
    result = pytester.runpytest(*PLAN)
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*::sanity[[]determinism[]] [[]plan: 2 to run (never run), 0 cached[]]*",
            "*::acc [[]plan: 3 to run (never run), 0 cached[]]*",
            "repro plan: 5 runs, 0 cached, 5 to run*",
        ]
    )


def test_a_plan_writes_no_results_md_and_no_json(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST)
    (folder / "results.md").unlink()
    result = pytester.runpytest("--repro-json=out.json", *PLAN)
    result.assert_outcomes(skipped=1)
    assert not (folder / "results.md").exists()
    assert not (pytester.path / "out.json").exists()


def test_a_normal_session_starts_with_a_forecast_estimated_from_recorded_runs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = two_claims(make_paper)
    pytester.runpytest(*FAST)
    edit(folder, "config: {base: 0.9}", "config: {base: 0.905}")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "collected 2 items",
            "repro plan: 6 runs, 3 cached, 3 to run; ~* s of compute, ~* s on * worker*"
            " (estimated from recorded runs)",
            "*passed*",
        ]
    )
    assert calls(folder) == 6


def test_collect_only_prints_no_forecast_and_opens_no_ledger(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    result = pytester.runpytest("--co", *FAST)
    assert "repro plan" not in result.stdout.str()
    assert not (pytester.path / ".repro" / "ledger.sqlite").exists()


def test_the_plan_flag_is_also_an_environment_variable(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper()
    monkeypatch.setenv("PYTEST_REPRO_PLAN", "1")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*= reproduction plan =*"])
    assert calls(folder) == 0


SLOW_EPOCHS = """\
import time
def run(ctx):
    for epoch in range(1, ctx.config["epochs"] + 1):
        time.sleep(0.02)
        ctx.log(epoch=epoch, acc=0.9 + 0.001 * (ctx.seed - 1))
        if ctx.budget_spent(epoch):
            return
"""


def test_after_a_smoke_session_the_plan_estimates_full_runs_from_the_smoke_stages(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(train=SLOW_EPOCHS, claims=claim().replace("{epoch: 5}", "{epoch: 100}"))
    edit(folder, "epochs: 5", "epochs: 100")
    pytester.runpytest("--repro-smoke", "--repro-smoke-steps=10", *FAST).assert_outcomes(passed=1)
    result = pytester.runpytest(*PLAN)
    # 1 epoch and 10 epochs of 20 ms each: about 2 s to epoch 100 per run
    result.stdout.fnmatch_lines(
        [
            "    p1 [[]defaults[]] seed 0: never run (~* s, from smoke stages)",
            "repro plan: 3 runs, 0 cached, 3 to run; ~* s of compute, ~* s on 1 worker"
            " (estimated from smoke stages)",
        ]
    )
    seconds = [
        int(line.split("(~")[1].split(" s")[0])
        for line in result.outlines
        if "from smoke stages)" in line and "seed" in line
    ]
    assert len(seconds) == 3
    assert all(2 <= s <= 10 for s in seconds), seconds


def test_under_xdist_the_session_starts_with_the_forecast_as_a_serial_session_does(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    pytest.importorskip("xdist")
    make_paper(claims=claim("a") + claim("b", extra="config: {base: 0.9001}"))
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    first.assert_outcomes(passed=2)
    first.stdout.fnmatch_lines(["repro plan: 6 runs, 0 cached, 6 to run; no estimate*"])
    edit(pytester.path / "papers" / "p1", "base: 0.9001", "base: 0.9002")
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    again.assert_outcomes(passed=2)
    again.stdout.fnmatch_lines(
        ["repro plan: 6 runs, 3 cached, 3 to run; ~* s of compute, ~* s on 2 workers*"]
    )
    assert again.stdout.str().count("repro plan:") == 1


def test_the_plan_shows_the_power_of_claims_that_give_the_papers_spread(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    with_spread = claim("a", extra="seeds: 5").replace(
        "paper: 0.9\n", "paper: {value: 0.9, sd: 0.004, seeds: 5}\n"
    )
    make_paper(claims=with_spread + claim("b", extra="config: {base: 0.95}"))
    result = pytester.runpytest(*PLAN)
    result.stdout.fnmatch_lines(
        [
            "*= power if the paper is right =*",
            "papers/p1/paper.yaml: from the paper's own sd",
            "    papers/p1/paper.yaml::a: matched *% of the time at 5 seeds if the paper is right"
            " (paper sd 0.004); 80% of the time from * seeds",
            "    papers/p1/paper.yaml::b: 3 seeds; spread unknown*",
        ]
    )
