"""The processes a worker's runs start: found and ended with the run, and the worker's own
end when its parent is gone. Standard library only (workers run in isolated environments).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time


def become_subreaper() -> None:
    """Linux: orphans of this worker's runs become its children, not init's.

    A run's process that starts a child in a new session (``start_new_session=True``,
    ``setsid``) leaves the worker's process group, so ending the group does not end it;
    as a subreaper the worker still finds it (:func:`end_strays`).
    """
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (Linux ``/proc``; none elsewhere)."""
    found = []
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    stat = handle.read().decode("ascii", "replace")
            except OSError:
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            if len(fields) > 1 and fields[1] == str(pid):
                found.append(int(entry))
    return found


def end_strays() -> int:
    """End what a finished run left running under this worker; returns how many.

    A run is over when its entrypoint returned or its command exited: a process it
    started that is still alive (a data loader, a background logger, a child in its own
    session) would outlive the session, hold memory and write into the next run's folder.
    """
    strays = _children(os.getpid())
    for pid in strays:
        for child in _children(pid):
            strays.append(child)
    for pid in strays:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for pid in strays:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, 0)
    return len(strays)


def watch_parent(interval: float = 1.0) -> None:
    """Stop this worker and everything it started (its process group) once its parent is gone.

    A killed pytest must not leave training runs behind. Polling the parent pid works on
    every POSIX system and, unlike Linux's parent-death signal, does not fire when merely
    the parent *thread* that started the worker exits.
    """
    import threading

    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != parent:
                with contextlib.suppress(OSError):
                    os.killpg(os.getpgid(0), signal.SIGKILL)
                os._exit(1)

    threading.Thread(target=watch, name="repro-parent-watch", daemon=True).start()


__all__ = ["become_subreaper", "end_strays", "watch_parent"]
