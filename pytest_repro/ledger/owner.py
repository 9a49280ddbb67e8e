"""Who is running a run, and whether that process is still there.

A run in progress is stored with its owner: host name, process id and the process's
own start time. The start time tells a live owner from an unrelated process that was
later given the same pid (common in containers, where every session gets pid 7).
"""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Final

#: Process start times read twice may differ by this much (boot time is whole seconds).
START_TIME_TOLERANCE: Final = 2.0

_PROC: Final = Path("/proc")


@dataclass(frozen=True, slots=True)
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
    """When process ``pid`` started, in seconds since the epoch; None where unknown.

    Linux only (``/proc``); elsewhere liveness falls back to the pid alone.
    """
    stat = _proc_stat(pid)
    boot = _boot_time()
    if stat is None or boot is None:
        return None
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    return boot + stat[1] / ticks_per_second


def pid_alive(pid: int, started_at: float | None = None) -> bool:
    """Whether ``pid`` is a live process on this host and, given ``started_at``, the same one.

    Zombies (exited, not yet reaped) count as gone. Where the platform cannot tell,
    the answer is True: a run is never marked interrupted while its owner may live.
    """
    if pid <= 0:
        return False
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return _windows_pid_alive(pid)
    if _PROC.joinpath("self", "stat").exists():
        stat = _proc_stat(pid)
        if stat is None or stat[0] in ("Z", "X"):
            return False
        if started_at is not None:
            now_started = process_start_time(pid)
            if now_started is not None and abs(now_started - started_at) > START_TIME_TOLERANCE:
                return False  # the pid now belongs to a younger process
        return True
    try:  # pragma: no cover - POSIX without /proc (macOS, BSD)
        os.kill(pid, 0)
    except ProcessLookupError:  # pragma: no cover
        return False
    except OSError:  # pragma: no cover - exists but belongs to another user
        return True
    return True  # pragma: no cover


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


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) from ``/proc/<pid>/stat``."""
    try:
        text = _PROC.joinpath(str(pid), "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself hold ") ".
    fields = text[text.rindex(")") + 2 :].split()
    try:
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _boot_time() -> float | None:
    try:
        text = _PROC.joinpath("stat").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    return None


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import ctypes

    def _windows_pid_alive(pid: int) -> bool:
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return bool(kernel32.GetLastError() == 5)  # ERROR_ACCESS_DENIED: exists
        try:
            code = ctypes.c_ulong()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
