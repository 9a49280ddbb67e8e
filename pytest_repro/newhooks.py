"""Hooks other plugins implement to extend pytest-repro.

Added with ``pluginmanager.add_hookspecs`` when the plugin loads. A plugin (a
``conftest.py`` or an installed package with a ``pytest11`` entry point) implements
them under these names::

    # conftest.py: run every paper's runs on a cluster
    def pytest_repro_make_executor(config, cfg):
        return MyClusterExecutor(cfg.workdir / "cluster")

    # a log format: run.metrics: {tensorboard: "{run_dir}/tb"}
    def pytest_repro_metric_readers(config):
        return [TensorBoardReader()]

This module defines specifications only; it imports nothing heavy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_repro.config import ReproConfig
    from pytest_repro.execution.readers import MetricReader
    from pytest_repro.execution.service import Executor


@pytest.hookspec(firstresult=True)
def pytest_repro_make_executor(config: pytest.Config, cfg: ReproConfig) -> Executor | None:
    """Return the executor that runs this process's runs, or None to leave it to others.

    The first non-None result wins, so a plugin's executor replaces the default worker
    pool (pytest-repro's own implementation runs last). An executor has
    ``execute(task, key, timeout, memory) -> Outcome`` and ``close()``; see
    :class:`pytest_repro.execution.service.Executor`. Its records go into the same ledger.
    Called once per pytest process, on the first claim that needs a run.
    """


def pytest_repro_metric_readers(config: pytest.Config) -> Sequence[MetricReader]:
    """Return metric readers to add to the built-in ones (``jsonl``, ``csv``, ``regex``).

    Each reader has a ``format`` (the key it claims under ``run.metrics``) and
    ``read(where) -> list of points``; see :class:`pytest_repro.execution.readers.MetricReader`.
    Two readers claiming one format stop the session with a usage error.
    """
    return ()


__all__ = ["pytest_repro_make_executor", "pytest_repro_metric_readers"]
