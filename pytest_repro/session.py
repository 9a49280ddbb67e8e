"""The session plugin object: runs claims, maps verdicts to outcomes, writes reports.

Registered once per pytest process at configure time and kept under a
``StashKey``. Heavy parts (ledger, worker pool, statistics) start lazily, on the
first claim that needs them, so ``pytest --co`` or a session with no papers
costs nothing. Under pytest-xdist, workers evaluate claims and ship each
:class:`~pytest_repro.results.ClaimResult` on the test report; the controller
collects them and writes the reports.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.collect import (
    ClaimError,
    ClaimItem,
    Disagreement,
    Gap,
    Inconclusive,
    SanityItem,
    SpecErrorItem,
)
from pytest_repro.config import ReproConfig
from pytest_repro.errors import EnvironmentDrift, LedgerError, ReproError
from pytest_repro.results import ClaimResult
from pytest_repro.spec.schema import PaperSpec, SanityCheck

if TYPE_CHECKING:
    from pytest_repro.evaluate import Evaluator
    from pytest_repro.execution.plan import Planner
    from pytest_repro.execution.service import RunService
    from pytest_repro.records import RunRecord

SESSION_KEY = pytest.StashKey["ReproSession"]()
RESULT_ATTR = "repro_result"
SPEC_ERROR_ATTR = "repro_spec_error"


class ReproSession:
    def __init__(self, config: pytest.Config, cfg: ReproConfig) -> None:
        self.config = config
        self.cfg = cfg
        self.results: list[ClaimResult] = []
        self._planner: Planner | None = None
        self._service: RunService | None = None
        self._evaluator: Evaluator | None = None
        self._store: Any = None
        self._drift: dict[Path, list[Any]] = {}
        self._sanity: dict[tuple[Path, str], str | None] = {}
        self.is_worker = hasattr(config, "workerinput")
        self._written: list[str] = []
        self.spec_errors: list[dict[str, Any]] = []

    # -- runtime -------------------------------------------------------------------------
    def _runtime(self) -> tuple[Planner, RunService, Evaluator]:
        if self._service is None:
            from pytest_repro.evaluate import Evaluator
            from pytest_repro.execution.plan import Planner
            from pytest_repro.execution.service import InProcessExecutor, RunService, make_pool

            store = self.store()
            lock = None
            if self.cfg.cache != "off":
                from pytest_repro.ledger import run_lock

                lock_dir = self.cfg.workdir / "locks"
                lock_dir.mkdir(parents=True, exist_ok=True)

                def lock(key: str) -> Any:
                    return run_lock(lock_dir, key)

            from pytest_repro.execution.gpus import GpuLeases

            leases = GpuLeases(self.cfg.workdir / "locks")
            self._planner = Planner(self.cfg)
            self._service = RunService(
                self.cfg,
                store=store,
                executor=InProcessExecutor(reraise=bool(self.config.option.usepdb))
                if self.cfg.inprocess
                else make_pool(self.cfg),
                lock=lock,
                gpu_lease=leases.lease,
            )
            self._evaluator = Evaluator(self.cfg, self._planner, self._service.obtain)
        assert self._planner is not None
        assert self._evaluator is not None
        return self._planner, self._service, self._evaluator

    def store(self) -> Any:
        """The ledger (opened once); None with ``--repro-cache=off``."""
        if self._store is None and self.cfg.cache != "off":
            from pytest_repro.ledger import SQLiteLedger

            try:
                self._store = SQLiteLedger(self.cfg.ledger)
            except LedgerError as exc:
                raise pytest.UsageError(
                    f"{exc}\nuse --repro-ledger=PATH, or --repro-cache=off to run without one"
                ) from None
            self._store.recover_interrupted()
        return self._store

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
        if self._store is not None:
            self._store.close()

    # -- items ---------------------------------------------------------------------------
    def setup_claim(self, item: ClaimItem) -> None:
        try:
            self._setup_claim(item)
        except ReproError as exc:
            # A bad lockfile or a strict drift: reported as the claim's error, not a traceback.
            from pytest_repro.evaluate import _base, _error, _gist

            item.result = _error(_base(item.spec, item.claim), str(exc), (), _gist(str(exc)))
            pytest.fail(f"{item.claim.loc}: claim {item.claim.id}: {exc}", pytrace=False)

    def _setup_claim(self, item: ClaimItem) -> None:
        spec = item.spec
        self._check_environment(spec)
        if spec.run.resources.gpus:
            from pytest_repro.execution.gpus import visible_gpus

            have = len(visible_gpus())
            if have < spec.run.resources.gpus:
                pytest.skip(
                    f"needs {spec.run.resources.gpus} GPU(s) (run.resources.gpus, {spec.run.loc}); {have} visible"
                )
        for check in spec.sanity:
            failure = self.sanity(spec, check)
            if failure is not None:
                reason = failure.splitlines()[0]
                pytest.skip(
                    f"sanity check {check.name} failed ({check.loc}), so this claim was not run: {reason}"
                )

    def run_claim(self, item: ClaimItem) -> None:
        _, _, evaluator = self._runtime()
        try:
            result = evaluator.evaluate(item.spec, item.claim)
        except Exception as exc:
            if self.config.option.usepdb:
                raise  # --pdb: let the debugger see it
            result = _internal_error(item, exc)
        drift = self._drift.get(item.spec.file) or []
        if drift and result.verdict not in ("error",):
            from dataclasses import replace

            result = replace(result, warnings=[*result.warnings, *(_drift_line(d) for d in drift)])
        item.result = result
        for name in ("verdict", "estimate", "delta", "n", "method"):
            value = getattr(result, name)
            if value is not None:
                item.user_properties.append((f"repro.{name}", value))
        if result.interval:
            item.user_properties.append(
                ("repro.interval", f"[{result.interval[0]:.6g}, {result.interval[1]:.6g}]")
            )
        self._raise_for(item, result)

    def _raise_for(self, item: ClaimItem, result: ClaimResult) -> None:
        from pytest_repro.report.terminal import claim_block

        verdict = result.verdict
        if verdict in ("matched", "exceeded", "smoke"):
            return
        block = claim_block(result, rerun=_rerun_command(item))
        if verdict == "gap":
            raise Gap(result, block)
        if verdict == "disagreement":
            raise Disagreement(result, block)
        if verdict == "inconclusive":
            if self.cfg.inconclusive == "skip":
                pytest.skip(result.label)
            raise Inconclusive(result, block)
        raise ClaimError(result, block)

    def sanity(self, spec: PaperSpec, check: SanityCheck) -> str | None:
        key = (spec.file, check.name)
        if key not in self._sanity:
            from pytest_repro.sanity import run_check

            planner, service, _ = self._runtime()
            try:
                self._sanity[key] = run_check(check, spec, planner, service.obtain)
            except Exception as exc:
                self._sanity[key] = f"{type(exc).__name__}: {exc}"
        return self._sanity[key]

    def _check_environment(self, spec: PaperSpec) -> None:
        if self.cfg.env in ("off", "isolate"):
            return
        if spec.file not in self._drift:
            from pytest_repro.environment import check_environment

            self._drift[spec.file] = list(check_environment(spec.environment, spec.folder))
        drift = self._drift[spec.file]
        if drift and self.cfg.env == "strict":
            from pytest_repro.environment import format_drift_table

            raise EnvironmentDrift(
                f"{spec.display}: the installed environment differs from what the paper pins "
                f"(--repro-env=strict):\n{format_drift_table(drift)}\n"
                "fix: install the pinned versions, or use --repro-env=isolate to run this paper in its own venv"
            )

    # -- hooks ---------------------------------------------------------------------------
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Before the first claim: the working folder must be usable, or the session stops here."""
        if self.cfg.cache == "off" or session.config.option.collectonly:
            return
        if not any(isinstance(item, (ClaimItem, SanityItem)) for item in session.items):
            return
        probe = self.cfg.workdir / f".write-test-{os.getpid()}"
        try:
            self.cfg.workdir.mkdir(parents=True, exist_ok=True)
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise pytest.UsageError(
                f"pytest-repro cannot write its working folder {self.cfg.workdir} ({exc.strerror or exc}); "
                "use --repro-dir=PATH (or ini repro_dir) to put it somewhere writable, "
                "or --repro-cache=off to run without a ledger"
            ) from None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Any, None]:
        outcome = yield
        report: pytest.TestReport = outcome.get_result()
        if isinstance(item, SpecErrorItem) and report.when == "call":
            problems = [str(p) for p in item.error.problems]
            setattr(report, SPEC_ERROR_ATTR, {"path": item.error.path, "problems": problems})
        if isinstance(item, ClaimItem):
            result = item.result
            if result is None and report.when == "setup" and report.skipped:
                result = _skipped_result(item, report)
            if result is not None and (
                report.when == "call" or (report.when == "setup" and not report.passed)
            ):
                setattr(report, RESULT_ATTR, result.to_json())
                if item.config.pluginmanager.hasplugin("html"):
                    from pytest_repro.report.html import claim_extra

                    extras = [*getattr(report, "extras", []), claim_extra(result)]
                    report.extras = extras  # type: ignore[attr-defined]

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report: pytest.TestReport, config: pytest.Config) -> Any:
        data = getattr(report, RESULT_ATTR, None)
        if data is None or report.when not in ("call", "setup"):
            return None
        label = data.get("label", "")
        verdict = data.get("verdict")
        if hasattr(report, "wasxfail"):
            if report.skipped:
                return "xfailed", "x", (f"XFAIL {label}", {"yellow": True})
            return "xpassed", "X", (f"XPASS {label}", {"yellow": True})
        if report.passed:
            return "passed", ".", (label, {"green": True})
        if report.skipped:
            return "skipped", "s", (label, {"yellow": True})
        if report.failed and report.when == "setup":
            return "error", "E", (label, {"red": True})
        if report.failed:
            colour = {"red": True} if verdict != "inconclusive" else {"yellow": True}
            return "failed", "F", (label, colour)
        return None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        spec_error = getattr(report, SPEC_ERROR_ATTR, None)
        if spec_error is not None:
            self.spec_errors.append(spec_error)
        data = getattr(report, RESULT_ATTR, None)
        if data is not None and report.when in ("call", "setup"):
            self.results.append(ClaimResult.from_json(data))

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        from pytest_repro.config import describe
        from pytest_repro.report.terminal import environment_line

        lines = [f"repro: {describe(self.cfg)}"]
        ledger = "off" if self.cfg.cache == "off" else _rel(self.cfg.ledger, self.cfg.rootdir)
        lines.append(f"repro: ledger {ledger}; {environment_line()}")
        return lines

    def pytest_terminal_summary(
        self, terminalreporter: Any, exitstatus: int, config: pytest.Config
    ) -> None:
        if not self.results or self.is_worker:
            return
        from pytest_repro.report.terminal import summary_table

        terminalreporter.write_sep("=", "reproduction verdicts")
        for line in summary_table(self.results):
            terminalreporter.write_line(line)
        if self._service is not None:
            c = self._service.counters
            terminalreporter.write_line(
                f"repro: {c.executed} run(s) executed ({c.run_seconds:.1f} s of run time"
                + (f", {c.failed} not ok" if c.failed else "")
                + f"), {c.reused} reused from the ledger"
                + (f", {c.waited} computed by another worker" if c.waited else "")
            )
        for note in self._written:
            terminalreporter.write_line(note)
        if os.environ.get("GITHUB_ACTIONS") == "true":
            from pytest_repro.report.writers import github_annotations

            for line in github_annotations(self.results):
                terminalreporter.write_line(line)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.is_worker:
            self.close()
            return
        try:
            self._write_reports()
        finally:
            self.close()

    def _write_reports(self) -> None:
        if not self.results and not self.spec_errors:
            return
        from pytest_repro.report import writers

        if self.cfg.results:
            paths, notes = writers.write_results_md(self, self.results)
            for path in paths:
                self._written.append(f"repro: wrote {_rel(path, self.cfg.rootdir)}")
            self._written.extend(notes)
        if self.cfg.json_path is not None:
            writers.write_json(self.cfg.json_path, self.results, self.cfg, self.spec_errors)
            self._written.append(f"repro: wrote {self.cfg.json_path}")
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            with contextlib.suppress(OSError):
                writers.write_github(Path(summary), self.results)

    def memo_records(self) -> list[RunRecord]:
        """The runs this session obtained (recorded or not, e.g. under --repro-cache=off)."""
        return list(self._service.memo.values()) if self._service is not None else []


def _internal_error(item: ClaimItem, exc: Exception) -> ClaimResult:
    """A bug in pytest-repro while evaluating a claim: the claim still gets a result."""
    import traceback

    from pytest_repro.evaluate import _base, _error

    details = "".join(traceback.format_exception(exc))
    message = (
        f"pytest-repro failed while evaluating this claim: {type(exc).__name__}: {exc}\n"
        "This is a bug in pytest-repro; please report it with the traceback below.\n" + details
    )
    return _error(
        _base(item.spec, item.claim), message, (), f"internal error: {type(exc).__name__}: {exc}"
    )


def _drift_line(drift: Any) -> str:
    installed = drift.installed if drift.installed is not None else "not installed"
    return f"environment drift: {drift.name} {drift.expected} expected, {installed} installed ({drift.loc})"


def _skipped_result(item: ClaimItem, report: pytest.TestReport) -> ClaimResult:
    from pytest_repro.evaluate import _base

    reason = ""
    if isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2]).removeprefix("Skipped: ")
    base = _base(item.spec, item.claim)
    return ClaimResult(**dict(base, verdict="skipped", label=f"[skipped: {reason}]", error=reason))


def _rerun_command(item: ClaimItem) -> str:
    nodeid = item.nodeid
    return f'pytest "{nodeid}"   (add --repro-rerun={item.claim.id} to train again instead of reusing runs)'


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


__all__ = ["RESULT_ATTR", "SESSION_KEY", "ReproSession"]
