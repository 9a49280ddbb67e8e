"""The run machinery of one pytest process, opened on first use.

:class:`Runtime` owns the ledger, the planner, the run service (with the executor a
plugin or the default supplies) and the evaluator, and caches what a session asks
repeatedly: each paper's environment drift and each sanity check's answer. Claim and
sanity items call it directly; nothing here knows about test reports or outcomes.
Nothing heavy starts until a claim needs it, so ``pytest --co`` costs nothing.
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.config import ReproConfig
from pytest_repro.errors import EnvironmentDrift, LedgerError

if TYPE_CHECKING:
    from pytest_repro.environment import Drift
    from pytest_repro.evaluate import Evaluator
    from pytest_repro.execution.plan import Planner, RunRequest
    from pytest_repro.execution.readers import MetricReader
    from pytest_repro.execution.service import Executor, RunLock, RunService
    from pytest_repro.forecast import ItemPlan, PlannedRun
    from pytest_repro.ledger.store import RunStore
    from pytest_repro.progress import Counters
    from pytest_repro.records import RunRecord
    from pytest_repro.results import ClaimHeader, ClaimResult
    from pytest_repro.spec.claim_nodes import Claim
    from pytest_repro.spec.parse_cache import TreeCache
    from pytest_repro.spec.schema import PaperSpec, SanityCheck
    from pytest_repro.verdict_cache import VerdictCache


class Runtime:
    """Planner, run service, evaluator and ledger of one pytest process."""

    def __init__(
        self, config: pytest.Config, cfg: ReproConfig, *, session_start: float | None = None
    ) -> None:
        self.config = config
        self.cfg = cfg
        self.session_start = time.time() if session_start is None else session_start
        self._store: RunStore | None = None
        self._planner: Planner | None = None
        self._service: RunService | None = None
        self._evaluator: Evaluator | None = None
        self._verdicts: VerdictCache | None = None
        self._verdicts_opened = False
        self._readers: dict[str, MetricReader] | None = None
        self._drift: dict[Path, list[Drift]] = {}
        self._sanity: dict[tuple[Path, str, int], str | None] = {}
        self._history: dict[str, list[RunRecord]] = {}
        #: the run counts of this session's xdist workers (the controller sums them).
        self.worker_counters: list[dict[str, Any]] = []
        from pytest_repro.results import ResultData

        self._headers: dict[int, tuple[Claim, PaperSpec, ClaimHeader]] = {}
        #: claim results and the JSON their test reports carry, converted once each.
        self.result_data = ResultData()

    # -- parts, opened lazily ---------------------------------------------------------------
    def store(self) -> RunStore | None:
        """The ledger (opened once); None with ``--repro-cache=off``."""
        if self._store is None and self.cfg.cache != "off":
            from pytest_repro.ledger import SQLiteLedger

            try:
                ledger = SQLiteLedger(self.cfg.ledger)
            except LedgerError as exc:
                raise pytest.UsageError(
                    f"{exc}; or run without a ledger: --repro-cache=off"
                ) from None
            ledger.recover_interrupted()
            self._store = self._with_shared(ledger)
        return self._store

    def _with_shared(self, ledger: RunStore) -> RunStore:
        """The local ledger, with ``--repro-ledger-read`` ledgers read behind it."""
        if not self.cfg.ledger_read:
            return ledger
        from pytest_repro.ledger import MultiplexedStore, ReadOnlyStore, SQLiteLedger

        shared: list[RunStore] = []
        for path in self.cfg.ledger_read:
            if not path.is_file():
                ledger.close()
                for store in shared:
                    store.close()
                raise pytest.UsageError(
                    f"--repro-ledger-read={path}: no such ledger file; give the path of a "
                    "ledger.sqlite (e.g. downloaded from a CI run), or leave the option out"
                )
            try:
                shared.append(ReadOnlyStore(SQLiteLedger(path)))
            except LedgerError as exc:
                ledger.close()
                raise pytest.UsageError(f"--repro-ledger-read={path}: {exc}") from None
        return MultiplexedStore(ledger, *shared)

    @property
    def planner(self) -> Planner:
        if self._planner is None:
            from pytest_repro.execution.plan import Planner

            self._planner = Planner(self.cfg)
        return self._planner

    @property
    def service(self) -> RunService:
        if self._service is None:
            from pytest_repro.execution.gpus import GpuLeases, inventory, select
            from pytest_repro.execution.service import RunService

            self._service = RunService(
                self.cfg,
                store=self.store(),
                executor=self._make_executor(),
                lock=self._lock_factory(),
                gpu_lease=GpuLeases(
                    self.cfg.workdir / "locks", devices=select(inventory(), self.cfg.gpus)
                ).lease,
                readers=self.readers(),
                session_start=self.session_start,
                watch=self._progress_watch(),
                history=self.paper_history,
            )
        return self._service

    def _progress_watch(self) -> Callable[[], contextlib.AbstractContextManager[None]] | None:
        """The heartbeat entered while runs execute, or None (``--repro-progress=off``,
        no terminal, an xdist worker)."""
        from pytest_repro.progress import Ticker, terminal_writer

        write = terminal_writer(self.config)
        if write is None or self.cfg.progress <= 0:
            return None
        short = self.config.get_verbosity() < 0

        def watch() -> contextlib.AbstractContextManager[None]:
            progress = self._service.progress if self._service is not None else None
            if progress is None:
                return contextlib.nullcontext()
            return Ticker(progress, write, interval=self.cfg.progress, short=short).running()

        return watch

    @property
    def evaluator(self) -> Evaluator:
        if self._evaluator is None:
            from pytest_repro.evaluate import Evaluator

            self._evaluator = Evaluator(
                self.cfg, self.planner, self.service.obtain, verdicts=self.verdicts()
            )
        return self._evaluator

    def verdicts(self) -> VerdictCache | None:
        """Claim results and report fingerprints kept across sessions (opened once); None
        with ``--repro-cache=off`` and under ``--repro-smoke``."""
        if not self._verdicts_opened:
            self._verdicts_opened = True
            from pytest_repro.verdict_cache import open_cache

            self._verdicts = open_cache(self.cfg, self.result_data)
        return self._verdicts

    def readers(self) -> dict[str, MetricReader]:
        """Every metric reader: the built-in ones and those plugins supply.

        Raises :class:`~pytest_repro.errors.ReproError` when two claim one format."""
        if self._readers is None:
            from pytest_repro.execution.readers import reader_table

            supplied = self.config.hook.pytest_repro_metric_readers(config=self.config)
            self._readers = reader_table(r for group in supplied for r in group)
        return self._readers

    def metric_formats(self) -> tuple[str, ...]:
        """The ``run.metrics`` formats plugins add to the built-in ones (for the spec loader)."""
        from pytest_repro.execution.readers import BUILTIN_READERS

        return tuple(name for name in self.readers() if name not in BUILTIN_READERS)

    def spec_trees(self) -> TreeCache | None:
        """Where parsed ``paper.yaml`` trees are kept across sessions, in the working
        folder (never created for them); None with ``--repro-cache=off``."""
        if self.cfg.cache == "off":
            return None
        from pytest_repro.spec.parse_cache import TreeCache

        return TreeCache(self.cfg.workdir / "parsed", read=self.cfg.reuse, write=self.cfg.record)

    def check_workdir(self) -> None:
        """The working folder must be writable before the first run, or the session stops."""
        if self.cfg.cache == "off":
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
        from pytest_repro.ledger import check_ledger_path

        try:  # a path holding anything but a ledger stops the session before the first run
            check_ledger_path(self.cfg.ledger)
        except LedgerError as exc:
            raise pytest.UsageError(str(exc)) from None

    def _make_executor(self) -> Executor:
        executor: Executor | None = self.config.hook.pytest_repro_make_executor(
            config=self.config, cfg=self.cfg
        )
        if executor is None:  # every implementation declined, ours included
            from pytest_repro.execution.service import default_executor

            executor = default_executor(self.cfg, usepdb=bool(self.config.option.usepdb))
        return executor

    def _lock_factory(self) -> Callable[[str], RunLock] | None:
        if self.cfg.cache == "off":
            return None
        from pytest_repro.ledger import run_lock

        lock_dir = self.cfg.workdir / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)

        def lock(key: str) -> RunLock:
            return run_lock(lock_dir, key)

        return lock

    # -- what items ask ---------------------------------------------------------------------
    def header(self, spec: PaperSpec, claim: Claim) -> ClaimHeader:
        """``ClaimHeader.of(spec, claim)``, made once per claim (its item, the forecast's
        read-ahead and its evaluation ask alike)."""
        known = self._headers.get(id(claim))
        if known is not None and known[0] is claim and known[1] is spec:
            return known[2]
        from pytest_repro.results import ClaimHeader

        header = ClaimHeader.of(spec, claim)
        self._headers[id(claim)] = (claim, spec, header)
        return header

    def evaluate(
        self, spec: PaperSpec, claim: Claim, header: ClaimHeader | None = None
    ) -> ClaimResult:
        """The claim's result (``header``: the claim's, when the caller has it). A bug
        inside pytest-repro still gives the claim a result."""
        try:
            result = self.evaluator.evaluate(spec, claim, header)
        except Exception as exc:
            if self.config.option.usepdb:
                raise  # --pdb: let the debugger see it
            result = internal_error(spec, claim, exc)
        drift = self._drift.get(spec.file) or []
        if drift and result.verdict != "error":
            result = result.with_warnings([drift_line(d) for d in drift])
        return result

    def sanity(self, spec: PaperSpec, check: SanityCheck) -> str | None:
        """None when the check passes, else what failed; asked once per paper and check."""
        key = (spec.file, check.name, check.loc.line)
        if key not in self._sanity:
            from pytest_repro.sanity import run_check

            try:
                self._sanity[key] = run_check(check, spec, self.planner, self.service.obtain)
            except Exception as exc:
                self._sanity[key] = f"{type(exc).__name__}: {exc}"
        return self._sanity[key]

    def check_environment(self, spec: PaperSpec) -> None:
        """Note how the installed packages differ from the paper's pins; under
        ``--repro-env=strict`` a difference raises :class:`EnvironmentDrift`."""
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

    # -- plans: --repro-plan and the forecast; nothing executes -----------------------------
    def plan(self, spec: PaperSpec, claim: Claim | SanityCheck) -> ItemPlan:
        """What obtaining ``claim``'s (or a sanity check's) runs would execute, and why."""
        (plan,) = self.plans(spec, [claim])
        return plan

    def plans(
        self,
        spec: PaperSpec,
        items: Sequence[Claim | SanityCheck],
        *,
        read_ahead: bool = False,
    ) -> list[ItemPlan]:
        """The plans of several items of one paper: one ledger lookup and one history read.
        ``read_ahead``: the items are about to be evaluated; the stored results of those
        whose runs are all recorded are read from the verdict cache in one go.

        Raises :class:`~pytest_repro.errors.ReproError` when an item cannot be planned
        (data that cannot be fingerprinted, fewer GPUs than a run's key names)."""
        from pytest_repro.forecast import ItemPlan, Reach, plan_runs
        from pytest_repro.spec.claim_nodes import Claim

        planned: list[tuple[str, list[RunRequest], bool]] = []
        reach: dict[str, Reach] = {}
        for item in items:
            if isinstance(item, Claim):
                from pytest_repro.evaluate import Evaluator

                requests, up_to = Evaluator(self.cfg, self.planner, _no_runs).requests(spec, item)
                planned.append((item.id, requests, up_to))
                at = item.at
                if at.value is not None and not at.final and at.first_metric is None:
                    for r in requests:
                        old = reach.get(r.cache_key)
                        if old is None or (old.axis == at.axis and old.value < at.value):
                            reach[r.cache_key] = Reach(axis=at.axis, value=at.value)
            else:
                from pytest_repro.sanity import check_requests

                planned.append(
                    (f"sanity[{item.name}]", check_requests(item, spec, self.planner), False)
                )
        store = self._plan_store()
        keys = [r.cache_key for _, requests, _ in planned for r in requests]
        cached = store.get_many(keys) if store is not None and keys else {}
        if read_ahead and cached:
            self._read_ahead(spec, items, planned, cached)
        history = self.paper_history(spec.display)
        # Claims sharing runs ask for the very same requests (the planner gives the same
        # arguments the same object): their runs are planned once. ``planned`` keeps every
        # request alive meanwhile, so an id stands for one request throughout.
        runs_of: dict[tuple[int, ...], tuple[PlannedRun, ...]] = {}
        plans: list[ItemPlan] = []
        for name, requests, up_to in planned:
            ident = tuple(map(id, requests))
            runs = runs_of.get(ident)
            if runs is None:
                runs = runs_of[ident] = plan_runs(
                    requests, cached=cached, history=history, reuse=self.cfg.reuse, reach=reach
                )
            plans.append(ItemPlan(item=name, paper=spec.display, runs=runs, up_to=up_to))
        return plans

    def forecast(
        self,
        papers: Sequence[tuple[PaperSpec, Sequence[Claim | SanityCheck]]],
        *,
        processes: int = 1,
    ) -> str:
        """The session's one-line forecast over these papers' items (nothing executes);
        ``processes``: xdist workers sharing the runs, each with ``--repro-workers``."""
        from pytest_repro.errors import ReproError
        from pytest_repro.forecast import forecast_line, summarize

        plans: list[ItemPlan] = []
        unplanned = 0
        for spec, whats in papers:
            try:
                plans.extend(self.plans(spec, whats, read_ahead=True))
            except (ReproError, OSError):
                unplanned += len(whats)
        line = forecast_line(summarize(plans, workers=self.cfg.workers * max(1, processes)))
        if unplanned:
            line += f" ({unplanned} item(s) could not be planned)"
        return line

    def _read_ahead(
        self,
        spec: PaperSpec,
        items: Sequence[Claim | SanityCheck],
        planned: Sequence[tuple[str, list[RunRequest], bool]],
        cached: Mapping[str, RunRecord],
    ) -> None:
        """Key each claim whose runs ``cached`` holds as evaluating it will, and read their
        stored results at once (a claim whose runs turn out otherwise is keyed again then)."""
        verdicts = self.verdicts()
        if verdicts is None or not verdicts.read or self.cfg.smoke:
            return
        from pytest_repro.pause import collector_paused
        from pytest_repro.spec.claim_nodes import Claim

        keys = []
        with collector_paused():  # a thousand keys and results, and no garbage
            for item, (_, requests, _) in zip(items, planned, strict=True):
                if not isinstance(item, Claim) or item.seeds.adaptive or not requests:
                    continue
                if any(r.force for r in requests):
                    continue
                records = [cached[r.cache_key] for r in requests if r.cache_key in cached]
                if len(records) < len(requests):
                    continue
                key = verdicts.key(item, self.header(spec, item), records)
                if key is not None:
                    keys.append(key)
            verdicts.read_ahead(keys)

    def _plan_store(self) -> RunStore | None:
        """The ledger to look runs up in; a ledger that does not exist yet is not created."""
        if self.cfg.cache == "off":
            return None
        if self._store is None and not self.cfg.ledger.is_file() and not self.cfg.ledger_read:
            return None
        return self.store()

    # -- what reports ask -------------------------------------------------------------------
    @property
    def counters(self) -> Counters | None:
        """How many runs this process executed and reused, and under xdist its workers;
        None when no claim ran."""
        if not self.worker_counters:
            return self._service.counters if self._service is not None else None
        from dataclasses import asdict

        from pytest_repro.progress import Counters

        total = Counters()
        if self._service is not None:
            total.add(asdict(self._service.counters))
        for counts in self.worker_counters:
            total.add(counts)
        return total

    def paper_history(self, paper: str) -> list[RunRecord]:
        """The runs the ledger held of ``paper`` when first asked this session (for the
        forecast, plans and the heartbeat's estimates)."""
        if paper not in self._history:
            store = self._plan_store()
            self._history[paper] = list(store.records(paper_path=paper)) if store else []
        return self._history[paper]

    def memo_records(self) -> list[RunRecord]:
        """The runs this process obtained (recorded or not, e.g. under --repro-cache=off)."""
        return list(self._service.memo.values()) if self._service is not None else []

    def close(self) -> None:
        if self._verdicts is not None:
            self._verdicts.close()
        if self._service is not None:
            self._service.close()
        if self._store is not None:
            self._store.close()


def _no_runs(requests: Sequence[RunRequest]) -> list[RunRecord]:
    raise AssertionError("planning obtains no runs")


def internal_error(spec: PaperSpec, claim: Claim, exc: BaseException) -> ClaimResult:
    """A bug in pytest-repro while evaluating a claim, as the claim's error result."""
    from pytest_repro.results import ClaimHeader, ClaimResult

    details = "".join(traceback.format_exception(exc))
    message = (
        f"pytest-repro failed while evaluating this claim: {type(exc).__name__}: {exc}\n"
        "This is a bug in pytest-repro; please report it with the traceback below.\n" + details
    )
    return ClaimResult.failed(
        ClaimHeader.of(spec, claim),
        message,
        short=f"internal error: {type(exc).__name__}: {exc}",
    )


def drift_line(drift: Drift) -> str:
    installed = f"{drift.installed} installed" if drift.installed is not None else "not installed"
    return f"environment drift: {drift.name} {drift.expected} expected, {installed} ({drift.loc})"


__all__ = ["Runtime", "drift_line", "internal_error"]
