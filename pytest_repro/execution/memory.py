"""Resident memory of a process group, measured through psutil: what a run's memory cap
(``resources.memory``) is held against.

A run's worker leads its own process group, so the processes a run's ``command:``
starts count too. The parent polls :func:`group_rss` while the run is in flight;
:func:`memory_cap_supported` says whether that can work on this machine at all.

This module runs in the pytest process only, never in workers.
"""

from __future__ import annotations

import os


def group_rss(pgid: int) -> int | None:
    """Resident memory in bytes of every process in process group ``pgid``, or None
    where it cannot be measured.

    The answer is:

    - the sum of ``memory_info().rss`` over the group's processes whose memory could be
      read. Processes that exit while they are measured are left out; so are members
      whose memory this user may not read, which makes the sum a lower bound;
    - ``0`` when no process is left in the group: the group has exited (its processes
      reaped, or zombies that hold no memory) or never existed;
    - ``None`` when it cannot be measured at all: the platform has no process groups
      (Windows), psutil cannot list this machine's processes (on Linux: ``/proc`` is
      not mounted), or the group has processes and the memory of none of them could be
      read.

    A process whose group cannot be read is taken not to be a member (Linux always
    tells). Measuring reads every process on the machine, a few milliseconds for some
    hundred processes.

    >>> import os
    >>> group_rss(os.getpgrp()) > 0  # this process's own group
    True

    Raises :class:`ValueError` for ``pgid <= 0``, which names no process group.
    """
    if pgid <= 0:
        raise ValueError(f"pgid={pgid}: a process group id is > 0")
    getpgid = getattr(os, "getpgid", None)
    if getpgid is None:
        return None
    import psutil  # loaded by the first measurement, not by a session that runs nothing

    try:
        processes = list(psutil.process_iter())
    except (psutil.Error, OSError):
        return None
    total = 0
    measured = 0
    unreadable = 0
    for process in processes:
        try:
            if getpgid(process.pid) != pgid:
                continue
        except OSError:  # exited since it was listed, or its group is not ours to read
            continue
        try:
            total += process.memory_info().rss
        except psutil.ZombieProcess:  # exited, not yet reaped: it holds no memory
            pass
        except psutil.NoSuchProcess:
            continue
        except (psutil.Error, OSError):
            unreadable += 1
            continue
        measured += 1
    if unreadable and not measured:
        return None
    return total


def memory_cap_supported() -> bool:
    """Whether :func:`group_rss` can measure on this machine: True where it reads a
    positive size for the calling process's own group (Linux, macOS and the BSDs with
    their process tables readable); False on Windows or without ``/proc`` on Linux.

    It measures once per call (see :func:`group_rss` for the cost); callers that ask
    repeatedly keep the answer.
    """
    getpgrp = getattr(os, "getpgrp", None)
    if getpgrp is None:
        return False
    measured = group_rss(getpgrp())
    return measured is not None and measured > 0
