"""Sharing runs between ledgers as JSON lines: one run record per line.

Export from CI, import locally (or keep the CI ledger and read it through
:class:`~pytest_repro.ledger.MultiplexedStore`)::

    with open("runs.jsonl", "w", encoding="utf-8") as fp:
        export_jsonl(ci_ledger, fp)
    with open("runs.jsonl", encoding="utf-8") as fp:
        report = import_jsonl(local_ledger, fp)
    print(report)          # 12 added, 3 already present, 1 invalid
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, TextIO

from pytest_repro.ledger.store import RunStore, record_problems
from pytest_repro.records import RunRecord, dumps, loads

_REQUIRED_FIELDS: Final = tuple(
    f.name
    for f in dataclasses.fields(RunRecord)
    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
)


@dataclass(frozen=True, slots=True)
class InvalidLine:
    """A line that could not be imported: its 1-based ``line`` number and the ``reason``."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportReport:
    """What :func:`import_jsonl` did: run ids ``added``, run ids ``already_present``
    (same ``run_id`` already in the store, left as it was), and ``invalid`` lines."""

    added: tuple[str, ...] = ()
    already_present: tuple[str, ...] = ()
    invalid: tuple[InvalidLine, ...] = ()

    def __str__(self) -> str:
        head = (
            f"{len(self.added)} added, {len(self.already_present)} already present, "
            f"{len(self.invalid)} invalid"
        )
        return "\n".join([head, *(f"  {line}" for line in self.invalid)])


def export_jsonl(store: RunStore, fp: TextIO, *, paper_path: str | None = None) -> int:
    """Write every run of ``store`` (of one paper with ``paper_path``) to ``fp`` in start
    order, one canonical JSON object per line (:meth:`RunRecord.to_json`, NaN-safe).
    Returns the number of runs written."""
    count = 0
    for record in store.records(paper_path=paper_path):
        fp.write(dumps(record.to_json()))
        fp.write("\n")
        count += 1
    return count


def import_jsonl(store: RunStore, fp: Iterable[str], *, batch_size: int = 500) -> ImportReport:
    """Add the runs read from ``fp`` (as written by :func:`export_jsonl`) to ``store``.

    A run whose ``run_id`` is already in the store is left as it is. A line that is not a
    valid run record is reported with its number and reason and never stops the import.
    Blank lines are skipped. Runs are stored ``batch_size`` at a time, each batch atomically.
    """
    added: list[str] = []
    present: list[str] = []
    invalid: list[InvalidLine] = []
    batch: list[RunRecord] = []
    seen: set[str] = set()
    for number, line in enumerate(fp, start=1):
        if not line.strip():
            continue
        record = _parse(line)
        if isinstance(record, str):
            invalid.append(InvalidLine(number, record))
        elif record.run_id in seen or store.by_id(record.run_id) is not None:
            present.append(record.run_id)
        else:
            seen.add(record.run_id)
            batch.append(record)
            if len(batch) >= batch_size:
                added.extend(_flush(store, batch))
    added.extend(_flush(store, batch))
    return ImportReport(added=tuple(added), already_present=tuple(present), invalid=tuple(invalid))


def _flush(store: RunStore, batch: list[RunRecord]) -> list[str]:
    store.put_many(batch)
    ids = [record.run_id for record in batch]
    batch.clear()
    return ids


def _parse(line: str) -> RunRecord | str:
    """The run record on ``line``, or why there is none."""
    try:
        data = loads(line)
    except (ValueError, RecursionError) as exc:
        return f"not JSON ({exc})"
    if not isinstance(data, dict):
        return f"expected a JSON object (one run record), got {type(data).__name__}"
    missing = [name for name in _REQUIRED_FIELDS if name not in data]
    if missing:
        return f"not a run record: missing {', '.join(missing)}"
    try:
        record = RunRecord.from_json(data)
    except (TypeError, ValueError, AttributeError) as exc:
        return f"not a valid run record ({exc})"
    problems = record_problems(record)
    return "; ".join(problems) if problems else record
