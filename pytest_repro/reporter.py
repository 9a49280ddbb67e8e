"""The reporter: what the session shows and writes once claims have results.

Registered on the controller only (never on an xdist worker), kept under
:data:`~pytest_repro.keys.REPORTER_KEY` and unregistered at unconfigure, as pytest's
own JUnit reporter is. It reads each claim's result from its test report (where it
crossed from the worker), labels the terminal line, prints the verdict table and
writes results.md, the JSON document and the GitHub step summary. It runs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.collect import display_path
from pytest_repro.config import ReproConfig
from pytest_repro.keys import PLAN_ATTR, RESULT_ATTR, SPEC_ERROR_ATTR
from pytest_repro.results import ClaimResult
from pytest_repro.vocab import EXPECTED_TERMINAL, meaning

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
        #: the report data read last, and its result (each report is read twice)
        self._last: tuple[dict[str, Any], ClaimResult] | None = None

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
            if report.skipped:  # the verdict the spec expects: its own colour, never red
                return "xfailed", "x", (f"XFAIL {label}", {EXPECTED_TERMINAL: True})
            return "xpassed", "X", (f"XPASS {label}", {"yellow": True})
        shown = meaning(str(data.get("verdict")), expected=self._result_of(data).expected)
        colour: dict[str, bool] = {shown.terminal: True}
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
            self.results.append(self._result_of(data))
        plan = getattr(report, PLAN_ATTR, None)
        if plan is not None:
            from pytest_repro.forecast import ItemPlan

            self.plans.append(ItemPlan.from_json(plan))

    def _result_of(self, data: dict[str, Any]) -> ClaimResult:
        """The result a report carries, read once for the status and the summary alike."""
        last = self._last
        if last is not None and last[0] is data:
            return last[1]
        result = self.runtime.result_data.from_json(data)
        self._last = (data, result)
        return result

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
        from pytest_repro.report.escape import terminal_line

        groups = [
            (group[0].spec, [i.claim if isinstance(i, ClaimItem) else i.check for i in group])
            for group in papers.values()
        ]
        return [terminal_line(self.runtime.forecast(groups))]

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        from pytest_repro.config import describe
        from pytest_repro.report.escape import terminal_line
        from pytest_repro.report.terminal import environment_line

        ledger = (
            "off" if self.cfg.cache == "off" else display_path(self.cfg.ledger, self.cfg.rootdir)
        )
        return [
            terminal_line(f"repro: {describe(self.cfg)}"),
            terminal_line(f"repro: ledger {ledger}; {environment_line()}"),
        ]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """The plan, or the verdict table, what ran and what was written. Every line goes
        through :func:`~pytest_repro.report.escape.terminal_line` (the annotations are
        escaped as workflow commands), so no text can add a line or forge a command."""
        from pytest_repro.report.escape import terminal_line

        def write(line: str, colour: str | None = None) -> None:
            markup = {colour: True} if colour else {}
            terminalreporter.write_line(terminal_line(line), **markup)

        if self.cfg.plan:
            from pytest_repro.forecast import forecast_line, plan_lines, summarize

            terminalreporter.write_sep("=", "reproduction plan")
            for line in plan_lines(self.plans):
                write(line)
            write(forecast_line(summarize(self.plans, workers=self.cfg.workers)))
            from pytest_repro.forecast_items import power_before_running

            power = power_before_running(terminalreporter.config, self.plans, self.runtime)
            if power:
                terminalreporter.write_sep("=", "power if the paper is right")
                for line in power:
                    write(line)
            return
        if self.results:
            from pytest_repro.report.terminal import smoke_table, summary_rows

            if self.runtime.worker_counters:  # xdist: results came in completion order
                self.results.sort(key=lambda r: (r.path, r.line))

            verdicts = self.runtime.verdicts()
            rows = (
                summary_rows(self.results)
                if verdicts is None
                else verdicts.table(self.results, summary_rows)
            )
            terminalreporter.write_sep("=", "reproduction verdicts")
            for line, colour in rows:
                write(line, colour)
            stages = smoke_table(self.results)
            if stages:
                terminalreporter.write_sep("=", "smoke stages")
                for line in stages:
                    write(line)
            drifts = sorted(
                {w for r in self.results for w in r.warnings if w.startswith("environment drift:")}
            )
            for drift in drifts:  # under --repro-env=warn the runs go on: say it here too
                write(f"repro: {drift}; --repro-env=strict makes it an error", "yellow")
            c = self.runtime.counters
            if c is not None:
                write(
                    f"repro: {c.executed} run(s) executed ({c.run_seconds:.1f} s of run time"
                    + (f", {c.failed} not ok" if c.failed else "")
                    + f"), {c.reused} reused from the ledger"
                    + (f" ({c.reread} read again with the new metrics reader)" if c.reread else "")
                    + (f", {c.waited} computed by another worker" if c.waited else "")
                )
        for note in self._written:
            write(note)
        if self.results and os.environ.get("GITHUB_ACTIONS") == "true":
            from pytest_repro.report.writers import github_annotations

            for line in github_annotations(self.results):
                terminalreporter.write_line(line)

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        if self.cfg.json_path is None:
            return
        from pytest_repro.report.writers import json_path_problem

        problem = json_path_problem(self.cfg.json_path)
        if problem is not None:
            raise pytest.UsageError(problem)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write every report; one that cannot be written is a one-line note in the
        summary and never keeps the others from being written."""
        if self.cfg.plan or (not self.results and not self.spec_problems):
            return  # a plan writes no reports
        from pytest_repro.report import writers

        cfg = self.cfg
        if cfg.results:

            def results_md() -> None:
                paths, notes = writers.write_results_md(
                    cfg,
                    self.runtime.store(),
                    self.results,
                    self.runtime.memo_records(),
                    verdicts=self.runtime.verdicts(),
                )
                self._written.extend(f"repro: wrote {display_path(p, cfg.rootdir)}" for p in paths)
                self._written.extend(notes)

            self._attempt("results.md", "write it later with: pytest-repro report", results_md)
        json_path = cfg.json_path
        if json_path is not None:
            wrote = self._attempt(
                f"--repro-json={json_path}",
                "give --repro-json a file path in a folder that can be created and written",
                lambda: writers.write_json(json_path, self.results, cfg, self.spec_problems),
            )
            if wrote:
                self._written.append(f"repro: wrote {json_path}")
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            self._attempt(
                f"GITHUB_STEP_SUMMARY={summary}",
                "the step summary is left as it was",
                lambda: writers.write_github(Path(summary), self.results),
            )

    def _attempt(self, what: str, fix: str, write: Callable[[], None]) -> bool:
        """Run one writer. A failure is one line in the summary, never an exception: an
        :class:`OSError` with ``fix``, anything else as the bug it is."""
        from pytest_repro.report.writers import BUG, write_failure

        try:
            write()
        except OSError as exc:
            self._written.append(write_failure(what, exc, fix))
        except Exception as exc:  # a bug in one report must not cost the session the others
            self._written.append(write_failure(what, exc, BUG))
        else:
            return True
        return False


__all__ = ["ReproReporter"]
