"""Finding recorded runs for a report, without running anything.

A report is rebuilt from what the ledger holds: a run counts for a claim when it ran
the current code with the same config, seed, data, entrypoint, threads, determinism and
budget — whatever machine ran it. The environment part of the cache key is left out on
purpose, so runs recorded on a CI GPU runner (imported with ``pytest-repro ledger
import``) rebuild the report on a laptop; each run's environment is in the appendix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytest_repro.evaluate import NotRecorded
from pytest_repro.execution.plan import RunRequest
from pytest_repro.records import RunRecord, dumps

#: Cache-key fields that describe the machine rather than what ran.
MACHINE_FIELDS = ("environment",)


def match_key(key_fields: Mapping[str, Any]) -> str:
    return dumps({k: v for k, v in key_fields.items() if k not in MACHINE_FIELDS})


class RecordIndex:
    """The newest ``ok`` run for each match key, from any number of record sources."""

    def __init__(self, records: Iterable[RunRecord] = ()) -> None:
        self.best: dict[str, RunRecord] = {}
        self.add(records)

    def add(self, records: Iterable[RunRecord]) -> None:
        for record in records:
            key_fields = record.evidence.get("key")
            if not record.ok or not isinstance(key_fields, Mapping):
                continue
            key = match_key(key_fields)
            current = self.best.get(key)
            if current is None or record.started_at > current.started_at:
                self.best[key] = record

    def obtain(self, requests: Sequence[RunRequest]) -> list[RunRecord]:
        """A record per request, or :class:`NotRecorded` naming the first one missing."""
        found = []
        for request in requests:
            record = self.best.get(match_key(request.key_fields))
            if record is None:
                raise NotRecorded(
                    f"no recorded run of seed {request.seed} for the current code and config "
                    f"({request.variant.describe()}); run: pytest {request.spec.display}"
                )
            found.append(record)
        return found
