"""Obtaining runs: reuse what the ledger holds, execute the rest, record everything.

The one entry point is :meth:`RunService.obtain`. For each requested run it
looks, in order, at this session's runs, the ledger (unless the run is forced
or the cache is off), and finally executes it. Executions of one call run in
parallel on the executor. A run another process is already computing is
waited for, then reused, never computed twice. Every executed run is written
to the ledger in one transaction when it ends; a "running" record marks it
while it runs, so an interrupted session leaves a visible trace and the next
session re-runs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pytest_repro.config import ReproConfig
from pytest_repro.data.pins import pin_broken
from pytest_repro.errors import ReproError
from pytest_repro.execution import metrics, reading
from pytest_repro.execution.context import EXAMPLES_FILE
from pytest_repro.execution.evidence import git_info
from pytest_repro.execution.plan import RunRequest, short_id, task_for
from pytest_repro.execution.pool import Outcome, PoolKey, ProcessPool
from pytest_repro.execution.protocol import Task
from pytest_repro.execution.readers import BUILTIN_READERS, MetricReader
from pytest_repro.execution.worker import OUTPUT_FILE, forget_modules_under
from pytest_repro.progress import Counters, Progress
from pytest_repro.records import RunRecord

if TYPE_CHECKING:
    from pytest_repro.ledger.store import RunStore


class RunLock(Protocol):
    """A per-run inter-process lock (a ``filelock`` lock)."""

    def acquire(self, timeout: float = ...) -> Any: ...

    def release(self) -> None: ...


class Executor(Protocol):
    """Executes one task and blocks until it ends; must be safe to call from several threads.

    A plugin supplies its own (a cluster, a remote machine) through the
    ``pytest_repro_make_executor`` hook. ``key`` says what must be fixed when a process
    starts (interpreter, threads, GPUs, extra environment); ``timeout`` is in seconds and
    ``memory`` in bytes of resident memory (None: no limit). A run's own failure is an
    :class:`Outcome` with its status, never an exception.
    """

    def execute(
        self, task: Task, key: PoolKey, timeout: float | None, memory: int | None = None
    ) -> Outcome: ...

    def close(self) -> None: ...


class InProcessExecutor:
    """Runs entrypoints in the pytest process itself: no isolation, no timeout.

    With ``reraise`` (pytest's ``--pdb``), a run's exception is recorded and then raised
    again with its traceback, so the debugger stops in the paper's code.
    """

    def __init__(self, *, reraise: bool = False) -> None:
        from pytest_repro.execution.worker import _WorkerState

        self._state = _WorkerState()
        self._lock = threading.Lock()
        self.reraise = reraise

    def execute(
        self, task: Task, key: PoolKey, timeout: float | None, memory: int | None = None
    ) -> Outcome:
        from pytest_repro.execution.worker import execute_in_process

        with self._lock:
            path = list(sys.path)
            try:
                reply, exception = execute_in_process(task, self._state)
            finally:
                sys.path[:] = path
                forget_modules_under(task["paper_dir"])
                self._state.paper_dir = None
        return Outcome(
            status=reply["status"],
            error=reply["error"],
            traceback=reply["traceback"],
            evidence=reply["evidence"],
            started_at=reply["started_at"],
            ended_at=reply["ended_at"],
            exception=exception if self.reraise else None,
        )

    def close(self) -> None:
        pass


class RunService:
    """Turns :class:`RunRequest` s into :class:`RunRecord` s."""

    def __init__(
        self,
        cfg: ReproConfig,
        *,
        store: RunStore | None,
        executor: Executor,
        lock: Callable[[str], RunLock] | None = None,
        gpu_lease: Callable[..., contextlib.AbstractContextManager[tuple[str, ...]]] | None = None,
        readers: Mapping[str, MetricReader] = BUILTIN_READERS,
        session_start: float | None = None,
        watch: Callable[[], contextlib.AbstractContextManager[None]] | None = None,
        history: Callable[[str], Sequence[RunRecord]] | None = None,
    ) -> None:
        """``watch``, when given, is entered while runs execute (the progress heartbeat);
        ``history(paper)`` gives a paper's recorded runs, for the heartbeat's estimates."""
        self.cfg = cfg
        self.store = store
        self.executor = executor
        self.readers = readers
        #: when this pytest session began (the controller's start under xdist): a run
        #: recorded since then by another worker counts as this session's.
        self.session_start = time.time() if session_start is None else session_start
        self._lock = lock
        self._gpu_lease = gpu_lease
        self.memo: dict[str, RunRecord] = {}
        self.counters = Counters()
        self._git: dict[Path, dict[str, Any]] = {}
        self.executed: set[str] = set()
        self._memo_lock = threading.Lock()
        self._interrupted = False
        self.progress = Progress()
        self._watch = watch
        self._paper_history = history

    # -- public --------------------------------------------------------------------------
    def obtain(self, requests: Sequence[RunRequest]) -> list[RunRecord]:
        """One record per request, in order. Never raises for a failed run: its record says so.

        Every record obtained (reused or executed) is kept in :attr:`memo` for the session.
        A forced request (``--repro-rerun``) reuses only a run executed in this session.
        """
        if all(not r.force and r.cache_key in self.memo for r in requests):
            return [self.memo[r.cache_key] for r in requests]  # claims sharing runs ask again
        missing = [r for r in _unique(requests) if not self._known(r)]
        reusable = [r for r in missing if not r.force and self.cfg.reuse and self.store is not None]
        if reusable and self.store is not None:
            found = dict(self.store.get_many([r.cache_key for r in reusable]))
            found.update(self._unread([r.cache_key for r in reusable if r.cache_key not in found]))
            for request in reusable:
                if request.cache_key in found:
                    self._reuse(request, found[request.cache_key])
        missing = [r for r in missing if not self._known(r)]
        mine, theirs = self._claim(missing)
        if mine or theirs:
            self.progress.expect(len(mine))
            with self._watch() if self._watch is not None else contextlib.nullcontext():
                self._execute(mine)
                for request in theirs:
                    self._wait_then_obtain(request)
        return [self.memo[r.cache_key] for r in requests]

    def close(self) -> None:
        self.executor.close()

    def _unread(self, keys: list[str]) -> dict[str, RunRecord]:
        """The newest run of each key that finished but whose metrics could not be read
        (one query for all of them)."""
        if self.store is None or not keys:
            return {}
        newest: dict[str, RunRecord] = {}
        for record in self.store.records(cache_keys=keys, statuses=["failed"]):
            if (record.error or "").startswith(reading.UNREAD):
                newest[record.cache_key] = record  # records come in start order
        return newest

    def _reuse(self, request: RunRequest, record: RunRecord) -> RunRecord | None:
        """Take a recorded run, read again when the paper's reader changed since it ran.

        None when it cannot be reused (read again, its folder is gone): it runs again.
        """
        current = reading.reread(self.readers, request, record)
        if current is None:
            return None
        if current is not record:
            self.counters.reread += 1
            if self.store is not None and self.cfg.record:
                self.store.put(current)
        broken = pin_broken(request.spec, current)
        if broken is not None:  # the claim fails as a fresh run would; the record stays as it was
            current = dataclasses.replace(current, status="failed", error=broken)
        self._remember(current)
        self.counters.reused += 1
        return current

    def _known(self, request: RunRequest) -> bool:
        if request.force:
            return request.cache_key in self.executed
        return request.cache_key in self.memo

    # -- locking -------------------------------------------------------------------------
    def _claim(
        self, requests: list[RunRequest]
    ) -> tuple[list[tuple[RunRequest, RunLock | None]], list[RunRequest]]:
        """Split into runs this process computes (lock held) and runs another process is computing."""
        if self._lock is None:
            return [(r, None) for r in requests], []
        mine: list[tuple[RunRequest, RunLock | None]] = []
        theirs: list[RunRequest] = []
        from filelock import Timeout

        for request in requests:
            lock = self._lock(request.cache_key)
            try:
                lock.acquire(timeout=0)
            except Timeout:
                theirs.append(request)
                continue
            hit = self._lookup(request)
            if hit is not None and self._reuse(request, hit) is not None:
                lock.release()  # finished by another process between our look and our lock
                continue
            mine.append((request, lock))
        return mine, theirs

    def _lookup(self, request: RunRequest) -> RunRecord | None:
        if request.force or not self.cfg.reuse or self.store is None:
            return None
        return self.store.get_many([request.cache_key]).get(request.cache_key)

    def _wait_then_obtain(self, request: RunRequest) -> RunRecord:
        """Wait for the process computing this run, then take its record, whatever its status.

        A run another process of this session just executed is reused even when it failed
        (or was forced, or the cache only writes): waiting workers must not each retry it.
        """
        assert self._lock is not None
        lock = self._lock(request.cache_key)
        self.counters.waited += 1
        lock.acquire()
        try:
            record = self._lookup(request)
            if record is not None and (record := self._reuse(request, record)) is not None:
                return record
            record = self._from_this_session(request)
            if record is not None:
                self._remember(record)
                return record
            self._execute([(request, None)])
            return self.memo[request.cache_key]
        finally:
            lock.release()

    def _from_this_session(self, request: RunRequest) -> RunRecord | None:
        if self.store is None:
            return None
        start = self.session_start
        newest = None
        for record in self.store.records(cache_keys=[request.cache_key]):
            if record.started_at >= start and record.status != "running":
                newest = record
        return newest

    # -- execution -----------------------------------------------------------------------
    def _execute(self, items: list[tuple[RunRequest, RunLock | None]]) -> None:
        """Run ``items`` in parallel; each lock is released as soon as its run is recorded."""
        if not items:
            return
        if len(items) == 1 or self.cfg.workers == 1:
            for request, lock in items:
                try:
                    self._run_one(request)
                finally:
                    if lock is not None:
                        lock.release()
            return
        locks = {request.cache_key: lock for request, lock in items}
        with ThreadPoolExecutor(
            max_workers=min(self.cfg.workers, len(items)), thread_name_prefix="repro-run"
        ) as pool:
            futures = {pool.submit(self._run_one, request): request for request, _ in items}
            try:
                for future in as_completed(futures):
                    lock = locks.pop(futures[future].cache_key)
                    if lock is not None:
                        lock.release()
                    future.result()
            except KeyboardInterrupt:
                self._interrupted = True
                for future in futures:
                    future.cancel()
                self.executor.close()
                raise
            finally:
                for future in futures:
                    future.cancel()
                for lock in locks.values():
                    if lock is not None:
                        lock.release()

    def _run_one(self, request: RunRequest) -> RunRecord:
        run_id = f"{short_id(request.spec.paper.id)}-{request.variant_key[:8]}-s{request.seed}-{secrets.token_hex(3)}"
        run_dir = self.cfg.workdir / "runs" / run_id
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ReproError(
                f"cannot create the run folder {run_dir} ({exc.strerror or exc}); "
                "use --repro-dir=PATH on a writable disk with free space"
            ) from None
        started = time.time()
        self.progress.start(run_id, request, run_dir, self._estimate(request))
        pending = self._record(
            request, run_id, run_dir, status="running", started=started, ended=started
        )
        if self.store is not None and self.cfg.record:
            self.store.begin(pending)
        try:
            with self._devices(request) as devices:
                device = "cuda:0" if devices else "cpu"
                task = task_for(request, run_id, run_dir, device)
                env = tuple(sorted(request.spec.run.env.items()))
                key = PoolKey(python=request.python, threads=request.threads, gpus=devices, env=env)
                outcome = self.executor.execute(task, key, request.timeout, request.memory)
        except KeyboardInterrupt:
            self._interrupted = True
            self._finish(
                request,
                run_id,
                run_dir,
                Outcome(status="interrupted", started_at=started, ended_at=time.time()),
            )
            raise
        except Exception as exc:
            outcome = Outcome(
                status="failed",
                error=f"{type(exc).__name__}: {exc}",
                started_at=started,
                ended_at=time.time(),
            )
        self.progress.finish(run_id)
        record = self._finish(request, run_id, run_dir, outcome)
        if outcome.exception is not None:
            raise outcome.exception
        return record

    def _estimate(self, request: RunRequest) -> float | None:
        """Seconds the run may take, from its paper's recorded runs (heartbeat, GPU rank)."""
        if self._paper_history is None:
            return None
        from pytest_repro.forecast import estimate

        try:
            seconds = estimate(request, self._paper_history(request.spec.display))
        except Exception:  # a heartbeat's estimate must never fail a run
            return None
        return seconds if seconds is not None and math.isfinite(seconds) and seconds >= 0 else None

    @contextlib.contextmanager
    def _devices(self, request: RunRequest) -> Iterator[tuple[str, ...]]:
        if request.gpus <= 0 or self._gpu_lease is None:
            yield ()
            return
        expected = self._estimate(request)  # ranks it among runs waiting for devices
        with self._gpu_lease(request.gpus, memory=request.gpu_memory, expected=expected) as devices:
            yield devices

    def _finish(
        self, request: RunRequest, run_id: str, run_dir: Path, outcome: Outcome
    ) -> RunRecord:
        status = outcome.status
        error = outcome.error
        if self._interrupted and status != "ok":
            status, error = "interrupted", "the session was interrupted during this run"
        series: list[dict[str, Any]] = []
        examples: dict[str, list[float]] = {}
        try:
            series = reading.read_series(self.readers, request, run_dir)
            if request.spec.run.entrypoint:  # a command's run folder holds the script's own files
                examples = metrics.read_examples(run_dir / EXAMPLES_FILE)
        except Exception as exc:
            if status == "ok":
                status, error = "failed", f"{reading.UNREAD}: {type(exc).__name__}: {exc}"
        if status == "ok":
            overrun = reading.budget_overrun(request, series)
            if overrun:
                status, error = "failed", overrun
        evidence = dict(outcome.evidence)
        evidence["worker_started"] = outcome.worker_started
        evidence.update(reading.reading_evidence(request, run_dir))
        record = self._record(
            request,
            run_id,
            run_dir,
            status=status,
            started=outcome.started_at,
            ended=outcome.ended_at,
            series=series,
            examples=examples,
            extra_evidence=evidence,
            output_tail=metrics.tail(run_dir / OUTPUT_FILE),
            error=error,
        )
        if self.store is not None and self.cfg.record:
            self.store.put(record)
        self._remember(record)
        self.executed.add(record.cache_key)
        self.counters.executed += 1
        self.counters.run_seconds += record.wall_time
        if status != "ok":
            self.counters.failed += 1
        return record

    def _remember(self, record: RunRecord) -> None:
        with self._memo_lock:
            self.memo[record.cache_key] = record

    def _record(
        self,
        request: RunRequest,
        run_id: str,
        run_dir: Path,
        *,
        status: str,
        started: float,
        ended: float,
        series: Sequence[dict[str, Any]] = (),
        examples: dict[str, list[float]] | None = None,
        extra_evidence: dict[str, Any] | None = None,
        output_tail: str = "",
        error: str | None = None,
    ) -> RunRecord:
        evidence: dict[str, Any] = {
            "key": dict(request.key_fields),
            "git": self.git(request.spec.folder),
            "entrypoint": request.spec.run.entrypoint,
            "command": list(request.spec.run.command) if request.spec.run.command else None,
            "python": request.python,
            "purpose": request.purpose or None,
        }
        if request.upstream:
            evidence["upstream"] = dict(request.upstream)
        evidence.update(extra_evidence or {})
        return RunRecord(
            run_id=run_id,
            cache_key=request.cache_key,
            paper_id=request.spec.paper.id,
            paper_path=request.spec.display,
            variant=request.variant_key,
            config=dict(request.config),
            seed=request.seed,
            status=status,  # type: ignore[arg-type]
            series=tuple(series),
            examples=examples or {},
            evidence=evidence,
            output_tail=output_tail,
            error=error,
            started_at=started,
            ended_at=ended,
            run_dir=str(run_dir),
            smoke=request.smoke,
        )

    def git(self, folder: Path) -> dict[str, Any]:
        """Commit and dirty flags of the paper folder's repository (once per folder per session)."""
        if folder not in self._git:
            self._git[folder] = git_info(folder)
        return self._git[folder]


def _unique(requests: Sequence[RunRequest]) -> list[RunRequest]:
    seen: dict[str, RunRequest] = {}
    for request in requests:
        seen.setdefault(request.cache_key, request)
    return list(seen.values())


def default_executor(cfg: ReproConfig, *, usepdb: bool = False) -> Executor:
    """The executor a session uses unless a plugin supplies one: worker processes, pytest's
    own process with ``--repro-inprocess`` (``--pdb`` then stops in the paper's code), or a
    job per run with ``--repro-executor=slurm|local-jobs`` (submitit, imported only then)."""
    if cfg.cluster is not None:
        from pytest_repro.execution.slurm import SlurmExecutor

        return SlurmExecutor(cfg.cluster, cfg.workdir / "jobs")
    if cfg.inprocess:
        return InProcessExecutor(reraise=usepdb)
    return ProcessPool(cfg.workers, cfg.workdir / "workers")
