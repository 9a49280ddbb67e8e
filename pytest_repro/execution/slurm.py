"""Runs as SLURM jobs, through submitit: ``--repro-executor=slurm`` (and ``local-jobs``).

:class:`SlurmExecutor` is an :class:`~pytest_repro.execution.service.Executor`: each
``execute`` submits one job that runs the task (:func:`~pytest_repro.execution.slurm_job.run_job`),
polls it, and answers an :class:`~pytest_repro.execution.pool.Outcome` the run service
records in the ledger like any other. ``local-jobs`` sends the very same jobs to
submitit's local executor (processes on this machine), which is how the set-up is tested
without a cluster.

What can happen to a job:

- it returns the run's reply (``ok``, or ``failed`` with the run's own exception): recorded
  as it is, never sent again;
- it reaches the run's deadline (the run's timeout, else ``--repro-slurm-time``): ``timeout``;
- SLURM stops it for its memory (``OUT_OF_MEMORY``): ``killed``; or at its time limit: ``timeout``;
- it is lost to the cluster (preempted, killed, a node failure, no result for any reason):
  sent again, up to ``--repro-slurm-resubmit`` times, then recorded once as ``failed`` with
  the job id, its state and its log.

Job folders live under ``<repro dir>/jobs/<run id>/``; the run's own files stay in its run
folder, so both must be on a filesystem the compute nodes share.
"""

from __future__ import annotations

import contextlib
import math
import os
import shlex
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_repro.errors import ReproWarning
from pytest_repro.execution import metrics
from pytest_repro.execution.pool import Outcome, PoolKey
from pytest_repro.execution.protocol import Reply, Task
from pytest_repro.execution.slurm_job import deadline_marker, run_job
from pytest_repro.execution.slurm_settings import ClusterSettings
from pytest_repro.execution.worker import OUTPUT_FILE
from pytest_repro.seeding import deterministic_env
from pytest_repro.vocab import RunStatus

if TYPE_CHECKING:
    from submitit import Job

#: thread variables every run gets, as the worker pool sets them.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
#: minutes a job's time limit adds to its run's deadline: the job's start and imports.
START_MINUTES = 2
#: memory a job asks for beyond its run's limit: the job's interpreter (Python, submitit,
#: pytest-repro), which the worker pool subtracts from what it counts against a run.
JOB_MEMORY_BASE = 256 * 2**20
#: job states that are the run's own doing: sending the job again would end the same way.
FINAL_STATES: dict[str, RunStatus] = {"TIMEOUT": "timeout", "OUT_OF_MEMORY": "killed"}
#: seconds a preempted SLURM job may stay so before it counts as lost (not requeued).
PREEMPTED_GRACE = 120.0


@dataclass(frozen=True, slots=True)
class _Lost:
    """A job that ended without a result: the cluster's doing, worth sending again."""

    job_id: str
    state: str
    log: Path


class SlurmExecutor:
    """Each run a job; at most ``settings.max_jobs`` in flight; thread-safe ``execute``.

    ``poll`` is the longest wait between two looks at a job (default: 5 s on SLURM, whose
    states submitit reads with ``sacct`` at its own pace, and 0.1 s for local jobs); the
    first looks come sooner (0.1 s, doubling), so a short run is not kept waiting.
    """

    def __init__(
        self, settings: ClusterSettings, jobs_dir: Path, *, poll: float | None = None
    ) -> None:
        self.settings = settings
        self.jobs_dir = jobs_dir
        self.poll = poll if poll is not None else (5.0 if settings.cluster == "slurm" else 0.1)
        self._slots = threading.BoundedSemaphore(settings.max_jobs)
        self._lock = threading.Lock()
        #: submitit keeps one state cache per kind of job, shared by every job (sacct calls).
        self._watch = threading.Lock()
        self._active: dict[str, Job[Any]] = {}
        self._closed = threading.Event()
        self._memory_warned = False
        #: jobs submitted in all, resubmissions included (benchmarks, tests).
        self.submitted = 0

    # -- the Executor protocol -------------------------------------------------------------
    def execute(
        self, task: Task, key: PoolKey, timeout: float | None, memory: int | None = None
    ) -> Outcome:
        """Submit ``task`` as a job and block until its outcome is known (resubmitting a lost job)."""
        started = time.time()
        if memory and self.settings.cluster == "local":
            self._warn_memory_once(memory)
        with self._slots:
            job_dir = self.jobs_dir / task["run_id"]
            job_ids: list[str] = []
            for attempt in range(1, self.settings.resubmit + 2):
                if self._closed.is_set():
                    return _interrupted(started)
                try:
                    job = self._submit(task, key, timeout, memory, job_dir, attempt)
                except Exception as exc:  # sbatch refused it: an unknown partition, an account
                    refused = Outcome(
                        status="failed",
                        error=f"the job could not be submitted: {type(exc).__name__}: {exc}",
                        started_at=started,
                        ended_at=time.time(),
                    )
                    return self._with_evidence(refused, job_ids, job_dir)
                job_ids.append(str(job.job_id))
                try:
                    ended = self._wait(job, job_dir, attempt, started)
                finally:
                    with self._lock:
                        self._active.pop(str(job.job_id), None)
                if not isinstance(ended, _Lost):
                    return self._with_evidence(ended, job_ids, job_dir)
                _keep_job_log(ended, Path(task["run_dir"]))
                lost = ended
            message = (
                f"job {lost.job_id} ended in state {lost.state} without a result "
                f"({len(job_ids)} attempt(s), sent again {len(job_ids) - 1} time(s), "
                f"--repro-slurm-resubmit={self.settings.resubmit}); its log: {lost.log}"
            )
            failed = Outcome(
                status="failed", error=message, started_at=started, ended_at=time.time()
            )
            return self._with_evidence(failed, job_ids, job_dir)

    def _warn_memory_once(self, memory: int) -> None:
        with self._lock:
            if self._memory_warned:
                return
            self._memory_warned = True
        warnings.warn(
            ReproWarning(
                f"run.resources.memory ({memory / 2**30:.1f} GiB) is not enforced with "
                "--repro-executor=local-jobs (submitit's local jobs have no memory limit); "
                "SLURM enforces it, and so does the worker pool (--repro-executor=local)"
            ),
            stacklevel=2,
        )

    def close(self) -> None:
        """Cancel every job in flight (an interrupted session); waiting calls return."""
        self._closed.set()
        with self._lock:
            jobs = list(self._active.values())
        for job in jobs:
            self._cancel(job)

    def _cancel(self, job: Job[Any]) -> None:
        """Stop a job in flight, once (``close`` and its waiting thread may both ask)."""
        with self._lock:
            if self._active.pop(str(job.job_id), None) is None:
                return
        with contextlib.suppress(Exception):
            if self.settings.cluster == "local":
                _end_local_job(int(job.job_id))
            else:
                job.cancel(check=False)  # scancel

    # -- one job ----------------------------------------------------------------------------
    def _submit(
        self,
        task: Task,
        key: PoolKey,
        timeout: float | None,
        memory: int | None,
        job_dir: Path,
        attempt: int,
    ) -> Job[Any]:
        import submitit

        cluster = self.settings.cluster
        seconds = timeout if timeout is not None else self.settings.time
        if timeout is not None:
            reason = f"the run was stopped after its timeout of {_duration(timeout)}"
        else:
            reason = (
                f"the run was stopped at the job's time limit of {_duration(seconds)} "
                "(--repro-slurm-time): give run.timeout in paper.yaml or a longer --repro-slurm-time"
            )
        env = job_environment(key, cluster)
        executor = submitit.AutoExecutor(folder=job_dir, cluster=cluster)
        executor.update_parameters(
            **job_parameters(self.settings, task["run_id"], key, seconds, memory, env)
        )
        with self._lock:
            if self._closed.is_set():
                raise RuntimeError("the session was interrupted")
            job = executor.submit(
                run_job, task, env, seconds, reason, str(job_dir.resolve()), attempt
            )
            self._active[str(job.job_id)] = job
            self.submitted += 1
        return job

    def _wait(self, job: Job[Any], job_dir: Path, attempt: int, started: float) -> Outcome | _Lost:
        """Poll until the job ends: its outcome, or :class:`_Lost` when it has no result."""
        preempted_since: float | None = None
        delay = min(0.1, self.poll)
        while True:
            if self._closed.is_set():
                self._cancel(job)
                return _interrupted(started)
            with self._watch:
                done = job.done()
                state = "" if done else _state(job)
            if done:
                break
            if state == "PREEMPTED":  # requeued by SLURM, or cancelled for good
                preempted_since = preempted_since or time.monotonic()
                if time.monotonic() - preempted_since > PREEMPTED_GRACE:
                    return _Lost(str(job.job_id), state, job.paths.stderr)
            else:
                preempted_since = None
            time.sleep(delay)
            delay = min(self.poll, delay * 2)
        if _result_ready(job, patience=15.0 if self.settings.cluster == "slurm" else 0.0):
            try:
                reply: Reply = job.result()
            except Exception as exc:  # the job failed outside the run (e.g. an import)
                return Outcome(
                    status="failed",
                    error=f"job {job.job_id} failed outside the run: {type(exc).__name__}",
                    traceback=str(exc),
                    started_at=started,
                    ended_at=time.time(),
                    worker_started=True,
                )
            return Outcome(
                status=reply["status"],
                error=reply["error"],
                traceback=reply["traceback"],
                evidence=reply["evidence"],
                started_at=float(reply["started_at"]),
                ended_at=float(reply["ended_at"]),
                worker_started=True,
            )
        marker = deadline_marker(job_dir, attempt)
        if marker.is_file():
            return Outcome(
                status="timeout",
                error=marker.read_text(encoding="utf-8"),
                started_at=started,
                ended_at=time.time(),
                worker_started=True,
            )
        state = _state(job)
        if state in FINAL_STATES:
            what = "its memory limit" if state == "OUT_OF_MEMORY" else "its time limit"
            return Outcome(
                status=FINAL_STATES[state],
                error=f"SLURM stopped job {job.job_id} at {what} ({state}); its log: {job.paths.stderr}",
                started_at=started,
                ended_at=time.time(),
                worker_started=True,
            )
        return _Lost(str(job.job_id), state or "UNKNOWN", job.paths.stderr)

    def _with_evidence(self, outcome: Outcome, job_ids: list[str], job_dir: Path) -> Outcome:
        executor = {
            "kind": self.settings.kind,
            "job_id": job_ids[-1] if job_ids else None,
            "job_ids": job_ids,
            "attempts": len(job_ids),
            "folder": str(job_dir),
        }
        if self.settings.partition:
            executor["partition"] = self.settings.partition
        evidence = {**outcome.evidence, "executor": executor}
        return Outcome(
            status=outcome.status,
            error=outcome.error,
            traceback=outcome.traceback,
            evidence=evidence,
            started_at=outcome.started_at,
            ended_at=outcome.ended_at,
            worker_started=outcome.worker_started,
        )


def job_parameters(
    settings: ClusterSettings,
    run_id: str,
    key: PoolKey,
    seconds: float,
    memory: int | None,
    env: dict[str, str],
) -> dict[str, Any]:
    """The submitit parameters of one run's job (``AutoExecutor.update_parameters``).

    The time limit is the run's deadline (``seconds``) plus :data:`START_MINUTES`; GPUs are
    the run's leased devices, CPUs its threads; the memory is the run's
    ``resources.memory`` (else ``--repro-slurm-memory``) plus :data:`JOB_MEMORY_BASE` for
    the job's own interpreter, which the worker pool does not count against a run either.
    The setup lines come first, then the exports of ``env``.
    """
    cluster = settings.cluster
    exports = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    parameters: dict[str, Any] = {
        "name": f"repro-{run_id}",
        "timeout_min": math.ceil(seconds / 60) + START_MINUTES,
        "cpus_per_task": key.threads,
        "tasks_per_node": 1,
        "nodes": 1,
        f"{cluster}_setup": [*settings.setup, *exports],
    }
    if key.gpus:  # a CPU job asks for none rather than for zero (not every SLURM takes 0)
        parameters["gpus_per_node"] = len(key.gpus)
    if memory is None:
        memory = settings.memory
    if memory:
        parameters["mem_gb"] = math.ceil((memory + JOB_MEMORY_BASE) / 2**20) / 1024
    if cluster == "slurm":
        parameters["slurm_partition"] = settings.partition
        parameters["slurm_account"] = settings.account
    return parameters


def job_environment(key: PoolKey, cluster: str) -> dict[str, str]:
    """The variables a job exports before its interpreter starts, as the pool sets a worker's.

    On SLURM a GPU job keeps the ``CUDA_VISIBLE_DEVICES`` of its allocation; a CPU job sees
    no GPU, and a local job sees exactly the devices its run leased.
    """
    env = dict.fromkeys(THREAD_VARIABLES, str(key.threads))
    env["PYTHONHASHSEED"] = os.environ.get("PYTHONHASHSEED", "0")
    env.update(deterministic_env())
    if cluster != "slurm" or not key.gpus:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(key.gpus)
    env.update(dict(key.env))
    return env


def _state(job: Job[Any]) -> str:
    """The job's state, first word only (``CANCELLED by 1234`` is ``CANCELLED``)."""
    try:
        text = str(job.state)
    except Exception:
        return "UNKNOWN"
    return (text.split() or ["UNKNOWN"])[0].upper()


def _result_ready(job: Job[Any], *, patience: float) -> bool:
    """Whether the job left a result; a shared filesystem may show it a few seconds late."""
    until = time.monotonic() + patience
    while True:
        if job.paths.result_pickle.exists():
            return True
        if time.monotonic() >= until:
            return False
        time.sleep(1.0)


def _keep_job_log(lost: _Lost, run_dir: Path) -> None:
    """The tail of a lost job's own log goes where a run's output tail is read from."""
    parts = []
    for path in (lost.log.with_suffix(".out"), lost.log):
        text = metrics.tail(path, lines=40)
        if text:
            parts.append(f"--- {path} ---\n{text}\n")
    if not parts:
        return
    with contextlib.suppress(OSError):
        run_dir.mkdir(parents=True, exist_ok=True)
        with (run_dir / OUTPUT_FILE).open("a", encoding="utf-8") as handle:
            handle.write(f"\n[job {lost.job_id} ended in state {lost.state}]\n" + "".join(parts))


def _end_local_job(pid: int) -> None:
    """Kill a local job's process and all it started: its setup lines run it in a shell,
    which would not pass a signal on to the job's Python."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for process in tree:  # SIGKILL: nothing to wait for
        with contextlib.suppress(psutil.Error):
            process.kill()


def _interrupted(started: float) -> Outcome:
    return Outcome(status="interrupted", started_at=started, ended_at=time.time())


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


__all__ = ["JOB_MEMORY_BASE", "SlurmExecutor", "job_environment", "job_parameters"]
