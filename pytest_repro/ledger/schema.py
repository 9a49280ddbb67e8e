"""The ledger's file format: its tables, their migrations, and rows <-> run records.

Schema versions are counted by ``PRAGMA user_version`` (this is version 2: version 1
plus the hash chain of :mod:`pytest_repro.ledger.chain`).
:data:`MIGRATIONS` holds one function per version step: to change the schema, append
a function. A ledger at version ``n`` runs ``MIGRATIONS[n:]`` in one transaction when it
is opened; a ledger newer than this code is refused, never downgraded. The pytest-repro
version that last changed the schema is kept in the ``meta`` table for that message.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from pytest_repro import __version__
from pytest_repro.ledger import chain
from pytest_repro.ledger.owner import Owner
from pytest_repro.ledger.store import record_problems
from pytest_repro.records import RunRecord, dumps, loads

#: Marks the file as a pytest-repro ledger (``PRAGMA application_id``; "RPRL").
APPLICATION_ID: Final = 0x5250524C

RECORD_COLUMNS: Final = (
    "run_id",
    "cache_key",
    "paper_id",
    "paper_path",
    "variant",
    "config",
    "seed",
    "status",
    "series",
    "examples",
    "evidence",
    "output_tail",
    "error",
    "started_at",
    "ended_at",
    "run_dir",
    "smoke",
)
OWNER_COLUMNS: Final = ("owner_host", "owner_pid", "owner_started_at")
COLUMNS: Final = RECORD_COLUMNS + OWNER_COLUMNS
CHAIN_COLUMNS: Final = chain.CHAIN_COLUMNS


def _create_v1(conn: sqlite3.Connection) -> None:
    """Schema version 1: the ``runs`` table, its indexes, and ``meta``."""
    conn.execute(
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY NOT NULL,
            cache_key TEXT NOT NULL,
            paper_id TEXT NOT NULL,
            paper_path TEXT NOT NULL,
            variant TEXT NOT NULL,
            config TEXT NOT NULL,     -- canonical JSON (records.dumps), NaN-safe
            seed NOT NULL,            -- no affinity: an integer, or its digits past 64 bits
            status TEXT NOT NULL,
            series TEXT NOT NULL,     -- JSON list of logged points
            examples TEXT NOT NULL,   -- JSON object
            evidence TEXT NOT NULL,   -- JSON object
            output_tail TEXT NOT NULL,
            error TEXT,
            started_at REAL NOT NULL,
            ended_at REAL NOT NULL,
            run_dir TEXT,
            smoke INTEGER NOT NULL,
            owner_host TEXT,          -- who stored it: host, pid, process start time
            owner_pid INTEGER,
            owner_started_at REAL
        )
        """
    )
    conn.execute("CREATE INDEX runs_by_key ON runs (cache_key, status, started_at)")
    conn.execute("CREATE INDEX runs_by_paper ON runs (paper_path, started_at)")
    conn.execute("CREATE INDEX runs_by_status ON runs (status, started_at)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)")
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")


def _chain_v2(conn: sqlite3.Connection) -> None:
    """Schema version 2: the hash chain. Runs already stored are chained in insertion
    order, and the ``meta`` key ``chained_at_upgrade`` says how many."""
    chain.create_table(conn)
    count = chain.chain_existing(conn, RECORD_COLUMNS, decode_row)
    if count:
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('chained_at_upgrade', ?)",
            (str(count),),
        )


#: ``MIGRATIONS[n]`` takes a ledger from schema version ``n`` to ``n + 1`` inside the
#: transaction that also sets the new version. Version 0 is an empty file.
MIGRATIONS: Final[tuple[Callable[[sqlite3.Connection], None], ...]] = (_create_v1, _chain_v2)

#: The schema version this pytest-repro writes (and the newest it reads).
SCHEMA_VERSION: Final = len(MIGRATIONS)

#: Tables and columns a ledger of the current version must have.
REQUIRED_V1: Final = {"runs": COLUMNS, "meta": ("key", "value")}
REQUIRED: Final = {
    "runs": COLUMNS + CHAIN_COLUMNS,
    "meta": ("key", "value"),
    "chain": ("seq", "run_id", "op", "content_hash", "prev_hash", "chain_hash"),
}


def migrate(conn: sqlite3.Connection) -> None:
    """Run the pending migrations; called inside the write transaction."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for migration in MIGRATIONS[version:]:
        migration(conn)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    conn.execute(
        "INSERT INTO meta (key, value) VALUES ('created_by', ?) ON CONFLICT (key) DO NOTHING",
        (__version__,),
    )
    conn.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_written_by', ?)",
        (__version__,),
    )


@dataclass(frozen=True, slots=True)
class FileState:
    """What a SQLite file says about itself, read without writing to it."""

    checks: list[str]  # PRAGMA quick_check: ["ok"] when sound
    version: int  # PRAGMA user_version
    application_id: int
    tables: list[str]


def inspect(conn: sqlite3.Connection) -> FileState:
    return FileState(
        checks=[str(row[0]) for row in conn.execute("PRAGMA quick_check").fetchall()],
        version=int(conn.execute("PRAGMA user_version").fetchone()[0]),
        application_id=int(conn.execute("PRAGMA application_id").fetchone()[0]),
        tables=[
            str(row[0])
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ],
    )


def file_problem(state: FileState) -> str | None:
    """Why a file in ``state`` is not a ledger (None: it is one, or an empty file to become one)."""
    if state.checks != ["ok"]:
        found = " ".join(" ".join(state.checks).split())
        return "PRAGMA quick_check failed: " + (found if len(found) <= 200 else found[:200] + " …")
    if state.application_id not in (0, APPLICATION_ID):
        return f"its application id {state.application_id:#x} says another program wrote it"
    if state.version == 0 and state.tables:
        return f"an SQLite database without the ledger's tables: {', '.join(state.tables)}"
    return None


def schema_writer(conn: sqlite3.Connection) -> str | None:
    """The pytest-repro version that last changed this ledger's schema, where recorded."""
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_written_by'").fetchone()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def header_problem(path: Path) -> str | None:
    try:
        with path.open("rb") as fh:
            head = fh.read(100)
    except FileNotFoundError:
        return None
    except OSError:
        return None  # let SQLite report it, classified
    if not head:
        return "the file is empty"
    if len(head) < 100 or not head.startswith(b"SQLite format 3\x00"):
        return "the file is not an SQLite database"
    return None


def missing_schema(
    conn: sqlite3.Connection, required: dict[str, tuple[str, ...]] | None = None
) -> str | None:
    """What the ledger lacks of ``required`` (default: this version's tables and columns)."""
    for table, columns in (REQUIRED if required is None else required).items():
        present = {str(row[1]) for row in conn.execute(f"PRAGMA table_info({table})")}
        if not present:
            return f"the table {table!r} is missing"
        missing = [column for column in columns if column not in present]
        if missing:
            return f"the table {table!r} lacks the columns {', '.join(missing)}"
    return None


def encode_row(record: RunRecord, owner: Owner) -> tuple[Any, ...]:
    problems = record_problems(record)
    if problems:
        raise ValueError(f"run {record.run_id!r} cannot be stored: " + "; ".join(problems))
    return (
        record.run_id,
        record.cache_key,
        record.paper_id,
        record.paper_path,
        record.variant,
        dumps(record.config),
        record.seed if -(2**63) <= record.seed < 2**63 else str(record.seed),
        record.status,
        dumps(record.series),
        dumps(record.examples),
        dumps(record.evidence),
        _text_in(record.output_tail),
        None if record.error is None else _text_in(record.error),
        float(record.started_at),
        float(record.ended_at),
        record.run_dir,
        int(record.smoke),
        owner.host,
        owner.pid,
        owner.started_at,
    )


def decode_row(row: Sequence[Any]) -> RunRecord:
    data = dict(zip(RECORD_COLUMNS, row, strict=True))
    for name in ("config", "series", "examples", "evidence"):
        data[name] = _loads(data[name])
    data["seed"] = int(data["seed"])
    data["output_tail"] = _text_out(data["output_tail"])
    data["error"] = _text_out(data["error"])
    data["smoke"] = bool(data["smoke"])
    return RunRecord.from_json(data)


def _loads(text: str) -> Any:
    """:func:`records.loads`, skipping its decoding walk when there is nothing to decode."""
    return loads(text) if "__float__" in text else json.loads(text)


def _text_in(text: str) -> str | bytes:
    """Text as SQLite takes it; text that is not valid UTF-8 (lone surrogates) as a blob."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")
    return text


def _text_out(value: str | bytes | None) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogatepass")
    return value
