"""What may be at the ledger's path: nothing, an empty file, or a ledger.

Anything else — a directory, a device, a file that is not SQLite, another program's
SQLite database — is refused with :class:`NotALedger` and left exactly as it was. Only
:mod:`pytest_repro.ledger.sqlite` moves a damaged ledger aside, and only one that is
recognisably ours (see :func:`marked_ours`).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import time
import warnings
from pathlib import Path
from typing import Final, Literal

from pytest_repro import __version__
from pytest_repro.errors import LedgerError, ReproWarning
from pytest_repro.ledger.schema import APPLICATION_ID

#: The first 16 bytes of every SQLite database file.
SQLITE_MAGIC: Final = b"SQLite format 3\x00"
#: The tables that mark an SQLite file as a run ledger (with or without the application id).
LEDGER_TABLES: Final = frozenset({"runs", "meta"})
#: How the ledger's location is set, for messages.
LEDGER_OPTION: Final = (
    "--repro-ledger=PATH (or PYTEST_REPRO_LEDGER, ini repro_ledger; "
    "--ledger PATH for the pytest-repro command)"
)


class NotALedger(LedgerError):
    """The ledger path holds something that is not a run ledger; it was left untouched.

    ``path`` is the path, ``found`` what is there (``"a directory"``, ``"a FIFO"``,
    ``"a file that is not an SQLite database"``, ...).
    """

    def __init__(self, path: Path, found: str) -> None:
        super().__init__(
            f"the run ledger path {path} is {found}, not a run ledger; pytest-repro "
            f"leaves it as it is. Choose another path for the ledger: {LEDGER_OPTION}"
        )
        self.path = path
        self.found = found

    def __reduce__(self) -> tuple[type[NotALedger], tuple[Path, str]]:
        return (type(self), (self.path, self.found))


def check_ledger_path(path: Path | str) -> None:
    """Raise :class:`NotALedger` when ``path`` holds something a ledger must not take over.

    Accepted: nothing, an empty file, an SQLite file that may be a ledger (its tables are
    looked at when it is opened). Reads at most the file's first 100 bytes; changes nothing.

    Example::

        try:
            check_ledger_path(cfg.ledger)
        except LedgerError as exc:
            raise pytest.UsageError(str(exc)) from None
    """
    found = _foreign(Path(os.path.abspath(path)))
    if found is not None:
        raise NotALedger(Path(os.path.abspath(path)), found)


def _foreign(path: Path) -> str | None:
    """What is at ``path`` when it cannot be a ledger, told from its type and header."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except OSError:
        return None  # unreadable: the access checks and SQLite say so, classified
    if stat.S_ISDIR(st.st_mode):
        return "a directory"
    if not stat.S_ISREG(st.st_mode):
        kinds = (
            (stat.S_ISCHR, "a character device"),
            (stat.S_ISBLK, "a block device"),
            (stat.S_ISFIFO, "a FIFO (named pipe)"),
            (stat.S_ISSOCK, "a socket"),
        )
        return next((what for test, what in kinds if test(st.st_mode)), "not a regular file")
    if st.st_size == 0:
        return None
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError:
        return None
    if not head.startswith(SQLITE_MAGIC):
        return f"a file that is not an SQLite database ({st.st_size} bytes)"
    if len(head) < 100:
        return "a truncated SQLite file whose header does not say it is a ledger"
    application_id = int.from_bytes(head[68:72], "big")
    if application_id not in (0, APPLICATION_ID):
        return f"an SQLite database of another program (application id {application_id:#x})"
    return None


def marked_ours(path: Path) -> bool:
    """Whether the file's header carries the ledger's application id."""
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except OSError:
        return False
    return (
        len(head) == 100
        and head.startswith(SQLITE_MAGIC)
        and int.from_bytes(head[68:72], "big") == APPLICATION_ID
    )


ErrorKind = Literal["corrupt", "busy", "access", "other"]


def error_kind(exc: sqlite3.Error) -> ErrorKind:
    """What an SQLite error says about the ledger file: damaged, busy, unwritable, other."""
    code = getattr(exc, "sqlite_errorcode", None)  # Python >= 3.11
    if isinstance(code, int):
        primary = code & 0xFF
        if primary in (11, 26):  # SQLITE_CORRUPT, SQLITE_NOTADB
            return "corrupt"
        if primary in (5, 6):  # SQLITE_BUSY, SQLITE_LOCKED
            return "busy"
        if primary in (3, 8, 10, 13, 14):  # PERM, READONLY, IOERR, FULL, CANTOPEN
            return "access"
        return "other"
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text:
        return "corrupt"
    if "locked" in text or "busy" in text:
        return "busy"
    if any(s in text for s in ("readonly", "unable to open", "disk i/o", "full", "permission")):
        return "access"
    return "other"


def move_aside(path: Path, reason: str) -> None:
    """Move the unusable ledger at ``path`` (and its journal) aside to
    ``<name>.corrupt-<timestamp>``, warning the caller's caller's caller."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    try:
        os.replace(path, aside)
        for suffix in ("-wal", "-journal"):  # a stale journal must not meet a fresh ledger
            companion = Path(f"{path}{suffix}")
            if companion.exists():
                os.replace(companion, Path(f"{aside}{suffix}"))
        Path(f"{path}-shm").unlink(missing_ok=True)
    except OSError as exc:
        raise LedgerError(
            f"the run ledger {path} is unusable ({reason}) and could not be moved "
            f"aside to {aside} ({exc}); move or delete it, or use --repro-ledger=PATH"
        ) from exc
    warnings.warn(
        ReproWarning(
            f"the run ledger {path} was unusable ({reason}); moved it aside to "
            f"{aside} and started a fresh ledger. Its runs will run again; inspect or "
            f"delete {aside}."
        ),
        stacklevel=4,  # move_aside < SQLiteLedger._open < __init__ < the caller
    )


def newer_schema(path: Path, version: int, writer: str | None, readable: int) -> LedgerError:
    """The refusal of a ledger whose schema ``version`` is newer than this code reads."""
    by = f"pytest-repro {writer}" if writer else "a newer pytest-repro"
    return LedgerError(
        f"the run ledger {path} has schema version {version}, written by {by}; "
        f"this pytest-repro {__version__} reads schema version "
        f"{readable} at most. Upgrade pytest-repro (pip install -U "
        "pytest-repro), or use another ledger with --repro-ledger=PATH."
    )


def unwritable(path: Path, reason: str) -> LedgerError:
    """The error of a ledger location that cannot be used, with the fix."""
    if "full" in reason.lower() or "no space" in reason.lower():
        return LedgerError(
            f"cannot write the run ledger at {path}: the disk is full ({reason}). "
            f"Free space on the disk holding {path.parent}, or point pytest-repro at "
            "another disk with --repro-ledger=PATH (or --repro-dir=PATH)."
        )
    return LedgerError(
        f"cannot use the run ledger at {path}: {reason}. Fix the permissions of "
        f"{path.parent}, or point pytest-repro at a writable file with "
        "--repro-ledger=PATH."
    )


def classified(path: Path, exc: sqlite3.Error, what: str, busy_timeout: float) -> LedgerError:
    """An SQLite error while doing ``what``, as a :class:`LedgerError` saying what to do."""
    kind = error_kind(exc)
    if kind == "access":
        return unwritable(path, f"could not {what} ({exc})")
    if kind == "corrupt":
        return LedgerError(
            f"could not {what}: the run ledger {path} is damaged ({exc}). The next "
            "session moves it aside and starts afresh; or use --repro-ledger=PATH."
        )
    if kind == "busy":
        return LedgerError(
            f"could not {what}: the run ledger {path} stayed locked by another "
            f"process for {busy_timeout:.0f} s ({exc}); is a process stuck?"
        )
    return LedgerError(f"could not {what} in the run ledger {path}: {exc}")


__all__ = [
    "LEDGER_OPTION",
    "LEDGER_TABLES",
    "SQLITE_MAGIC",
    "ErrorKind",
    "NotALedger",
    "check_ledger_path",
    "classified",
    "error_kind",
    "marked_ours",
    "move_aside",
    "newer_schema",
    "unwritable",
]
