"""Sanity checks that train the model through ``run.kit``: a healthy trainer passes them,
and each deliberately broken copy is caught by the check meant for it."""

from __future__ import annotations

import os

import pytest

from tests.plugin.conftest import MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")

#: An MLP on ten Gaussian classes, with the kit that reuses its model, data, loss and
#: optimizer. Every call of kit() is counted in kit.log (ignored by the code hash).
TRAIN = """\
import pathlib

import torch
from torch import nn

CLASSES, DIM = 10, 16


def make_data(n, seed):
    centers = torch.randn(CLASSES, DIM, generator=torch.Generator().manual_seed(123))
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, CLASSES, (n,), generator=g)
    return centers[y] + torch.randn(n, DIM, generator=g), y


X, Y = make_data(512, 0)
X_TEST, Y_TEST = make_data(512, 1)


def build(cfg):
    return nn.Sequential(nn.Linear(DIM, cfg["hidden"]), nn.ReLU(), nn.Linear(cfg["hidden"], CLASSES))


def batches(x, y, k):
    for i in range(0, len(y) - k + 1, k):
        yield x[i : i + k], y[i : i + k]


def optimizer(cfg, params):
    return torch.optim.Adam(params, lr=cfg["lr"])


def run(ctx):
    cfg = ctx.config
    model = build(cfg)
    opt = optimizer(cfg, model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, cfg["epochs"] + 1):
        for xb, yb in batches(X, Y, 64):
            loss = loss_fn(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            acc = (model(X_TEST).argmax(1) == Y_TEST).float().mean().item()
        ctx.log(epoch=epoch, acc=acc, loss=loss.item())


def kit(ctx):
    from pytest_repro import SanityKit

    with (pathlib.Path(ctx.paper_dir) / "kit.log").open("a") as log:
        log.write("kit\\n")
    cfg = ctx.config
    return SanityKit(
        model=lambda: build(cfg),
        train_batches=lambda k: batches(X, Y, k),
        heldout_batches=lambda k: batches(X_TEST, Y_TEST, k),
        loss=nn.CrossEntropyLoss(),
        optimizer=lambda params: optimizer(cfg, params),
        classes=CLASSES,
    )
"""

HEADER = """\
paper:
  id: "{paper_id}"
  title: A paper for sanity checks
run:
  entrypoint: train:run
  kit: train:kit
  config:
    hidden: 32
    lr: 0.01
    epochs: 2
"""

COOPERATIVE = ("overfit_tiny_batch", "loss_at_init", "params_update", "finite", "label_shuffle")

#: Helpers the broken copies need, appended to the trainer.
EXTRA = """\


def frozen_first_layer(cfg):
    model = build(cfg)
    model[0].requires_grad_(False)
    return model


def warm_start_on_all_data(cfg):
    model = build(cfg)
    x, y = torch.cat([X, X_TEST]), torch.cat([Y, Y_TEST])
    opt = optimizer(cfg, model.parameters())
    for _ in range(3):
        for xb, yb in batches(x, y, 32):
            loss = nn.functional.cross_entropy(model(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model


class Temperature(nn.Module):
    def forward(self, x):
        return x / 1000.0
"""


def broken(old: str, new: str) -> str:
    assert old in TRAIN, old
    return TRAIN.replace(old, new) + EXTRA


def sanity(*checks: str) -> str:
    return "sanity:\n" + "".join(f"  - {c}\n" for c in checks)


def test_a_healthy_trainer_passes_every_cooperative_check(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(train=TRAIN, header=HEADER, top=sanity(*COOPERATIVE))
    result = pytester.runpytest("-v", "-k", "sanity", *FAST)
    result.assert_outcomes(passed=len(COOPERATIVE), deselected=1)
    result.stdout.fnmatch_lines([f"*::sanity[[]{c}[]] PASSED*" for c in COOPERATIVE])


@pytest.mark.parametrize(
    ("what", "old", "new", "check", "message"),
    [
        (
            # inputs and targets shuffled by separate permutations: every pass pairs them anew
            "labels misaligned with inputs",
            "train_batches=lambda k: batches(X, Y, k),",
            "train_batches=lambda k: batches(X[torch.randperm(len(Y))], Y[torch.randperm(len(Y))], k),",
            "overfit_tiny_batch",
            "*overfit_tiny_batch failed: loss 2.* after 300 steps on 8 examples (from 2.*), expected < 0.05;*",
        ),
        (
            "an optimizer that never steps the model's parameters",
            "optimizer=lambda params: optimizer(cfg, params),",
            "optimizer=lambda params: optimizer(cfg, build(cfg).parameters()),",
            "params_update",
            "*params_update failed: 4 of 4 parameters did not change after one optimizer step: "
            "0.weight, 0.bias, 2.weight, 2.bias;*",
        ),
        (
            "a frozen layer",
            "model=lambda: build(cfg),",
            "model=lambda: frozen_first_layer(cfg),",
            "params_update",
            "*params_update failed: 2 of 4 parameters did not change after one optimizer step: "
            "0.weight (requires_grad=False), 0.bias (requires_grad=False);*",
        ),
        (
            "the test set leaked into training (a warm start on train and test)",
            "model=lambda: build(cfg),",
            "model=lambda: warm_start_on_all_data(cfg),",
            "label_shuffle",
            "*label_shuffle failed: held-out accuracy 9*% on 512 examples before any training "
            "on 256 examples with shuffled labels, expected at most 20.0% (chance 10.0% + margin 0.1);*",
        ),
        (
            "a learning rate that produces NaN",
            "    lr: 0.01\n",
            "    lr: 1.0e+30\n",
            "finite",
            "*finite failed: * in the outputs at step 2 of 5 on 8 examples;*",
        ),
        (
            "a model that cannot fit (logits divided by 1000)",
            "model=lambda: build(cfg),",
            "model=lambda: nn.Sequential(build(cfg), Temperature()),",
            "overfit_tiny_batch",
            "*overfit_tiny_batch failed: loss 0.* after 300 steps on 8 examples*expected < 0.05;*",
        ),
    ],
)
def test_each_broken_trainer_is_caught_by_the_check_meant_for_it(
    pytester: pytest.Pytester,
    make_paper: MakePaper,
    what: str,
    old: str,
    new: str,
    check: str,
    message: str,
) -> None:
    header, train = HEADER, TRAIN + EXTRA
    if old in HEADER:
        header = HEADER.replace(old, new)
    else:
        train = broken(old, new)
    make_paper(train=train, header=header, top=sanity(*COOPERATIVE))
    result = pytester.runpytest("-v", "-k", "sanity", *FAST)
    result.stdout.fnmatch_lines([f"*::sanity[[]{check}[]] FAILED*", message])
    failed = [c for c in COOPERATIVE if f"sanity[{c}] FAILED" in result.stdout.str()]
    assert check in failed, what


def test_a_cooperative_check_without_a_kit_is_a_load_error_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    header = HEADER.replace("  kit: train:kit\n", "")
    make_paper(train=TRAIN, header=header, top=sanity("determinism", "overfit_tiny_batch"))
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    line = (
        (header + sanity("determinism", "overfit_tiny_batch"))
        .splitlines()
        .index("  - overfit_tiny_batch")
    )
    result.stdout.fnmatch_lines(
        [
            f"*papers/p1/paper.yaml:{line + 1}: sanity[[]1[]]: overfit_tiny_batch trains the "
            "model itself and needs run.kit, which this paper does not give",
            "*fix: add kit: train:kit to run:*",
        ]
    )


def test_a_failed_cooperative_check_skips_the_claims_with_the_reason(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    train = broken("model=lambda: build(cfg),", "model=lambda: frozen_first_layer(cfg),")
    make_paper(train=train, header=HEADER, top=sanity("params_update"), claims=claim())
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*::acc [[]skipped: sanity check params_update failed*: 2 of 4 parameters did not "
            "change after one optimizer step*",
        ]
    )


def test_a_checks_run_is_recorded_and_reused_while_code_and_config_are_unchanged(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(train=TRAIN, header=HEADER, top=sanity("loss_at_init"))
    pytester.runpytest("-k", "sanity", *FAST).assert_outcomes(passed=1, deselected=1)
    pytester.runpytest("-k", "sanity", *FAST).assert_outcomes(passed=1, deselected=1)
    assert (folder / "kit.log").read_text().count("kit") == 1
    (folder / "paper.yaml").write_text(
        (folder / "paper.yaml")
        .read_text()
        .replace("- loss_at_init", "- loss_at_init: {examples: 32}")
    )
    pytester.runpytest("-k", "sanity", *FAST).assert_outcomes(passed=1, deselected=1)
    assert (folder / "kit.log").read_text().count("kit") == 2


def test_a_checks_arguments_change_its_budget_and_its_message(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    top = "sanity:\n  - overfit_tiny_batch: {examples: 4, steps: 2, below: 0.0001}\n"
    make_paper(train=TRAIN, header=HEADER, top=top)
    result = pytester.runpytest("-k", "sanity", *FAST)
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*overfit_tiny_batch failed: loss * after 2 steps on 4 examples (from *), expected < 0.0001;*"
        ]
    )


def test_a_kit_that_returns_something_else_fails_the_check_saying_what_to_return(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    train = TRAIN + "\n\ndef kit(ctx):\n    return {'model': build}\n"
    make_paper(train=train, header=HEADER, top=sanity("params_update"))
    result = pytester.runpytest("-k", "sanity", *FAST)
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*params_update failed: the short run * ended failed: KitError: run.kit train:kit "
            "returned dict, not a SanityKit*"
        ]
    )


def test_the_checks_run_in_worker_processes_and_record_their_numbers(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(train=TRAIN, header=HEADER, top=sanity("params_update"))
    result = pytester.runpytest("-k", "sanity", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=1)
    from pytest_repro.ledger import SQLiteLedger

    ledger = SQLiteLedger(pytester.path / ".repro" / "ledger.sqlite")
    try:
        records = list(ledger.records())
    finally:
        ledger.close()
    (record,) = [r for r in records if "sanity" in r.evidence]
    answer = record.evidence["sanity"]
    assert answer["check"] == "params_update" and answer["passed"] is True
    assert answer["numbers"]["parameters"] == 4 and answer["numbers"]["unchanged"] == 0
    assert record.evidence["pid"] != os.getpid()  # run by a worker process, not by pytest
    assert str(record.evidence["purpose"]).startswith("sanity:params_update:train:kit:")


PAPER_TEST = """\
import pytest


def test_the_mlp_memorises_eight_examples(repro_sanity):
    numbers = repro_sanity("overfit_tiny_batch", steps=100)
    assert numbers["loss"] < 0.05 and numbers["steps"] < 100


def test_every_parameter_moves(repro_sanity):
    assert repro_sanity("params_update")["unchanged"] == 0
"""


def test_the_checks_are_fixtures_for_a_papers_own_tests(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(train=TRAIN, header=HEADER)
    (folder / "test_model.py").write_text(PAPER_TEST)
    result = pytester.runpytest(str(folder / "test_model.py"), *FAST)
    result.assert_outcomes(passed=2)


def test_a_fixture_check_fails_the_test_with_the_checks_message(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    train = broken("model=lambda: build(cfg),", "model=lambda: frozen_first_layer(cfg),")
    folder = make_paper(train=train, header=HEADER)
    (folder / "test_model.py").write_text(PAPER_TEST)
    result = pytester.runpytest(str(folder / "test_model.py"), *FAST)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*sanity check params_update failed: 2 of 4 parameters did not change after one "
            "optimizer step: 0.weight (requires_grad=False), 0.bias (requires_grad=False);*"
        ]
    )
