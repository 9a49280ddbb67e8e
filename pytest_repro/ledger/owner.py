"""Who is running a run, and whether that process is still there.

A run in progress is stored with its owner: host name, process id and the process's
own start time. The start time tells a live owner from an unrelated process that was
later given the same pid (common in containers, where every session gets pid 7).
Processes are inspected through psutil, which the ledger may use: it runs only in the
pytest process, never in workers, and is imported when a process is first asked about (a
session that reuses every run never is).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Final

#: Process start times read twice may differ by this much (boot time is whole seconds).
START_TIME_TOLERANCE: Final = 2.0

#: States of a process that has exited but whose pid is not yet free (psutil's names).
_EXITED: Final = frozenset({"zombie", "dead"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Owner:
    """The process that stores a run: ``host``, ``pid`` and its start time, where known."""

    host: str
    pid: int
    started_at: float | None

    @classmethod
    def current(cls) -> Owner:
        """The calling process (asked anew each time: a forked child is another owner)."""
        pid = os.getpid()
        return cls(host=socket.gethostname(), pid=pid, started_at=process_start_time(pid))


def process_start_time(pid: int) -> float | None:
    """When process ``pid`` started, in seconds since the epoch; None where unknown
    (no such process, or the platform does not tell)."""
    if pid <= 0:
        return None
    import psutil

    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


def pid_alive(pid: int, started_at: float | None = None) -> bool:
    """Whether ``pid`` is a live process on this host and, given ``started_at``, the same one.

    Zombies (exited, not yet reaped) count as gone. Where the platform cannot tell
    (access denied), the answer is True: a run is never marked interrupted while its
    owner may live.
    """
    import psutil

    if pid <= 0 or not psutil.pid_exists(pid):
        return False
    try:
        process = psutil.Process(pid)
        if process.status() in _EXITED:
            return False
        if started_at is not None:
            now_started = process.create_time()
            if abs(now_started - started_at) > START_TIME_TOLERANCE:
                return False  # the pid now belongs to a younger process
    except psutil.NoSuchProcess:  # exited meanwhile (ZombieProcess is one too)
        return False
    except (psutil.Error, OSError):  # exists, but its details are not ours to read
        return True
    return True


def owner_gone(
    *,
    owner_host: str | None,
    owner_pid: int | None,
    owner_started_at: float | None,
    run_started_at: float,
    host: str,
    now: float,
    max_age: float,
) -> str | None:
    """Why a "running" row's owner is gone, or None while it may still be running.

    On this host the owner's pid is checked. On another host (or with no owner
    recorded, e.g. an imported row) nothing can be checked, so the run counts as
    gone once it started more than ``max_age`` seconds ago.
    """
    if owner_host == host and owner_pid is not None:
        if pid_alive(owner_pid, owner_started_at):
            return None
        return f"interrupted: its process {owner_pid} on {host} is gone"
    age = now - run_started_at
    if age <= max_age:
        return None
    where = f"on host {owner_host}" if owner_host else "with no recorded owner"
    return (
        f"interrupted: started {age / 3600:.1f} h ago {where}, "
        f"longer than the {max_age / 3600:.1f} h a run may take"
    )
