"""The reporter: what the session shows and writes once claims have results.

Registered on the controller only (never on an xdist worker), kept under
:data:`~pytest_repro.keys.REPORTER_KEY` and unregistered at unconfigure, as pytest's
own JUnit reporter is. It reads each claim's result from its test report (where it
crossed from the worker), labels the terminal line, prints the verdict table and
writes results.md, the JSON document and the GitHub step summary. It runs nothing.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.collect import display_path
from pytest_repro.config import ReproConfig
from pytest_repro.keys import PLAN_ATTR, RESULT_ATTR, SPEC_ERROR_ATTR
from pytest_repro.results import ClaimResult
from pytest_repro.vocab import meaning

if TYPE_CHECKING:
    from pytest_repro.forecast import ItemPlan
    from pytest_repro.report.problems import SpecProblems
    from pytest_repro.runtime import Runtime


class ReproReporter:
    def __init__(self, cfg: ReproConfig, runtime: Runtime) -> None:
        self.cfg = cfg
        self.runtime = runtime
        self.results: list[ClaimResult] = []
        self.spec_problems: list[SpecProblems] = []
        self.plans: list[ItemPlan] = []
        self._written: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(
        self, report: pytest.TestReport, config: pytest.Config
    ) -> tuple[str, str, tuple[str, dict[str, bool]]] | None:
        plan = getattr(report, PLAN_ATTR, None)
        if plan is not None and report.skipped:
            from pytest_repro.forecast import ItemPlan

            return "skipped", "s", (ItemPlan.from_json(plan).label(), {"yellow": True})
        data = getattr(report, RESULT_ATTR, None)
        if data is None or report.when not in ("call", "setup"):
            return None
        from pytest_repro.report.escape import plain

        label = plain(str(data.get("label", "")))
        if hasattr(report, "wasxfail"):
            if report.skipped:
                return "xfailed", "x", (f"XFAIL {label}", {"yellow": True})
            return "xpassed", "X", (f"XPASS {label}", {"yellow": True})
        colour: dict[str, bool] = {meaning(str(data.get("verdict"))).terminal: True}
        if report.passed:
            return "passed", ".", (label, colour)
        if report.skipped:
            return "skipped", "s", (label, {"yellow": True})
        if report.when == "setup":
            return "error", "E", (label, {"red": True})
        return "failed", "F", (label, colour)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        problems = getattr(report, SPEC_ERROR_ATTR, None)
        if problems is not None:
            from pytest_repro.report.problems import SpecProblems

            self.spec_problems.append(
                SpecProblems(path=str(problems["path"]), problems=tuple(problems["problems"]))
            )
        data = getattr(report, RESULT_ATTR, None)
        if data is not None and report.when in ("call", "setup"):
            self.results.append(ClaimResult.from_json(data))
        plan = getattr(report, PLAN_ATTR, None)
        if plan is not None:
            from pytest_repro.forecast import ItemPlan

            self.plans.append(ItemPlan.from_json(plan))

    def pytest_report_collectionfinish(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> list[str]:
        """The forecast of a normal session, once its items are known (not under xdist,
        where the controller collects none, nor with ``--co`` or ``--repro-plan``)."""
        if self.cfg.plan or config.option.collectonly:
            return []
        from pytest_repro.collect import ClaimItem, SanityItem

        papers: dict[Path, list[ClaimItem | SanityItem]] = {}
        for item in items:
            if isinstance(item, (ClaimItem, SanityItem)):
                papers.setdefault(item.spec.file, []).append(item)
        if not papers:
            return []
        from pytest_repro.errors import ReproError
        from pytest_repro.forecast import forecast_line, summarize

        plans: list[ItemPlan] = []
        unplanned = 0
        for group in papers.values():
            whats = [i.claim if isinstance(i, ClaimItem) else i.check for i in group]
            try:
                plans.extend(self.runtime.plans(group[0].spec, whats))
            except (ReproError, OSError):
                unplanned += len(group)
        line = forecast_line(summarize(plans, workers=self.cfg.workers))
        if unplanned:
            line += f" ({unplanned} item(s) could not be planned)"
        return [line]

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        from pytest_repro.config import describe
        from pytest_repro.report.terminal import environment_line

        ledger = (
            "off" if self.cfg.cache == "off" else display_path(self.cfg.ledger, self.cfg.rootdir)
        )
        return [
            f"repro: {describe(self.cfg)}",
            f"repro: ledger {ledger}; {environment_line()}",
        ]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.cfg.plan:
            from pytest_repro.forecast import forecast_line, plan_lines, summarize

            terminalreporter.write_sep("=", "reproduction plan")
            for line in plan_lines(self.plans):
                terminalreporter.write_line(line)
            terminalreporter.write_line(
                forecast_line(summarize(self.plans, workers=self.cfg.workers))
            )
            return
        if not self.results:
            return
        from pytest_repro.report.terminal import summary_table

        terminalreporter.write_sep("=", "reproduction verdicts")
        for line in summary_table(self.results):
            terminalreporter.write_line(line)
        from pytest_repro.report.terminal import smoke_table

        stages = smoke_table(self.results)
        if stages:
            terminalreporter.write_sep("=", "smoke stages")
            for line in stages:
                terminalreporter.write_line(line)
        c = self.runtime.counters
        if c is not None:
            terminalreporter.write_line(
                f"repro: {c.executed} run(s) executed ({c.run_seconds:.1f} s of run time"
                + (f", {c.failed} not ok" if c.failed else "")
                + f"), {c.reused} reused from the ledger"
                + (f" ({c.reread} read again with the new metrics reader)" if c.reread else "")
                + (f", {c.waited} computed by another worker" if c.waited else "")
            )
        for note in self._written:
            terminalreporter.write_line(note)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            from pytest_repro.report.writers import github_annotations

            for line in github_annotations(self.results):
                terminalreporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.cfg.plan or (not self.results and not self.spec_problems):
            return  # a plan writes no reports
        from pytest_repro.report import writers

        if self.cfg.results:
            paths, notes = writers.write_results_md(
                self.cfg, self.runtime.store(), self.results, self.runtime.memo_records()
            )
            self._written.extend(f"repro: wrote {display_path(p, self.cfg.rootdir)}" for p in paths)
            self._written.extend(notes)
        if self.cfg.json_path is not None:
            writers.write_json(self.cfg.json_path, self.results, self.cfg, self.spec_problems)
            self._written.append(f"repro: wrote {self.cfg.json_path}")
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with contextlib.suppress(OSError):
                writers.write_github(Path(summary), self.results)


__all__ = ["ReproReporter"]
