"""The ledger's hash chain: every stored version of a run, linked to the one before it.

Each write of a run (stored, begun, marked interrupted) appends one entry to the
``chain`` table, and a prune appends one ``delete`` entry per run it removes. An entry
holds the run's id, the sha256 of the run's canonical content (:func:`content_hash`), the
chain hash of the entry before it and its own chain hash (:func:`link`). The run's row
carries its latest entry's number, content hash, previous hash and chain hash.

Entries are appended inside the write transaction that changes the row
(``BEGIN IMMEDIATE``), so writers from any number of processes are serialized and the
chain stays linear. :func:`audit` walks it and names every run that was altered, deleted,
added or reordered outside pytest-repro.

The chain is evidence against accidents and casual edits, not against someone who
recomputes every hash: anchor it by publishing the seal of an exported bundle
(:mod:`pytest_repro.ledger.bundle`) where the ledger's holder cannot change it.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pytest_repro.records import RunRecord, dumps

#: The chain hash "before" the first entry.
GENESIS: Final = "0" * 64

#: Turns a row of the record columns into a record (``schema.decode_row``).
Decode = Callable[[Sequence[Any]], RunRecord]

Op = Literal["put", "delete"]

CHAIN_COLUMNS: Final = ("chain_seq", "content_hash", "prev_hash", "chain_hash")


def content_hash(record: RunRecord) -> str:
    """The sha256 of ``record``'s canonical content (every field, canonical JSON).

    The same record gives the same hash whether it was just written, read back from
    SQLite or from an exported bundle.
    """
    data = record.to_json()
    data["seed"] = int(record.seed)
    data["started_at"] = float(record.started_at)
    data["ended_at"] = float(record.ended_at)
    data["smoke"] = bool(record.smoke)
    return _sha256(dumps(data))


def link(prev: str, seq: int, op: str, run_id: str, content: str) -> str:
    """The chain hash of entry ``seq``: it covers the entry before it, its position, the
    operation, the run and the run's content, so altering, removing or moving any entry
    breaks every link after it."""
    return _sha256(f"{prev}\n{seq}\n{op}\n{run_id}\n{content}")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def create_table(conn: sqlite3.Connection) -> None:
    """The ``chain`` table and the chain columns of ``runs`` (schema version 2)."""
    conn.execute(
        """
        CREATE TABLE chain (
            seq INTEGER PRIMARY KEY NOT NULL,  -- 1, 2, 3, ... in the order of the writes
            run_id TEXT NOT NULL,
            op TEXT NOT NULL,                  -- 'put' or 'delete'
            content_hash TEXT NOT NULL,        -- sha256 of the run's canonical content
            prev_hash TEXT NOT NULL,           -- chain_hash of entry seq - 1
            chain_hash TEXT NOT NULL
        )
        """
    )
    present = {str(row[1]) for row in conn.execute("PRAGMA table_info(runs)")}
    for column, kind in zip(CHAIN_COLUMNS, ("INTEGER", "TEXT", "TEXT", "TEXT"), strict=True):
        if present and column not in present:
            conn.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    """The last entry's number and chain hash (0 and :data:`GENESIS` for an empty chain)."""
    row = conn.execute("SELECT seq, chain_hash FROM chain ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def append(conn: sqlite3.Connection, entries: Iterable[tuple[Op, str, str]]) -> int:
    """Append ``(op, run_id, content_hash)`` entries after the head; call inside the write
    transaction. A ``put`` entry also stamps the run's row. Returns the new head's number."""
    seq, prev = head(conn)
    links: list[tuple[int, str, str, str, str, str]] = []
    stamps: list[tuple[int, str, str, str, str]] = []
    for op, run_id, content in entries:
        seq += 1
        chained = link(prev, seq, op, run_id, content)
        links.append((seq, run_id, op, content, prev, chained))
        if op == "put":
            stamps.append((seq, content, prev, chained, run_id))
        prev = chained
    conn.executemany("INSERT INTO chain VALUES (?, ?, ?, ?, ?, ?)", links)
    conn.executemany(
        "UPDATE runs SET chain_seq = ?, content_hash = ?, prev_hash = ?, chain_hash = ? "
        "WHERE run_id = ?",
        stamps,
    )
    return seq


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainProblem:
    """One thing the chain says was changed outside pytest-repro: the ``run_id`` (empty
    where no run is known), the chain entry ``seq`` (0: none) and ``what`` happened."""

    run_id: str
    seq: int
    what: str

    def __str__(self) -> str:
        return self.what


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainAudit:
    """What :func:`audit` found: how many ``entries`` and ``runs`` it checked, the chain's
    ``head`` hash, and the ``problems`` (empty: the ledger is as pytest-repro wrote it)."""

    entries: int
    runs: int
    head: str
    problems: tuple[ChainProblem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def audit(conn: sqlite3.Connection, columns: Sequence[str], decode: Decode) -> ChainAudit:
    """Walk the chain and the runs; ``decode`` turns a row of the record ``columns`` into a
    :class:`RunRecord`."""
    problems: list[ChainProblem] = []
    latest: dict[str, tuple[int, str, str, str]] = {}  # run_id -> seq, op, content, chain
    prev, count = GENESIS, 0
    for seq, run_id, op, content, prev_hash, chained in conn.execute(
        "SELECT seq, run_id, op, content_hash, prev_hash, chain_hash FROM chain ORDER BY seq"
    ):
        count += 1
        if prev_hash != prev or seq != count:
            problems.append(
                ChainProblem(
                    run_id=run_id,
                    seq=seq,
                    what=f"chain entry {seq} (run {run_id}) does not follow the entry before "
                    "it: an entry was deleted, inserted or the entries reordered",
                )
            )
        elif chained != link(prev_hash, seq, op, run_id, content):
            problems.append(
                ChainProblem(
                    run_id=run_id, seq=seq, what=f"chain entry {seq} (run {run_id}) was altered"
                )
            )
        latest[run_id] = (seq, op, content, chained)
        prev = chained
    names = ", ".join(columns)
    rows = conn.execute(f"SELECT {names}, chain_hash FROM runs ORDER BY rowid").fetchall()
    stored: set[str] = set()
    for row in rows:
        run_id = str(row[0])
        stored.add(run_id)
        problems.extend(_row_problems(run_id, row, latest.get(run_id), decode))
    for run_id, (seq, op, _, _) in latest.items():
        if op == "put" and run_id not in stored:
            problems.append(
                ChainProblem(
                    run_id=run_id,
                    seq=seq,
                    what=f"run {run_id} was deleted outside pytest-repro (chain entry {seq})",
                )
            )
    return ChainAudit(entries=count, runs=len(rows), head=prev, problems=tuple(problems))


def _row_problems(
    run_id: str, row: Sequence[Any], entry: tuple[int, str, str, str] | None, decode: Decode
) -> list[ChainProblem]:
    if entry is None or entry[1] != "put":
        return [
            ChainProblem(
                run_id=run_id,
                seq=0,
                what=f"run {run_id} is not in the chain: it was added outside pytest-repro",
            )
        ]
    seq, _, content, chained = entry
    try:
        actual = content_hash(decode(row[:-1]))
    except (TypeError, ValueError, KeyError) as exc:
        actual = f"unreadable ({exc})"
    if actual != content:
        return [
            ChainProblem(
                run_id=run_id,
                seq=seq,
                what=f"run {run_id} was altered outside pytest-repro: its content no longer "
                f"matches the hash chained at entry {seq}",
            )
        ]
    if row[-1] != chained:
        return [
            ChainProblem(
                run_id=run_id,
                seq=seq,
                what=f"run {run_id} carries a chain hash that is not its entry {seq}'s",
            )
        ]
    return []


def chain_existing(conn: sqlite3.Connection, columns: Sequence[str], decode: Decode) -> int:
    """Chain the runs a ledger held before it had a chain, in insertion (rowid) order.
    Returns how many were chained; a table lacking record columns is left to the schema
    check that follows the migration."""
    present = {str(row[1]) for row in conn.execute("PRAGMA table_info(runs)")}
    if not present >= set(columns):
        return 0
    rows = conn.execute(f"SELECT {', '.join(columns)} FROM runs ORDER BY rowid").fetchall()
    entries: list[tuple[Op, str, str]] = []
    for row in rows:
        try:
            content = content_hash(decode(row))
        except (TypeError, ValueError, KeyError):
            content = "unreadable"
        entries.append(("put", str(row[0]), content))
    append(conn, entries)
    return len(entries)


def upgrade_note(conn: sqlite3.Connection) -> str | None:
    """What the upgrade to schema version 2 did to a ledger that held runs (None: nothing)."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'chained_at_upgrade'").fetchone()
    if row is None or not int(row[0]):
        return None
    return (
        f"was upgraded to schema version 2: its {row[0]} runs were chained in the order they "
        "were stored (the hash chain `pytest-repro verify` checks); nothing else changed"
    )
