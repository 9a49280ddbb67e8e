"""What a SLURM (or local) job runs: one task, in the job's own process.

submitit pickles :func:`run_job` by its module path and calls it on the compute node.
The job's environment (threads, ``CUDA_VISIBLE_DEVICES``, ``PYTHONHASHSEED``, ``run.env``)
was already exported by the job's setup lines, before its interpreter started, so
everything imported there (numpy, torch) sees it; :func:`run_job` sets it again for the
run and then executes the task exactly as a worker process does
(:func:`pytest_repro.execution.worker.execute`): its output goes to the run folder's
``repro-output.log``, its exception becomes the reply's ``failed`` status.

Standard library only at import, like the worker.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import sys
import threading
from pathlib import Path

from pytest_repro.execution import processes
from pytest_repro.execution.protocol import Reply, Task

#: exit status of a job whose run was stopped at its deadline (the marker says why).
DEADLINE_EXIT = 124


def deadline_marker(job_dir: Path, attempt: int) -> Path:
    """The file a job writes when it stops its run at the deadline (its text: why)."""
    return job_dir / f"deadline-{attempt}.txt"


def set_aside_folder(job_dir: Path, attempt: int) -> Path:
    """Where the files found in the run folder when ``attempt`` started are kept: those of
    the attempt before it, lost (``before-attempt-2``; ``+`` added if SLURM requeued a job)."""
    folder = job_dir / f"before-attempt-{attempt}"
    while folder.exists():
        folder = folder.with_name(folder.name + "+")
    return folder


def run_job(
    task: Task,
    env: dict[str, str],
    deadline: float | None,
    reason: str,
    job_dir: str,
    attempt: int,
) -> Reply:
    """Run ``task`` in this job's process and answer its :class:`Reply`.

    ``deadline`` (seconds from now) stops the run with ``reason`` written to
    :func:`deadline_marker`, so the submitting side records a timeout rather than a lost
    job. A run folder holding files from an earlier attempt (a job the cluster requeued or
    that was sent again) is emptied into :func:`set_aside_folder` first: a run appends to
    its metrics file, and a second attempt must not read the first one's points.
    """
    from pytest_repro.execution.worker import _WorkerState, execute

    os.environ.update(env)
    processes.become_subreaper()
    folder = Path(job_dir)
    _set_aside(Path(task["run_dir"]), folder, attempt)
    # submitit's own handler raises inside the running code when the time limit nears;
    # the deadline below ends the run first, and a preempted job is simply sent again.
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    done = threading.Event()
    if deadline is not None:
        threading.Thread(
            target=_stop_at,
            args=(deadline, reason, deadline_marker(folder, attempt), done),
            name="repro-job-deadline",
            daemon=True,
        ).start()
    baseline = _peak_rss(resource.RUSAGE_SELF)
    try:
        reply = execute(task, _WorkerState())
    finally:
        done.set()
    reply["evidence"]["job_attempt"] = attempt
    # As the pool records them: the highest resident memory seen (here the larger of the
    # job's process and its largest child) and what the job held before the run started.
    peak = max(_peak_rss(resource.RUSAGE_SELF), _peak_rss(resource.RUSAGE_CHILDREN))
    reply["evidence"]["peak_rss"] = peak
    reply["evidence"]["baseline_rss"] = baseline
    return reply


def _peak_rss(who: int) -> int:
    """Peak resident memory in bytes (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    value = resource.getrusage(who).ru_maxrss
    return int(value) if sys.platform == "darwin" else int(value) * 1024


def _stop_at(seconds: float, reason: str, marker: Path, done: threading.Event) -> None:
    if done.wait(seconds):
        return
    with contextlib.suppress(OSError):
        marker.write_text(reason, encoding="utf-8")
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    processes.end_strays()
    os._exit(DEADLINE_EXIT)


def _set_aside(run_dir: Path, job_dir: Path, attempt: int) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    leftovers = list(run_dir.iterdir())
    if not leftovers:
        return
    earlier = set_aside_folder(job_dir, attempt)
    earlier.mkdir(parents=True)
    for path in leftovers:
        shutil.move(str(path), str(earlier / path.name))


__all__ = ["DEADLINE_EXIT", "deadline_marker", "run_job", "set_aside_folder"]
