"""Sanity checks: cheap proofs that a paper's pipeline works, run before its claims.

Each check answers ``None`` when it passes, or a sentence saying what failed; a failed
check skips the paper's claims with that sentence. Every check's runs are recorded in
the ledger and reused while the code and config are unchanged.

Checks on what the paper's runs log (:mod:`pytest_repro.sanity.logged`), on the
paper's default config, seed 0, with the smoke budget:

* ``determinism`` — the same seed twice gives bit-identical metric series.
* ``finite`` — no NaN or Inf among the metrics a short run logs; with ``run.kit``, also
  none in the outputs, loss, gradients or parameters over the first few steps.
* ``train_test_overlap`` — no example of the test split also appears in the
  training split (``{train_test_overlap: {data: NAME, train: KEY, test: KEY}}``).

Checks that train the model themselves through the paper's ``run.kit``
(:mod:`pytest_repro.sanity.kit`), in a worker (:mod:`pytest_repro.sanity.torch_checks`):

* ``overfit_tiny_batch`` — k examples are memorised: the loss falls below a threshold.
* ``loss_at_init`` — the untrained model's loss is about ln(C).
* ``params_update`` — every parameter moves in one optimizer step.
* ``label_shuffle`` — trained on shuffled labels, held-out accuracy stays near chance.

Importing this package imports neither torch nor the run machinery.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from pytest_repro.spec.keys import KIT_CHECKS

if TYPE_CHECKING:
    from pytest_repro.execution.plan import Planner, RunRequest
    from pytest_repro.records import RunRecord
    from pytest_repro.spec.schema import PaperSpec, SanityCheck

    Obtain = Callable[[Sequence[RunRequest]], list[RunRecord]]


def run_check(check: SanityCheck, spec: PaperSpec, planner: Planner, obtain: Obtain) -> str | None:
    """None when ``check`` passes on ``spec``'s paper, else what failed."""
    from pytest_repro.sanity import cooperative, logged

    if check.name in KIT_CHECKS:
        return cooperative.kit_check(check, spec, planner, obtain).failure
    if check.name == "determinism":
        return logged.determinism(spec, planner, obtain)
    if check.name == "finite":
        if spec.run.kit:
            failure = cooperative.kit_check(check, spec, planner, obtain).failure
            if failure is not None:
                return failure
        return logged.finite(spec, planner, obtain)
    if check.name == "train_test_overlap":
        return logged.overlap(check, spec)
    raise ValueError(f"unknown sanity check {check.name!r}")


def check_requests(check: SanityCheck, spec: PaperSpec, planner: Planner) -> list[RunRequest]:
    """The runs :func:`run_check` would obtain for ``check``, planned without obtaining them."""
    from pytest_repro.sanity import cooperative, logged

    kit = [cooperative.kit_request(check, spec, planner)] if spec.run.kit else []
    if check.name in KIT_CHECKS:
        return kit
    if check.name == "determinism":
        return logged.short_requests(spec, planner, 2)
    if check.name == "finite":
        return kit + logged.short_requests(spec, planner, 1)
    return []  # train_test_overlap reads the data only


def __getattr__(name: str) -> object:
    if name in ("SanityKit", "KitError", "validate_kit"):
        from pytest_repro.sanity import kit

        return getattr(kit, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["check_requests", "run_check"]
