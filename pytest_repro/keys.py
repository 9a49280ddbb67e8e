"""Where pytest-repro keeps its per-session objects on ``config.stash`` and ``item.stash``.

A leaf module: it imports nothing of the package at run time, so every other module
may use it without forming an import circle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_repro.config import ReproConfig
    from pytest_repro.forecast import ItemPlan
    from pytest_repro.reporter import ReproReporter
    from pytest_repro.results import ClaimHeader, ClaimResult
    from pytest_repro.runtime import Runtime

#: The resolved settings of the session.
CONFIG_KEY: pytest.StashKey[ReproConfig] = pytest.StashKey()
#: The lazily opened run machinery (ledger, planner, run service, evaluator).
RUNTIME_KEY: pytest.StashKey[Runtime] = pytest.StashKey()
#: The reporter on the controller (never on an xdist worker).
REPORTER_KEY: pytest.StashKey[ReproReporter] = pytest.StashKey()

#: On a claim item: what the claim says (its result's fixed part), set at collection.
HEADER_KEY: pytest.StashKey[ClaimHeader] = pytest.StashKey()
#: On a claim item: its result, once it has one.
CLAIM_RESULT_KEY: pytest.StashKey[ClaimResult] = pytest.StashKey()
#: On a claim or sanity item under ``--repro-plan``: the runs it would obtain.
PLAN_KEY: pytest.StashKey[ItemPlan] = pytest.StashKey()
#: On a spec-error item: the malformed file (as shown) and its problems.
SPEC_PROBLEMS_KEY: pytest.StashKey[tuple[str, tuple[str, ...]]] = pytest.StashKey()

#: The attribute of a test report that carries a claim's result (JSON), so it crosses
#: from xdist workers to the controller.
RESULT_ATTR = "repro_result"
#: The attribute of a test report that carries an item's plan (JSON) under ``--repro-plan``.
PLAN_ATTR = "repro_plan"
#: The attribute of a test report that carries a malformed spec's problems.
SPEC_ERROR_ATTR = "repro_spec_error"
#: The key of ``workerinput`` holding when the controller's session started.
SESSION_START_INPUT = "repro_session_start"
#: ``workeroutput`` key: an xdist worker's run counts, summed by the controller.
COUNTERS_OUTPUT = "repro_counters"

__all__ = [
    "CLAIM_RESULT_KEY",
    "CONFIG_KEY",
    "COUNTERS_OUTPUT",
    "HEADER_KEY",
    "PLAN_ATTR",
    "PLAN_KEY",
    "REPORTER_KEY",
    "RESULT_ATTR",
    "RUNTIME_KEY",
    "SESSION_START_INPUT",
    "SPEC_ERROR_ATTR",
    "SPEC_PROBLEMS_KEY",
]
