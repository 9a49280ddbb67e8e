"""The run ledger on disk: one SQLite file shared by xdist workers and sessions.

Concurrency: the WAL journal (readers never block the writer), a generous busy
timeout, every write inside ``BEGIN IMMEDIATE`` (the write lock is taken up front, so
two writers never deadlock upgrading a read), and retries with backoff while SQLite
still answers "database is locked". Opening (create, check, migrate, move aside) is
serialized by a lock file next to the ledger, ``<name>.lock``.

Durability: ``synchronous=FULL``; a ``put`` that returned survives a crash and a power
cut. Every write appends to the hash chain in its transaction (:mod:`.chain`). What may
be at the path: :mod:`.guard`; the file format and its migrations: :mod:`.schema`.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Final, TypeVar

import filelock

from pytest_repro.errors import LedgerError, ReproWarning
from pytest_repro.ledger import chain, schema
from pytest_repro.ledger.chain import ChainAudit
from pytest_repro.ledger.guard import (
    LEDGER_TABLES,
    NotALedger,
    check_ledger_path,
    classified,
    error_kind,
    marked_ours,
    move_aside,
    newer_schema,
    unwritable,
)
from pytest_repro.ledger.owner import Owner, owner_gone
from pytest_repro.ledger.schema import (
    COLUMNS,
    OWNER_COLUMNS,
    RECORD_COLUMNS,
    decode_row,
    encode_row,
)
from pytest_repro.ledger.store import (
    DEFAULT_MAX_AGE,
    PRUNABLE_STATUSES,
    RunStore,
    check_keys,
    normalize_statuses,
)
from pytest_repro.records import RunRecord

_T = TypeVar("_T")

_STARTED_AT: Final = RECORD_COLUMNS.index("started_at")
_SELECT: Final = f"SELECT {', '.join(RECORD_COLUMNS)} FROM runs"
_INSERT: Final = f"INSERT INTO runs ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_SET_RECORD: Final = ", ".join(f"{c} = excluded.{c}" for c in RECORD_COLUMNS[1:])
_SET_OWNER: Final = ", ".join(f"{c} = excluded.{c}" for c in OWNER_COLUMNS)
# A put keeps the owner that began the run; a begin takes the run over, unless it is ok.
_PUT: Final = f"{_INSERT} ON CONFLICT (run_id) DO UPDATE SET {_SET_RECORD}"
_BEGIN: Final = (
    f"{_INSERT} ON CONFLICT (run_id) DO UPDATE SET {_SET_RECORD}, {_SET_OWNER} "
    "WHERE runs.status != 'ok'"
)
_NEWEST_FIRST: Final = "PARTITION BY cache_key ORDER BY started_at DESC, rowid DESC"
_CHUNK: Final = 500  # keys per query: far below every SQLite build's variable limit


class SQLiteLedger(RunStore):
    """The run ledger in one SQLite file, created with its parent folders.

    Safe to share between threads, processes (xdist workers) and sessions. A damaged
    ledger (or an empty file) is moved aside to ``<name>.corrupt-<timestamp>`` with a
    :class:`~pytest_repro.errors.ReproWarning` and a fresh ledger is started; a path that
    holds anything else (a directory, a device, another file or database) raises
    :class:`NotALedger` and is left untouched; a location that cannot be written raises
    :class:`~pytest_repro.errors.LedgerError`.

    Example::

        with SQLiteLedger(Path(".repro/ledger.sqlite")) as ledger:
            ledger.recover_interrupted()
            record = ledger.get(cache_key)
            if record is None:
                ledger.begin(pending)
                ledger.put(execute(pending))
    """

    def __init__(self, path: Path | str, *, busy_timeout: float = 60.0) -> None:
        self.path = Path(os.path.abspath(path))
        self._busy_timeout = busy_timeout
        self._lock = threading.RLock()
        self._inherited: list[sqlite3.Connection] = []  # kept open across fork, never used
        self._closed = False
        self._check_location()
        with self._opening_lock():
            self._conn = self._open()
        self._pid = os.getpid()

    def __repr__(self) -> str:
        return f"SQLiteLedger({str(self.path)!r})"

    # -- reads -------------------------------------------------------------------------------
    def get_many(self, cache_keys: Iterable[str]) -> dict[str, RunRecord]:
        keys = list(dict.fromkeys(check_keys(cache_keys)))
        newest: dict[str, Sequence[Any]] = {}
        for chunk in _chunks(keys):
            sql = (
                f"{_SELECT} WHERE status = 'ok' AND cache_key IN ({_marks(chunk)}) "
                "ORDER BY started_at, rowid"
            )
            for row in self._fetch("look up runs", sql, chunk):
                newest[row[1]] = row  # rows come oldest first: the last one wins
        return {key: decode_row(newest[key]) for key in keys if key in newest}

    def by_id(self, run_id: str) -> RunRecord | None:
        rows = self._fetch("look up a run", f"{_SELECT} WHERE run_id = ?", [run_id])
        return decode_row(rows[0]) if rows else None

    def records(
        self,
        *,
        paper_path: str | None = None,
        paper_id: str | None = None,
        cache_keys: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> Iterator[RunRecord]:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("paper_path", paper_path), ("paper_id", paper_id)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if statuses is not None:
            wanted = normalize_statuses(statuses)
            where.append(f"status IN ({_marks(wanted)})")
            params.extend(wanted)
        chunks: list[list[str] | None] = [None]
        if cache_keys is not None:
            chunks = list(_chunks(list(dict.fromkeys(check_keys(cache_keys)))))
        rows: list[Sequence[Any]] = []
        for chunk in chunks:  # no chunk at all for an empty key list: no records
            clauses, args = list(where), list(params)
            if chunk is not None:
                clauses.append(f"cache_key IN ({_marks(chunk)})")
                args.extend(chunk)
            sql = f"SELECT {', '.join(RECORD_COLUMNS)}, rowid FROM runs"
            if clauses:
                sql += " WHERE " + " AND ".join(clauses)
            rows.extend(self._fetch("list runs", sql + " ORDER BY started_at, rowid", args))
        if len(chunks) > 1:
            rows.sort(key=lambda row: (row[_STARTED_AT], row[-1]))
        return (decode_row(row[:-1]) for row in rows)

    # -- writes ------------------------------------------------------------------------------
    def put(self, record: RunRecord) -> None:
        self.put_many([record])

    def put_many(self, records: Iterable[RunRecord]) -> int:
        """Store all ``records`` in one transaction: all of them or, on error, none."""
        owner = Owner.current()
        stored = list(records)
        rows = [encode_row(record, owner) for record in stored]
        entries: list[tuple[chain.Op, str, str]] = [
            ("put", record.run_id, chain.content_hash(record)) for record in stored
        ]

        def store(conn: sqlite3.Connection) -> None:
            conn.executemany(_PUT, rows)
            chain.append(conn, entries)  # in the same transaction: the chain stays linear

        if rows:
            self._write("store runs", store)
        return len(rows)

    def begin(self, record: RunRecord) -> RunRecord:
        running = replace(record, status="running", started_at=record.started_at or time.time())
        row = encode_row(running, Owner.current())

        def begin_row(conn: sqlite3.Connection) -> None:
            if conn.execute(_BEGIN, row).rowcount == 0:
                raise LedgerError(
                    f"run {record.run_id!r} already finished ok in {self.path}; "
                    "give a new run its own run_id"
                )
            chain.append(conn, [("put", running.run_id, chain.content_hash(running))])

        self._write("begin a run", begin_row)
        return running

    def recover_interrupted(self, *, max_age: float = DEFAULT_MAX_AGE) -> list[str]:
        host, now = socket.gethostname(), time.time()

        def mark(conn: sqlite3.Connection) -> list[str]:
            rows = conn.execute(
                "SELECT run_id, owner_host, owner_pid, owner_started_at, started_at FROM runs "
                "WHERE status = 'running' ORDER BY started_at, rowid"
            ).fetchall()
            gone: list[tuple[str, str]] = []
            for run_id, owner_host, owner_pid, owner_started_at, started_at in rows:
                why = owner_gone(
                    owner_host=owner_host,
                    owner_pid=owner_pid,
                    owner_started_at=owner_started_at,
                    run_started_at=started_at,
                    host=host,
                    now=now,
                    max_age=max_age,
                )
                if why is not None:
                    gone.append((why, run_id))
            conn.executemany(
                "UPDATE runs SET status = 'interrupted', "
                "error = CASE WHEN error IS NULL OR error = '' THEN ? ELSE error END "
                "WHERE run_id = ? AND status = 'running'",
                gone,
            )
            marked = [run_id for _, run_id in gone]
            changed = [
                decode_row(conn.execute(f"{_SELECT} WHERE run_id = ?", (rid,)).fetchone())
                for rid in marked
            ]
            chain.append(conn, [("put", r.run_id, chain.content_hash(r)) for r in changed])
            return marked

        return self._write("recover interrupted runs", mark)

    def prune(
        self,
        keep_per_key: int = 1,
        statuses: Iterable[str] = PRUNABLE_STATUSES,
        older_than: float | None = None,
    ) -> int:
        if keep_per_key < 0:
            raise ValueError(f"keep_per_key must be 0 or more, got {keep_per_key}")
        wanted = normalize_statuses(statuses)
        if "running" in wanted:
            raise ValueError("prune never deletes running runs; call recover_interrupted() first")
        if not wanted:
            return 0
        cutoff = None if older_than is None else time.time() - older_than
        sql = f"""
            SELECT run_id FROM runs WHERE run_id IN (
                SELECT run_id FROM (
                    SELECT run_id, started_at, ROW_NUMBER() OVER ({_NEWEST_FIRST}) AS age_rank
                    FROM runs WHERE status IN ({_marks(wanted)})
                ) WHERE age_rank > ? AND (? IS NULL OR started_at < ?)
            ) AND run_id NOT IN (
                SELECT run_id FROM (
                    SELECT run_id, ROW_NUMBER() OVER ({_NEWEST_FIRST}) AS age_rank
                    FROM runs WHERE status = 'ok'
                ) WHERE age_rank = 1
            )
        """
        params = (*wanted, keep_per_key, cutoff, cutoff)

        def delete(conn: sqlite3.Connection) -> int:
            ids = [str(row[0]) for row in conn.execute(sql, params).fetchall()]
            conn.executemany("DELETE FROM runs WHERE run_id = ?", [(rid,) for rid in ids])
            chain.append(conn, [("delete", rid, "") for rid in ids])
            return len(ids)

        return self._write("prune runs", delete)

    # -- the hash chain ----------------------------------------------------------------------
    def audit(self) -> ChainAudit:
        """Walk the hash chain (:mod:`pytest_repro.ledger.chain`) over one consistent
        snapshot of the ledger; its problems name every run changed outside pytest-repro."""
        return self._read(
            "check the hash chain", lambda conn: chain.audit(conn, RECORD_COLUMNS, decode_row)
        )

    def chain_stamps(self) -> dict[str, tuple[int, str]]:
        """Each run's latest chain entry: its number and chain hash."""
        rows = self._fetch(
            "read the hash chain", "SELECT run_id, chain_seq, chain_hash FROM runs", []
        )
        return {str(r[0]): (int(r[1] or 0), str(r[2] or "")) for r in rows}

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                if self._pid == os.getpid():  # a forked child leaves the parent's connection be
                    self._conn.close()

    # -- plumbing ----------------------------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise LedgerError(f"the run ledger {self.path} is closed")
        if self._pid != os.getpid():
            # A SQLite connection must not cross fork(). Keep the inherited one referenced
            # (closing it here could disturb the parent's locks) and open our own.
            self._inherited.append(self._conn)
            self._conn = self._connect()
            _configure(self._conn)
            self._pid = os.getpid()
        return self._conn

    def _fetch(self, what: str, sql: str, params: Sequence[Any]) -> list[Sequence[Any]]:
        with self._lock:
            try:
                return self._retry(lambda: self._connection().execute(sql, params).fetchall())
            except sqlite3.Error as exc:
                raise self._error(exc, what) from exc

    def _write(self, what: str, change: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            try:
                return self._retry(lambda: _transaction(self._connection(), change))
            except sqlite3.Error as exc:
                raise self._error(exc, what) from exc

    def _read(self, what: str, look: Callable[[sqlite3.Connection], _T]) -> _T:
        with self._lock:
            try:
                return self._retry(lambda: _transaction(self._connection(), look, "DEFERRED"))
            except sqlite3.Error as exc:
                raise self._error(exc, what) from exc

    def _retry(self, attempt: Callable[[], _T]) -> _T:
        """``attempt()``, again with backoff while SQLite reports the database busy."""
        deadline = time.monotonic() + self._busy_timeout
        delay = 0.002
        while True:
            try:
                return attempt()
            except sqlite3.Error as exc:
                if error_kind(exc) != "busy" or time.monotonic() >= deadline:
                    raise
            time.sleep(delay * random.uniform(0.5, 1.5))
            delay = min(delay * 2, 0.25)

    def _check_location(self) -> None:
        check_ledger_path(self.path)  # before the lock file is made next to it
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise self._unwritable(f"cannot create {self.path.parent} ({exc})") from exc
        if not os.access(self.path.parent, os.W_OK | os.X_OK):
            raise self._unwritable(f"{self.path.parent} is not writable")
        if self.path.exists() and not os.access(self.path, os.R_OK | os.W_OK):
            raise self._unwritable("the file is not both readable and writable")

    @contextlib.contextmanager
    def _opening_lock(self) -> Iterator[None]:
        lock = filelock.FileLock(f"{self.path}.lock", timeout=self._busy_timeout)
        try:
            lock.acquire()
        except filelock.Timeout as exc:
            raise LedgerError(
                f"another process held {lock.lock_file} for {self._busy_timeout:.0f} s while "
                f"opening the run ledger {self.path}; wait for it, or use --repro-ledger=PATH"
            ) from exc
        except OSError as exc:
            raise self._unwritable(f"cannot create the lock file {lock.lock_file} ({exc})") from exc
        try:
            yield
        finally:
            lock.release()

    def _open(self) -> sqlite3.Connection:
        """A checked, migrated connection; a damaged ledger is moved aside once."""
        check_ledger_path(self.path)  # again under the lock: it may have changed meanwhile
        reason = schema.header_problem(self.path)
        for attempt in range(2):
            if reason is None:
                conn = self._connect()
                try:
                    reason = self._check(conn)
                except BaseException:
                    conn.close()
                    raise
                if reason is None:
                    return conn
                conn.close()
            if attempt == 0:
                move_aside(self.path, reason)  # warns at stack level 4: our caller
                reason = None
        raise LedgerError(f"a fresh run ledger at {self.path} is unusable: {reason}")

    def _connect(self) -> sqlite3.Connection:
        try:
            return sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,  # transactions are explicit: BEGIN IMMEDIATE ... COMMIT
                check_same_thread=False,  # guarded by self._lock
            )
        except sqlite3.Error as exc:
            raise self._error(exc, "open the ledger") from exc

    def _check(self, conn: sqlite3.Connection) -> str | None:
        """Why ``conn``'s file is not a usable ledger (None: it is, migrated if needed).

        Raises :class:`NotALedger` for an SQLite file that is not recognisably a ledger.
        """
        ours = marked_ours(self.path)
        try:
            state = self._retry(lambda: schema.inspect(conn))
            ours = ours or (state.application_id == 0 and set(state.tables) >= LEDGER_TABLES)
            if not ours and state.tables:
                tables = ", ".join(state.tables[:10]) + (", ..." if len(state.tables) > 10 else "")
                raise NotALedger(
                    self.path, f"an SQLite database of another program (its tables: {tables})"
                )
            problem = schema.file_problem(state)
            if problem is not None:
                if not ours:
                    raise NotALedger(
                        self.path, f"an SQLite database that is not a ledger ({problem})"
                    )
                return problem
            if state.version > len(schema.MIGRATIONS):
                raise self._newer(state.version, schema.schema_writer(conn))
            if not ours and state.version > 0:  # never migrate a file that is not ours
                raise NotALedger(self.path, "an SQLite database that is not a ledger (no runs)")
            migrated = state.version < len(schema.MIGRATIONS)
            if state.version == 1:  # a version 1 ledger must be whole before it is upgraded
                broken = schema.missing_schema(conn, schema.REQUIRED_V1)
                if broken is not None:
                    return broken
            if migrated:
                self._retry(lambda: _transaction(conn, schema.migrate))
                self._say_chained(conn, state.version)
            missing = schema.missing_schema(conn)
            if missing is not None:  # checked before anything below writes to the file
                if not ours and not migrated:
                    raise NotALedger(
                        self.path, f"an SQLite database that is not a ledger ({missing})"
                    )
                return missing
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchall())
            _configure(conn)
        except sqlite3.Error as exc:
            if error_kind(exc) != "corrupt":
                raise self._error(exc, "open the ledger") from exc
            if not ours:
                raise NotALedger(
                    self.path, f"a damaged SQLite database without the ledger's mark ({exc})"
                ) from exc
            return str(exc)
        return None

    def _newer(self, version: int, writer: str | None) -> LedgerError:
        return newer_schema(self.path, version, writer, len(schema.MIGRATIONS))

    def _say_chained(self, conn: sqlite3.Connection, version: int) -> None:
        note = chain.upgrade_note(conn) if version == 1 else None
        if note:  # stack: _say_chained < _check < _open < __init__ < the caller
            warnings.warn(ReproWarning(f"the run ledger {self.path} {note}"), stacklevel=5)

    def _unwritable(self, reason: str) -> LedgerError:
        return unwritable(self.path, reason)

    def _error(self, exc: sqlite3.Error, what: str) -> LedgerError:
        return classified(self.path, exc, what, self._busy_timeout)


def _transaction(
    conn: sqlite3.Connection, change: Callable[[sqlite3.Connection], _T], begin: str = "IMMEDIATE"
) -> _T:
    conn.execute(f"BEGIN {begin}")
    try:
        result = change(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    return result


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA synchronous = FULL")


def _chunks(keys: list[str]) -> Iterator[list[str]]:
    yield from (keys[start : start + _CHUNK] for start in range(0, len(keys), _CHUNK))


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))
