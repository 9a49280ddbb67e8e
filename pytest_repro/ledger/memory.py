"""Runs held in memory: a store over the records of a bundle, for checking without a ledger.

``pytest-repro verify --ledger-file runs.jsonl`` rebuilds reports from a bundle through
this store, so nothing is written anywhere::

    store = MemoryStore(read_bundle(Path("runs.jsonl")).records)
    claims, records = writers.paper_report(spec, [], cfg, store)
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import replace

from pytest_repro.ledger.store import (
    DEFAULT_MAX_AGE,
    PRUNABLE_STATUSES,
    RunStore,
    check_keys,
    normalize_statuses,
)
from pytest_repro.records import RunRecord


class MemoryStore(RunStore):
    """A :class:`RunStore` in a dict; writes replace by ``run_id``; nothing is persisted."""

    def __init__(self, records: Iterable[RunRecord] = ()) -> None:
        self._runs: dict[str, RunRecord] = {}
        self.put_many(records)

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._runs)} runs)"

    def get_many(self, cache_keys: Iterable[str]) -> dict[str, RunRecord]:
        keys = set(check_keys(cache_keys))
        found: dict[str, RunRecord] = {}
        for record in self.records(statuses=("ok",)):
            if record.cache_key in keys:
                found[record.cache_key] = record  # start order: the newest wins
        return found

    def by_id(self, run_id: str) -> RunRecord | None:
        return self._runs.get(run_id)

    def records(
        self,
        *,
        paper_path: str | None = None,
        paper_id: str | None = None,
        cache_keys: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> Iterator[RunRecord]:
        keys = None if cache_keys is None else set(check_keys(cache_keys))
        wanted = None if statuses is None else set(normalize_statuses(statuses))
        chosen = [
            r
            for r in self._runs.values()
            if (paper_path is None or r.paper_path == paper_path)
            and (paper_id is None or r.paper_id == paper_id)
            and (keys is None or r.cache_key in keys)
            and (wanted is None or r.status in wanted)
        ]
        return iter(sorted(chosen, key=lambda r: r.started_at))

    def put(self, record: RunRecord) -> None:
        self._runs[record.run_id] = record

    def begin(self, record: RunRecord) -> RunRecord:
        running = replace(record, status="running", started_at=record.started_at or time.time())
        self.put(running)
        return running

    def recover_interrupted(self, *, max_age: float = DEFAULT_MAX_AGE) -> list[str]:
        return []

    def prune(
        self,
        keep_per_key: int = 1,
        statuses: Iterable[str] = PRUNABLE_STATUSES,
        older_than: float | None = None,
    ) -> int:
        return 0

    def close(self) -> None:
        pass
