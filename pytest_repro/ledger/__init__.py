"""The run ledger: every finished run, stored once and reused while its inputs are unchanged.

- :class:`RunStore` — the storage interface; :class:`SQLiteLedger` keeps it in one SQLite
  file shared by xdist workers and sessions, and refuses a path that holds anything but a
  ledger (:class:`NotALedger`, :func:`check_ledger_path`); :class:`ReadOnlyStore` and
  :class:`MultiplexedStore` compose stores (a CI ledger read behind the local one).
- :func:`run_lock` — a per-cache-key lock so concurrent workers compute a run once.
- :func:`export_jsonl` / :func:`import_jsonl` — share runs as JSON lines.

A session's life with the ledger::

    with SQLiteLedger(Path(".repro/ledger.sqlite")) as ledger:
        ledger.recover_interrupted()           # runs whose process died -> "interrupted"
        found = ledger.get_many(planned_keys)  # reuse every ok run whose key is unchanged
        ...
        ledger.begin(pending)                  # visible as "running" while it runs
        ledger.put(finished)                   # replaces it, in one transaction
"""

from __future__ import annotations

from pytest_repro.ledger.guard import NotALedger, check_ledger_path
from pytest_repro.ledger.jsonl import ImportReport, InvalidLine, export_jsonl, import_jsonl
from pytest_repro.ledger.locks import run_lock
from pytest_repro.ledger.owner import Owner
from pytest_repro.ledger.schema import MIGRATIONS, SCHEMA_VERSION
from pytest_repro.ledger.sqlite import SQLiteLedger
from pytest_repro.ledger.store import (
    DEFAULT_MAX_AGE,
    PRUNABLE_STATUSES,
    MultiplexedStore,
    ReadOnlyStore,
    RunStore,
    record_problems,
)

__all__ = [
    "DEFAULT_MAX_AGE",
    "MIGRATIONS",
    "PRUNABLE_STATUSES",
    "SCHEMA_VERSION",
    "ImportReport",
    "InvalidLine",
    "MultiplexedStore",
    "NotALedger",
    "Owner",
    "ReadOnlyStore",
    "RunStore",
    "SQLiteLedger",
    "check_ledger_path",
    "export_jsonl",
    "import_jsonl",
    "record_problems",
    "run_lock",
]
