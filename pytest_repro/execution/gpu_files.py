"""The GPU lease state files: read without a lock, changed under one, replaced whole.

Each device's file (``gpu-<id>.json``) has a lock file beside it (``<file>.lock``). On
POSIX the lock is an ``flock`` of that file, the very lock :mod:`filelock` takes there, so
processes using either agree; a waiter for a busy lock sleeps in the kernel and wakes when
it is released, and a try that must not wait costs one system call. Where ``flock`` is
missing (Windows, a file system without it) :class:`filelock.FileLock` takes the lock.

A writer replaces the file whole (a new file moved over it), so a reader without the lock
sees the old account or the new one, never half of one; and a replaced file has a new
inode, change time or size, so a :func:`stamp` tells a waiter cheaply that it may have
changed. A waiting request has a file of its own in a folder (:func:`post`), which only it
writes, so it needs no lock; a new, replaced or removed file changes the folder's stamp.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

from filelock import FileLock, Timeout

from pytest_repro.execution.gpu_state import Entry, alive

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    _flock = None
else:
    _flock = fcntl.flock

#: A file's inode, change time and size (None when it does not exist).
Stamp = tuple[int, int, int] | None
#: Seconds between tries for a lock :mod:`filelock` takes (a holder keeps it far shorter).
_LOCK_POLL = 0.001
#: What a non-blocking ``flock`` answers for a lock held elsewhere.
_HELD = frozenset({errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES})
#: What it answers where the file system has no ``flock``.
_NO_FLOCK = frozenset({errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOLCK})


def load(path: Path) -> list[Entry]:
    """The entries of a state file, as written (``[]`` when it is missing or unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [h for h in data if isinstance(h, dict)] if isinstance(data, list) else []


def read(path: Path) -> list[Entry]:
    """The live entries of a state file, read under its lock."""
    with locked(path):
        return alive(load(path))


def write(
    path: Path, change: Callable[[list[Entry]], list[Entry] | None], wait: bool = True
) -> bool | None:
    """Apply ``change(live entries) -> new entries | None`` under the file's lock; False
    when it declined (returned None); None, without waiting, when ``wait`` is False and
    another process or thread holds the lock."""
    with locked(path, wait) as got:
        if not got:
            return None
        new = change(alive(load(path)))
        if new is None:
            return False
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(new), encoding="utf-8")
        os.replace(tmp, path)
        return True


def post(folder: Path, name: str, entry: Entry) -> None:
    """Write ``entry`` as ``folder/name.json``, replacing what was there: a file only its
    writer changes needs no lock."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{name}.tmp"
    tmp.write_text(json.dumps(entry), encoding="utf-8")
    os.replace(tmp, folder / f"{name}.json")


def unpost(folder: Path, name: str) -> None:
    """Remove ``folder/name.json`` if it is there."""
    with suppress(FileNotFoundError):
        os.unlink(folder / f"{name}.json")


def posts(
    folder: Path, known: Mapping[str, tuple[int, Entry]]
) -> tuple[dict[str, Entry], dict[str, tuple[int, Entry]]]:
    """The entries posted in ``folder`` by file name (without ``.json``), and what to pass
    as ``known`` next time: file name -> inode and entry, so a file not replaced since is
    not read again."""
    found: dict[str, Entry] = {}
    seen: dict[str, tuple[int, Entry]] = {}
    try:
        listing = list(os.scandir(folder))
    except OSError:
        listing = []
    for item in listing:
        if not item.name.endswith(".json"):
            continue
        kept = known.get(item.name)
        if kept is None or kept[0] != item.inode():
            try:
                data = json.loads(Path(item.path).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # removed meanwhile, or not an entry
            if not isinstance(data, dict):
                continue
            kept = (item.inode(), data)
        seen[item.name] = kept
        found[item.name[: -len(".json")]] = kept[1]
    return found, seen


def stamp(paths: Sequence[Path]) -> tuple[Stamp, ...]:
    """Each file's inode, change time and size: a replaced file has a new one."""
    out: list[Stamp] = []
    for path in paths:
        try:
            found = os.stat(path)
        except OSError:
            out.append(None)
        else:
            out.append((found.st_ino, found.st_mtime_ns, found.st_size))
    return tuple(out)


@contextmanager
def locked(path: Path, wait: bool = True) -> Iterator[bool]:
    """Hold ``path``'s lock for the block: yields True, or False at once when ``wait`` is
    False and it is held elsewhere."""
    name = str(path) + ".lock"
    fd = _lock(name, wait)
    if fd == -2:  # no flock here: filelock's lock
        lock = FileLock(name, thread_local=False, blocking=wait, poll_interval=_LOCK_POLL)
        try:
            lock.acquire()
        except Timeout:
            yield False
            return
        try:
            yield True
        finally:
            lock.release()
        return
    if fd < 0:
        yield False
        return
    try:
        yield True
    finally:
        os.close(fd)  # closing the only descriptor releases the flock


def _lock(name: str, wait: bool) -> int:
    """A descriptor of ``name`` holding its flock; -1 when it is held elsewhere and
    ``wait`` is False; -2 when this platform or file system has no flock."""
    if _flock is None:
        return -2
    while True:
        fd = os.open(name, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            _flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_nlink:
                return fd
        except OSError as exc:
            os.close(fd)
            if exc.errno in _HELD and not wait:
                return -1
            if exc.errno in _NO_FLOCK:
                return -2
            raise
        except BaseException:  # interrupted while waiting
            os.close(fd)
            raise
        os.close(fd)  # the lock file was deleted while we waited: lock the one there now


__all__ = [
    "Stamp",
    "load",
    "locked",
    "post",
    "posts",
    "read",
    "stamp",
    "unpost",
    "write",
]
