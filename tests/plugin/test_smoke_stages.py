"""Smoke runs in stages: forward pass (with a kit), one step, then N steps; the first stage
that fails stops the claim and is named; each stage's cost is shown and written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")

#: Logs acc at every step up to its budget, records the budget it saw in budgets.log,
#: and fails at step ``fail_at`` (0: never).
TRAIN = """\
import pathlib

def run(ctx):
    with (pathlib.Path(ctx.paper_dir) / "budgets.log").open("a") as f:
        f.write(f"{ctx.max_steps}\\n")
    for step in range(1, 1001):
        if ctx.config.get("fail_at") == step:
            raise RuntimeError(f"broke at step {step}")
        ctx.log(step=step, acc=0.5)
        if ctx.budget_spent(step):
            break
"""

HEADER = """\
paper:
  id: "{paper_id}"
  title: A paper for smoke stages
run:
  entrypoint: train:run
  config:
    fail_at: 0
"""

STEP_CLAIM = claim().replace("at: {epoch: 5}", "at: {step: 1000}")


def budgets(folder: Path) -> list[str]:
    log = folder / "budgets.log"
    return log.read_text().split() if log.exists() else []


def test_stages_run_in_order_with_a_budget_of_one_step_then_n_steps(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=STEP_CLAIM, train=TRAIN, header=HEADER)
    result = pytester.runpytest("-v", "--repro-smoke", "--repro-smoke-steps=5", *FAST)
    result.assert_outcomes(passed=1)
    assert budgets(folder) == ["1", "5"]
    result.stdout.fnmatch_lines(["*::acc [[]smoke ok: acc logged (up to step 5); one step *"])


def test_a_run_that_fails_beyond_step_one_fails_at_the_n_steps_stage_with_its_error(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=STEP_CLAIM, train=TRAIN, header=HEADER.replace("0\n", "3\n"))
    result = pytester.runpytest("-v", "--repro-smoke", "--repro-smoke-steps=5", *FAST)
    result.assert_outcomes(failed=1)
    assert budgets(folder) == ["1", "5"]
    result.stdout.fnmatch_lines(
        ["*smoke failed at stage '5 steps': RuntimeError: broke at step 3*"]
    )


def test_a_run_that_fails_at_step_one_stops_there_and_never_runs_the_next_stage(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=STEP_CLAIM, train=TRAIN, header=HEADER.replace("0\n", "1\n"))
    result = pytester.runpytest("-v", "--repro-smoke", "--repro-smoke-steps=5", *FAST)
    result.assert_outcomes(failed=1)
    assert budgets(folder) == ["1"]
    result.stdout.fnmatch_lines(
        ["*smoke failed at stage 'one step': RuntimeError: broke at step 1*"]
    )
    result.stdout.no_fnmatch_line("*5 steps*ok*")


def test_each_stage_shows_its_wall_time_and_peak_memory_in_the_terminal_and_the_json(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=STEP_CLAIM, train=TRAIN, header=HEADER)
    result = pytester.runpytest(
        "-v",
        "--repro-smoke",
        "--repro-smoke-steps=4",
        "--repro-json=out.json",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*= smoke stages =*",
            "claim*stage*wall*peak rss*cuda max*status",
            "p1::acc*one step*s*MiB*-*ok",
            "p1::acc*4 steps*s*MiB*-*ok",
        ]
    )
    document = json.loads((pytester.path / "out.json").read_text())
    (entry,) = document["papers"][0]["claims"]
    stages = entry["smoke_stages"]
    assert [s["stage"] for s in stages] == ["one step", "4 steps"]
    assert all(s["status"] == "ok" for s in stages)
    assert all(isinstance(s["wall_s"], float) and s["wall_s"] >= 0 for s in stages)
    assert all(isinstance(s["peak_rss"], int) and s["peak_rss"] > 10 * 2**20 for s in stages)
    assert all(s["cuda_max_allocated"] is None for s in stages)
    assert [s["run"] for s in stages] == entry["runs"]


def test_smoke_runs_do_not_satisfy_a_later_full_session(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=STEP_CLAIM, train=TRAIN, header=HEADER)
    smoke = pytester.runpytest("--repro-smoke", "--repro-smoke-steps=3", *FAST)
    smoke.assert_outcomes(passed=1)
    assert budgets(folder) == ["1", "3"]
    full = pytester.runpytest("-v", *FAST)
    assert budgets(folder) == ["1", "3", "None", "None", "None"]
    full.stdout.fnmatch_lines(["*3 run(s) executed*, 0 reused from the ledger*"])


KIT_TRAIN = (
    TRAIN
    + """

def kit(ctx):
    import torch
    from torch import nn
    from pytest_repro import SanityKit

    with (pathlib.Path(ctx.paper_dir) / "budgets.log").open("a") as f:
        f.write("kit\\n")
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))

    def batches(k):
        for i in range(0, len(y) - k + 1, k):
            yield x[i : i + k], y[i : i + k]

    return SanityKit(
        model=lambda: nn.Linear(4, ctx.config["outputs"]),
        train_batches=batches,
        loss=nn.CrossEntropyLoss(),
        optimizer=lambda params: torch.optim.SGD(params, lr=0.1),
        classes=3,
    )
"""
)

KIT_HEADER = HEADER.replace(
    "  entrypoint: train:run\n", "  entrypoint: train:run\n  kit: train:kit\n"
).replace("    fail_at: 0\n", "    fail_at: 0\n    outputs: 3\n")


def test_a_paper_with_a_kit_first_runs_a_forward_pass_of_its_model(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    pytest.importorskip("torch")
    folder = make_paper(claims=STEP_CLAIM, train=KIT_TRAIN, header=KIT_HEADER)
    result = pytester.runpytest("-v", "--repro-smoke", "--repro-smoke-steps=2", *FAST)
    result.assert_outcomes(passed=1)
    assert budgets(folder) == ["kit", "1", "2"]
    result.stdout.fnmatch_lines(
        ["*smoke ok: acc logged (up to step 2); forward pass * s; one step*"]
    )
    result.stdout.fnmatch_lines(["p1::acc*forward pass*ok"])


def test_a_model_that_cannot_take_the_batch_fails_at_the_forward_pass_stage(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    pytest.importorskip("torch")
    train = KIT_TRAIN.replace("nn.Linear(4, ", "nn.Linear(5, ")  # inputs have 4 features
    folder = make_paper(claims=STEP_CLAIM, train=train, header=KIT_HEADER)
    result = pytester.runpytest("-v", "--repro-smoke", "--repro-smoke-steps=2", *FAST)
    result.assert_outcomes(failed=1)
    assert budgets(folder) == ["kit"]
    result.stdout.fnmatch_lines(["*smoke failed at stage 'forward pass': RuntimeError: *"])
