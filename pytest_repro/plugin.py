"""The pytest face of pytest-repro: options, configuration and collection.

Kept thin on purpose. Importing it loads only the option table, the vocabulary and
the stash keys: the spec loader, the run machinery and the statistics load when a
``paper.yaml`` is collected or a claim runs. At configure time it creates the
session's :class:`~pytest_repro.runtime.Runtime` (opened lazily) and, on the
controller only, the :class:`~pytest_repro.reporter.ReproReporter`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro import config as repro_config
from pytest_repro.keys import (
    CLAIM_RESULT_KEY,
    CONFIG_KEY,
    COUNTERS_OUTPUT,
    HEADER_KEY,
    PLAN_ATTR,
    PLAN_KEY,
    REPORTER_KEY,
    RESULT_ATTR,
    RUNTIME_KEY,
    SESSION_START_INPUT,
    SPEC_ERROR_ATTR,
    SPEC_PROBLEMS_KEY,
)

if TYPE_CHECKING:
    from pytest_repro.collect import PaperFile
    from pytest_repro.execution.service import Executor

MARKERS = (
    "repro: a claim or sanity check of a paper.yaml",
    "repro_absolute: an absolute claim (metric equals the paper's value within a tolerance)",
    "repro_comparative: a comparative claim (variant A beats variant B)",
    "repro_trend: a claim that a metric rises or falls over a sweep, or has a slope",
    "repro_peak: a claim that a curve's extremum lies in a range of the swept value",
    "repro_curve: a claim that a curve follows the paper's values or formula",
    "repro_sanity: a sanity check run before a paper's claims",
)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from pytest_repro import newhooks

    pluginmanager.add_hookspecs(newhooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    repro_config.addoptions(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    from pytest_repro.runtime import Runtime

    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    cfg = repro_config.resolve(config)
    config.stash[CONFIG_KEY] = cfg
    workerinput = getattr(config, "workerinput", None)
    # An xdist worker: "runs of this session" means runs since the controller started.
    start = (
        time.time()
        if workerinput is None
        else float(workerinput.get(SESSION_START_INPUT, time.time()))
    )
    runtime = Runtime(config, cfg, session_start=start)
    if workerinput is None and config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistController(start, runtime, config), "repro-xdist")
    config.stash[RUNTIME_KEY] = runtime
    from pytest_repro import fixtures

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "repro-fixtures")
    if workerinput is None:
        from pytest_repro.reporter import ReproReporter

        reporter = ReproReporter(cfg, runtime)
        config.stash[REPORTER_KEY] = reporter
        config.pluginmanager.register(reporter, "repro-reporter")
        # pytest-html builds a report only for --html (its hooks below are called only
        # then), so a session without one neither imports nor feeds our columns.
        if config.pluginmanager.hasplugin("html") and getattr(config.option, "htmlpath", None):
            from pytest_repro.report.html import HtmlReport

            config.pluginmanager.register(HtmlReport(), "repro-html")


def pytest_unconfigure(config: pytest.Config) -> None:
    reporter = config.stash.get(REPORTER_KEY, None)
    if reporter is not None:
        config.pluginmanager.unregister(reporter)
        del config.stash[REPORTER_KEY]
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is not None:
        runtime.close()
        del config.stash[RUNTIME_KEY]


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A paper's ``figures/`` folder, which the reports write beside the spec, holds only
    pictures: pytest does not walk it file by file (a folder there with Python files in it
    is collected as usual)."""
    if collection_path.name != "figures":
        return None
    cfg = config.stash.get(CONFIG_KEY, None)
    if cfg is None or not any((collection_path.parent / name).is_file() for name in cfg.files):
        return None
    try:
        with os.scandir(collection_path) as entries:
            if any(e.name.endswith(".py") or e.is_dir() for e in entries):
                return None
    except OSError:
        return None
    return True


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> PaperFile | None:
    cfg = parent.config.stash.get(CONFIG_KEY, None)
    if cfg is not None and file_path.name in cfg.files:
        from pytest_repro.collect import PaperFile

        return PaperFile.from_parent(parent, path=file_path)
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """``--repro-shard=I/N``: keep this shard's items (after ``-k``/``-m`` selection)."""
    runtime = config.stash.get(RUNTIME_KEY, None)
    if runtime is None or runtime.cfg.shard is None or not items:
        return
    from pytest_repro.shard_items import shard_items

    kept, dropped = shard_items(runtime, items, runtime.cfg.shard)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_collection_finish(session: pytest.Session) -> None:
    """Before the first claim: the working folder must be usable, or the session stops here."""
    runtime = session.config.stash.get(RUNTIME_KEY, None)
    if runtime is None or session.config.option.collectonly or runtime.cfg.plan:
        return
    if any(
        HEADER_KEY in item.stash or item.get_closest_marker("repro_sanity")
        for item in session.items
    ):
        runtime.check_workdir()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Put a claim's result (or a spec's problems) on its test report, where it crosses
    from an xdist worker to the controller."""
    report = yield
    if report.skipped and isinstance(report.longrepr, tuple) and item.get_closest_marker("repro"):
        # A paper item's skip is about its YAML line, not the plugin line that raised it.
        path, line, _ = item.reportinfo()
        report.longrepr = (str(path), (line or 0) + 1, report.longrepr[2])
    problems = item.stash.get(SPEC_PROBLEMS_KEY, None)
    if problems is not None and report.when == "call":
        setattr(report, SPEC_ERROR_ATTR, {"path": problems[0], "problems": list(problems[1])})
    plan = item.stash.get(PLAN_KEY, None)
    if plan is not None and report.when == "call":
        setattr(report, PLAN_ATTR, plan.to_json())
    header = item.stash.get(HEADER_KEY, None)
    if header is None:
        return report
    result = item.stash.get(CLAIM_RESULT_KEY, None)
    if result is None and report.when == "setup" and report.skipped:
        from pytest_repro.results import ClaimResult

        reason = ""
        if isinstance(report.longrepr, tuple):
            reason = str(report.longrepr[2]).removeprefix("Skipped: ")
        result = ClaimResult.skipped(header, reason)
    if result is not None and (
        report.when == "call" or (report.when == "setup" and not report.passed)
    ):
        runtime = item.config.stash.get(RUNTIME_KEY, None)
        data = runtime.result_data.to_json(result) if runtime is not None else result.to_json()
        setattr(report, RESULT_ATTR, data)
        if getattr(item.config.option, "htmlpath", None):  # pytest-html writes a report
            from pytest_repro.report.html import claim_extra

            report.extras = [*getattr(report, "extras", []), claim_extra(result)]  # type: ignore[attr-defined]
    return report


@pytest.hookimpl(optionalhook=True)
def pytest_metadata(metadata: dict[str, Any], config: pytest.Config) -> None:
    """pytest-html's Environment table gains torch, numpy, scipy and the GPUs, when a report
    is written (pytest-metadata asks every session; nvidia-smi only runs for a report)."""
    if getattr(config.option, "htmlpath", None):
        from pytest_repro.report.html import environment_metadata

        environment_metadata(metadata)


@pytest.hookimpl(trylast=True)
def pytest_repro_make_executor(config: pytest.Config, cfg: repro_config.ReproConfig) -> Executor:
    """The default: worker processes, or pytest's own process with ``--repro-inprocess``."""
    from pytest_repro.execution.service import default_executor

    return default_executor(cfg, usepdb=bool(config.option.usepdb))


class XdistController:
    """Hands controller facts to xdist workers through ``workerinput``, and takes their
    run counts back through ``workeroutput`` so the summary counts every worker's runs."""

    def __init__(self, session_start: float, runtime: Any, config: pytest.Config) -> None:
        self.session_start = session_start
        self.runtime = runtime
        self.config = config
        self._forecast_shown = False
        self._nodes = 0

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[SESSION_START_INPUT] = self.session_start
        self._nodes += 1

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """The session's forecast, as a serial session prints it at collection: the
        controller collects nothing, so it plans the items the first worker collected."""
        if self._forecast_shown or self.runtime.cfg.plan or self.config.option.collectonly:
            return
        self._forecast_shown = True
        from pytest_repro.forecast_items import forecast_for_ids

        line = forecast_for_ids(self.config, self.runtime, ids, processes=self._nodes)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if line is not None and reporter is not None:
            from pytest_repro.report.escape import terminal_line

            reporter.write_line(terminal_line(line))

    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        counts = getattr(node, "workeroutput", {}).get(COUNTERS_OUTPUT)
        if isinstance(counts, dict):
            self.runtime.worker_counters.append(counts)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand this worker's run counts to the controller."""
    output = getattr(session.config, "workeroutput", None)
    runtime = session.config.stash.get(RUNTIME_KEY, None)
    if output is None or runtime is None or runtime.counters is None:
        return
    from dataclasses import asdict

    output[COUNTERS_OUTPUT] = asdict(runtime.counters)
