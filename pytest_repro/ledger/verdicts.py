"""The verdict cache on disk: derived results kept beside the ledger, never evidence.

One SQLite file, ``<repro dir>/verdicts.sqlite``, holds what a session may reuse instead
of computing again: a claim's result under the key of everything that decided it, and
each results.md's fingerprint (the key of its inputs, the bytes it and its figures were
written with). The keys are made by :mod:`pytest_repro.verdict_cache`; this module only
stores text under them.

Nothing here is trusted blindly: every entry carries a checksum of its key and payload,
and an entry whose checksum does not match is ignored (and replaced by the next write). A
file that is not a verdict cache, is damaged or cannot be opened is replaced or, failing
that, the cache is off for the session: losing it costs time, never a verdict. Writes
are buffered and stored in one transaction by :meth:`VerdictStore.flush`, so a session
of 1,000 claims commits once; xdist workers share the file under SQLite's WAL journal.

Example::

    store = VerdictStore(Path(".repro/verdicts.sqlite"))
    payload = store.get(key)          # None: unknown, or not to be trusted
    store.put(key, payload_text)      # kept until flush()
    store.close()                     # flushes
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Final

#: Marks the file as a verdict cache (``PRAGMA application_id``; "RPRV").
APPLICATION_ID: Final = 0x52505256
#: The layout of the file; a file of another layout is emptied, not migrated (a cache).
LAYOUT: Final = 1
#: Seconds an entry is kept after it was stored (a claim decided again after that is
#: stored again): the file does not grow with every result a paper ever had.
MAX_AGE: Final = 90 * 24 * 3600.0

_TABLES: Final = (
    """CREATE TABLE IF NOT EXISTS verdicts (
        key TEXT PRIMARY KEY NOT NULL,   -- sha256 of everything that decides the claim
        payload TEXT NOT NULL,           -- the claim's result, canonical JSON
        checksum TEXT NOT NULL,          -- sha256 of key and payload
        stored_at REAL NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS reports (
        target TEXT PRIMARY KEY NOT NULL,  -- the results.md file
        payload TEXT NOT NULL,             -- its inputs' key and the files it wrote (JSON)
        checksum TEXT NOT NULL,
        stored_at REAL NOT NULL
    )""",
)


class _LeftAlone(sqlite3.DatabaseError):
    """A file at the cache's path not to touch: another program's database, or (reading
    only) a cache of another layout."""


#: Keys asked for in one query (well under SQLite's limit on bound parameters).
_CHUNK: Final = 500

#: SQLite's result codes for a file that is not a database or is damaged (SQLITE_CORRUPT,
#: SQLITE_NOTADB): the only errors for which the cache file is replaced.
_DAMAGED: Final = frozenset({11, 26})


def checksum(key: str, payload: str) -> str:
    """What an entry must carry to be read back: sha256 over its key and its payload."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass"))
    digest.update(b"\0")
    digest.update(payload.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


class VerdictStore:
    """Text payloads under keys, in one SQLite file; opened on first use.

    ``writable=False`` reads only (``--repro-cache=read``): :meth:`put` keeps nothing.
    """

    def __init__(self, path: Path, *, writable: bool = True, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.writable = writable
        self._busy_timeout = busy_timeout
        self._conn: sqlite3.Connection | None = None
        self._opened = False
        self._pending: dict[tuple[str, str], str] = {}
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"VerdictStore({str(self.path)!r})"

    # -- claims ------------------------------------------------------------------------------
    def get(self, key: str) -> str | None:
        """The payload stored under ``key``; None when there is none or it fails its checksum."""
        return self._get("verdicts", "key", key)

    def get_many(self, keys: Iterable[str]) -> dict[str, str]:
        """:meth:`get` for many keys in a few queries: the keys found, with their payloads."""
        found: dict[str, str] = {}
        wanted = list(dict.fromkeys(keys))
        with self._lock:
            for key in wanted:
                waiting = self._pending.get(("verdicts", key))
                if waiting is not None:
                    found[key] = waiting
            rest = [k for k in wanted if k not in found]
            conn = self._connection() if rest else None
            if conn is None:
                return found
            rows: list[tuple[object, object, object]] = []
            try:
                for start in range(0, len(rest), _CHUNK):
                    chunk = rest[start : start + _CHUNK]
                    marks = ", ".join("?" * len(chunk))
                    rows.extend(
                        conn.execute(
                            f"SELECT key, payload, checksum FROM verdicts WHERE key IN ({marks})",
                            chunk,
                        )
                    )
            except sqlite3.Error:
                return found
        for name, payload, stored in rows:
            if (
                isinstance(name, str)
                and isinstance(payload, str)
                and isinstance(stored, str)
                and checksum(name, payload) == stored
            ):
                found[name] = payload
        return found

    def put(self, key: str, payload: str) -> None:
        """Keep ``payload`` under ``key`` (stored by :meth:`flush`)."""
        if self.writable:
            with self._lock:
                self._pending[("verdicts", key)] = payload

    # -- reports -----------------------------------------------------------------------------
    def report(self, target: str) -> str | None:
        """What was recorded when ``target`` (a results.md) was last written or confirmed."""
        return self._get("reports", "target", target)

    def put_report(self, target: str, payload: str) -> None:
        if self.writable:
            with self._lock:
                self._pending[("reports", target)] = payload

    # -- life --------------------------------------------------------------------------------
    def flush(self) -> None:
        """Store the pending entries in one transaction; a busy or broken file drops them."""
        with self._lock:
            pending, self._pending = self._pending, {}
            conn = self._connection() if pending else None
            if conn is None:
                return
            now = time.time()
            try:
                conn.execute("BEGIN IMMEDIATE")
                for (table, key), payload in pending.items():
                    column = "key" if table == "verdicts" else "target"
                    conn.execute(
                        f"INSERT OR REPLACE INTO {table} ({column}, payload, checksum, stored_at) "
                        "VALUES (?, ?, ?, ?)",
                        (key, payload, checksum(key, payload), now),
                    )
                for table in ("verdicts", "reports"):
                    conn.execute(f"DELETE FROM {table} WHERE stored_at < ?", (now - MAX_AGE,))
                conn.execute("COMMIT")
            except sqlite3.Error:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")

    def close(self) -> None:
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self.flush()
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
            self._conn = None

    # -- plumbing ----------------------------------------------------------------------------
    def _get(self, table: str, column: str, key: str) -> str | None:
        with self._lock:
            waiting = self._pending.get((table, key))
            if waiting is not None:
                return waiting
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute(
                    f"SELECT payload, checksum FROM {table} WHERE {column} = ?", (key,)
                ).fetchone()
            except sqlite3.Error:
                return None
        if row is None:
            return None
        payload, stored = row
        if not isinstance(payload, str) or not isinstance(stored, str):
            return None
        return payload if checksum(key, payload) == stored else None

    def _connection(self) -> sqlite3.Connection | None:
        """The open file, created or replaced as needed; None when the cache is off."""
        if not self._opened:
            self._opened = True
            self._conn = self._open()
        return self._conn

    def _open(self) -> sqlite3.Connection | None:
        if not self.path.exists() and not self.writable:
            return None
        for attempt in range(2):
            try:
                return self._connect()
            except (_LeftAlone, OSError):
                return None  # another program's file (left alone), or no folder for one
            except sqlite3.Error as exc:
                damaged = getattr(exc, "sqlite_errorcode", None) in _DAMAGED
                if attempt or not self.writable or not damaged:
                    return None  # busy, locked, read-only: no cache this session
                # a damaged cache holds only what can be computed again
                with contextlib.suppress(OSError):
                    self.path.unlink()
        return None

    def _connect(self) -> sqlite3.Connection:
        if self.writable:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            if not self._current(conn):
                if not self.writable:
                    raise _LeftAlone(f"{self.path} is of another layout")
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if not self._current(conn):  # again, under the write lock
                        self._create(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                    raise
            if self.writable:
                conn.execute("PRAGMA journal_mode = WAL").fetchall()
            conn.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            conn.close()
            raise
        return conn

    def _current(self, conn: sqlite3.Connection) -> bool:
        """Whether the file is a verdict cache of this layout; raises :class:`_LeftAlone`
        for another program's database."""
        app = int(conn.execute("PRAGMA application_id").fetchone()[0])
        layout = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if app == APPLICATION_ID:
            return layout == LAYOUT
        if app != 0 or _tables(conn):
            raise _LeftAlone(f"{self.path} is not a verdict cache")
        return False

    @staticmethod
    def _create(conn: sqlite3.Connection) -> None:
        """Empty the file (a cache of another layout) and create this layout's tables."""
        for table in _tables(conn):
            conn.execute(f'DROP TABLE IF EXISTS "{table}"')
        for create in _TABLES:
            conn.execute(create)
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version = {LAYOUT}")


def _tables(conn: sqlite3.Connection) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]


__all__ = ["APPLICATION_ID", "LAYOUT", "MAX_AGE", "VerdictStore", "checksum"]
