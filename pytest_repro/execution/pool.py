"""Long-lived worker processes with per-run timeouts and crash classification.

Why not a library pool: a crash-tolerant pool such as ``loky`` treats a dead
worker as a broken executor (every run in flight fails with it), and has no
per-task timeout that stops only the task that overran. A reproduction needs
both: one seed that segfaults or hangs must be recorded as such while its
siblings finish. So each worker here is its own process group, spoken to over a
pipe, and is killed and replaced alone.

Workers are grouped by a :class:`PoolKey` (interpreter, threads, GPUs, extra
environment) because those are fixed when a process starts.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, cast

from pytest_repro.errors import ReproWarning
from pytest_repro.execution.memory import group_rss, memory_cap_supported
from pytest_repro.execution.protocol import ExitTask, Reply, Task
from pytest_repro.seeding import deterministic_env
from pytest_repro.vocab import RunStatus

WORKER_MODULE = "pytest_repro.execution.worker"
START_TIMEOUT = 120.0
MEMORY_POLL = 0.1


@dataclass(frozen=True, slots=True)
class PoolKey:
    """What must be fixed at process start: worker processes are reused only within a key."""

    python: str = sys.executable
    threads: int = 1
    gpus: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What happened to one task, from the parent's point of view."""

    status: RunStatus
    error: str | None = None
    traceback: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    started_at: float = 0.0
    ended_at: float = 0.0
    worker_started: bool = False  # this task paid for a fresh worker process
    exception: BaseException | None = (
        None  # in-process runs under --pdb: raised again after recording
    )


@dataclass(slots=True)
class _Peak:
    """The highest resident memory (bytes) of a run's process group seen so far."""

    measurable: bool
    rss: int | None = None
    #: the group's resident memory when the run started: the worker's own, not the run's.
    baseline: int = 0

    def evidence(self) -> dict[str, int | None]:
        """``peak_rss`` (the group's peak) and ``baseline_rss`` (the worker before the run)."""
        return {"peak_rss": self.rss, "baseline_rss": self.baseline if self.rss else None}


class WorkerDied(Exception):
    def __init__(self, returncode: int | None) -> None:
        super().__init__(returncode)
        self.returncode = returncode


class Worker:
    """One worker process and its result pipe."""

    def __init__(self, key: PoolKey, log_dir: Path, extra_path: str | None = None) -> None:
        self.key = key
        read_fd, write_fd = os.pipe()
        env = dict(os.environ)
        threads = str(key.threads)
        for name in (
            "OMP_NUM_THREADS",
            "MKL_NUM_THREADS",
            "OPENBLAS_NUM_THREADS",
            "NUMEXPR_NUM_THREADS",
            "VECLIB_MAXIMUM_THREADS",
        ):
            env[name] = threads
        env.setdefault("PYTHONHASHSEED", "0")
        env.update(deterministic_env())
        # A run sees exactly the GPUs it leased; a CPU run sees none, so it cannot use one by accident.
        env["CUDA_VISIBLE_DEVICES"] = ",".join(key.gpus)
        env.update(dict(key.env))
        if extra_path:
            env["PYTHONPATH"] = extra_path + (
                os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""
            )
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"worker-{os.getpid()}-{time.monotonic_ns()}.log"
        log = self.log_path.open("ab")
        try:
            self.proc = subprocess.Popen(
                [key.python, "-u", "-m", WORKER_MODULE, str(write_fd)],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                pass_fds=(write_fd,),
                env=env,
                start_new_session=True,  # its own process group: a timeout kills the run's children too
                close_fds=True,
            )
        finally:
            log.close()
            os.close(write_fd)
        self._fd = read_fd
        self._buffer = b""
        assert self.proc.stdin is not None
        self._stdin: IO[bytes] = self.proc.stdin
        self.runs = 0
        self.ready = False

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        message = self._read(time.monotonic() + timeout)
        if message is None:
            self.kill()
            raise TimeoutError(f"worker did not start within {timeout:.0f}s (see {self.log_path})")
        self.ready = True

    def send(self, task: Task | ExitTask) -> None:
        try:
            self._stdin.write((json.dumps(task, default=str) + "\n").encode())
            self._stdin.flush()
        except (BrokenPipeError, OSError):
            raise WorkerDied(self.proc.poll()) from None

    def receive(self, deadline: float | None) -> Reply | None:
        """The next result, or None when ``deadline`` passed. Raises :class:`WorkerDied`."""
        message = self._read(deadline)
        return cast("Reply", message) if message is not None else None

    def _read(self, deadline: float | None) -> dict[str, Any] | None:
        while b"\n" not in self._buffer:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                return None
            ready, _, _ = select.select([self._fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self._fd, 1 << 16)
            if not chunk:
                raise WorkerDied(self._reap())
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        return message

    def _reap(self) -> int | None:
        try:
            return self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()
            return self.proc.returncode

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker and everything it started (its process group)."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        self.close()

    def stop(self) -> None:
        """Ask an idle worker to exit; kill it if it does not."""
        with contextlib.suppress(WorkerDied, OSError, ValueError):
            self.send({"type": "exit"})
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._stdin.close()
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1


class ProcessPool:
    """At most ``size`` worker processes; thread-safe ``execute`` of one task at a time per worker."""

    def __init__(self, size: int, log_dir: Path, *, shim_dir: Path | None = None) -> None:
        self.size = max(1, size)
        self.log_dir = log_dir
        self.shim_dir = shim_dir or log_dir / "shim"
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(self.size)
        self.started = 0
        self._closed = False
        self._cap: bool | None = None

    def _cap_supported(self) -> bool:
        if self._cap is None:
            self._cap = memory_cap_supported()
        return self._cap

    def execute(
        self,
        task: Task,
        key: PoolKey,
        timeout: float | None,
        memory: int | None = None,
    ) -> Outcome:
        """Run ``task`` on a worker of ``key``; blocks until it ends, times out or the worker dies.

        ``memory`` (bytes) caps the resident memory of the run's process group; a run past
        it is stopped and recorded as ``killed``, like the kernel's out-of-memory killer would.
        """
        if memory and not self._cap_supported():
            _warn_cap_not_enforced(memory, "this machine's processes cannot be measured")
            memory = None
        peak = _Peak(measurable=self._cap_supported())
        with self._slots:
            worker, fresh = self._checkout(key)
            started = time.time()
            try:
                if not worker.ready:
                    worker.wait_ready()
                if peak.measurable:  # what the worker holds before the run: not the run's
                    peak.baseline = group_rss(worker.proc.pid) or 0
                started = time.time()
                worker.send(task)
                deadline = None if timeout is None else time.monotonic() + timeout
                result, stop = self._wait(worker, deadline, memory, peak)
            except WorkerDied as died:
                self._discard(worker)
                return _died_outcome(died.returncode, started, fresh, self.log_dir)
            except TimeoutError as exc:
                self._discard(worker)
                return _outcome("crashed", str(exc), started, fresh)
            except BaseException:
                self._discard(worker, kill=True)
                raise
            if result is None:
                self._discard(worker, kill=True)
                if stop is not None:
                    return replace(
                        _outcome("killed", stop, started, fresh), evidence=peak.evidence()
                    )
                return _outcome(
                    "timeout",
                    f"the run was stopped after its timeout of {_duration(timeout or 0)}",
                    started,
                    fresh,
                )
            worker.runs += 1
            self._checkin(worker)
            return Outcome(
                status=result["status"],
                error=result["error"],
                traceback=result["traceback"],
                evidence={**result["evidence"], **peak.evidence()},
                started_at=float(result["started_at"]),
                ended_at=float(result["ended_at"]),
                worker_started=fresh,
            )

    def _wait(
        self, worker: Worker, deadline: float | None, memory: int | None, peak: _Peak
    ) -> tuple[Reply | None, str | None]:
        """The worker's result, or (None, reason) when the memory cap stopped it, (None, None) on timeout.

        The resident memory of the run's process group is sampled every ``MEMORY_POLL``
        seconds, with a cap or without, and its maximum kept in ``peak``.
        """
        while True:
            used = group_rss(worker.proc.pid) if peak.measurable else None
            if used is None:
                if memory:
                    _warn_cap_not_enforced(memory, "the run's processes could not be measured")
                peak.measurable = False
                return worker.receive(deadline), None
            peak.rss = max(peak.rss or 0, used)
            if memory and used - peak.baseline > memory:
                return None, (
                    f"the run used {_size(used - peak.baseline)} of memory, over its limit of "
                    f"{_size(memory)} (run.resources.memory), and was stopped; counted is its "
                    f"process group's resident memory ({_size(used)}) less what the worker "
                    f"held when the run started ({_size(peak.baseline)})"
                )
            now = time.monotonic()
            step = MEMORY_POLL if deadline is None else min(MEMORY_POLL, max(0.0, deadline - now))
            result = worker.receive(now + step)
            if result is not None:
                return result, None
            if deadline is not None and time.monotonic() >= deadline:
                return None, None

    def _checkout(self, key: PoolKey) -> tuple[Worker, bool]:
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker pool is closed")
            for worker in self._idle:
                if worker.key == key and worker.alive:
                    self._idle.remove(worker)
                    self._busy.add(worker)
                    return worker, False
            # Make room: at most `size` processes in all, idle ones of other keys go first.
            while self._idle and len(self._idle) + len(self._busy) >= self.size:
                self._idle.pop(0).stop()
            extra = None if key.python == sys.executable else str(package_shim(self.shim_dir))
            worker = Worker(key, self.log_dir, extra)
            self.started += 1
            self._busy.add(worker)
            return worker, True

    def _checkin(self, worker: Worker) -> None:
        with self._lock:
            self._busy.discard(worker)
            if self._closed or not worker.alive or worker.key.gpus:
                # A GPU worker would keep its CUDA context and cached memory on a device whose
                # lease is being released: stop it rather than keep it warm.
                worker.stop()
            else:
                self._idle.append(worker)

    def _discard(self, worker: Worker, *, kill: bool = True) -> None:
        with self._lock:
            self._busy.discard(worker)
        if kill:
            worker.kill()

    def close(self) -> None:
        """Stop idle workers and kill busy ones (an interrupted session)."""
        with self._lock:
            self._closed = True
            idle, busy = list(self._idle), list(self._busy)
            self._idle.clear()
        for worker in idle:
            worker.stop()
        for worker in busy:
            worker.kill()


def package_shim(folder: Path) -> Path:
    """A folder holding only ``pytest_repro`` (a link to this package), for ``PYTHONPATH``.

    Workers of an isolated paper environment need pytest-repro's worker code but must not
    see the host's site-packages, which putting the host's package folder on the path would do.
    """
    package = Path(__file__).resolve().parent.parent
    link = folder / "pytest_repro"
    if not link.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.symlink(package, link, target_is_directory=True)
    return folder


def _outcome(status: RunStatus, error: str, started: float, fresh: bool) -> Outcome:
    return Outcome(
        status=status, error=error, started_at=started, ended_at=time.time(), worker_started=fresh
    )


def _warn_cap_not_enforced(memory: int, why: str) -> None:
    warnings.warn(
        ReproWarning(
            f"run.resources.memory ({_size(memory)}) is not enforced: {why}; "
            "the run goes on without a memory cap"
        ),
        stacklevel=2,
    )


def _size(n: int) -> str:
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


def full_disk(path: str = ".", floor: int = 1 << 20) -> bool:
    """Whether the disk holding ``path`` has less than ``floor`` bytes free."""
    try:
        return shutil.disk_usage(path).free < floor
    except OSError:
        return False


def _died_outcome(
    returncode: int | None, started: float, fresh: bool, where: Path | None = None
) -> Outcome:
    status: RunStatus
    if returncode is not None and returncode < 0:
        sig = -returncode
        name = _signal_name(sig)
        if sig == signal.SIGKILL:
            status = "killed"
            error = "the run was killed by SIGKILL (often the kernel's out-of-memory killer)"
        else:
            status = "crashed"
            error = f"the run crashed with {name}"
    else:
        status = "crashed"
        error = (
            f"the run's process exited with status {returncode} in the middle of the run "
            "(os._exit or a native library)"
        )
    if where is not None and full_disk(str(where)):
        error += (
            "; the disk of the run folders is full (no space left), which stops a run "
            "writing its output: free space, or use --repro-dir=PATH on another disk"
        )
    return Outcome(
        status=status, error=error, started_at=started, ended_at=time.time(), worker_started=fresh
    )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"
