"""A sealed bundle of runs: what ``pytest-repro ledger export`` writes.

A bundle is JSON lines, self-contained and hash-sealed::

    {"bundle": "pytest-repro ledger bundle", "format": 1, "generator": ..., "runs": 3, ...}
    {"n": 1, "run": {...}, "content_hash": "…", "prev_hash": "000…", "chain_hash": "…"}
    ...
    {"seal": "sha256:…", "runs": 3, "head": "…"}

Each run line carries the sha256 of the run's canonical content and links to the line
before it (:func:`pytest_repro.ledger.chain.link`); the last line seals the bytes of every
line before it. :func:`read_bundle` checks all three, so a CPU-only CI job can check the
runs a GPU runner recorded — and the verdicts they give — without running anything.
Compare the seal with the one the exporting job printed to know the bundle is that one.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

from pytest_repro import __version__
from pytest_repro.ledger.chain import GENESIS, content_hash, link
from pytest_repro.ledger.jsonl import ImportReport
from pytest_repro.ledger.store import RunStore, record_problems
from pytest_repro.records import RunRecord, dumps, loads

KIND: Final = "pytest-repro ledger bundle"
FORMAT: Final = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class Bundle:
    """A bundle as read: its ``records``, ``seal`` and ``head`` as written in it, and the
    ``problems`` found (each ``line N: …``; empty: the bundle is exactly as exported)."""

    path: Path
    records: tuple[RunRecord, ...]
    seal: str
    head: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def export_bundle(
    records: Iterable[RunRecord],
    fp: TextIO,
    *,
    source: str = "",
    source_head: str = "",
    stamps: Mapping[str, tuple[int, str]] | None = None,
) -> tuple[int, str]:
    """Write ``records`` to ``fp`` as a sealed bundle; returns the count and the seal.

    ``source``/``source_head``: the ledger they came from and its chain head;
    ``stamps``: each run's entry in that ledger's chain (number, chain hash).
    """
    digest = hashlib.sha256()

    def emit(value: Mapping[str, Any]) -> None:
        line = dumps(value) + "\n"  # ASCII: lone surrogates and all are escaped
        digest.update(line.encode("ascii"))
        fp.write(line)

    listed = list(records)
    emit(
        {
            "bundle": KIND,
            "format": FORMAT,
            "generator": f"pytest-repro {__version__}",
            "created_at": time.time(),
            "source": source,
            "source_head": source_head,
            "runs": len(listed),
        }
    )
    prev = GENESIS
    for n, record in enumerate(listed, start=1):
        content = content_hash(record)
        chained = link(prev, n, "put", record.run_id, content)
        line: dict[str, Any] = {
            "n": n,
            "run": record.to_json(),
            "content_hash": content,
            "prev_hash": prev,
            "chain_hash": chained,
        }
        if stamps and record.run_id in stamps:
            line["ledger_entry"] = list(stamps[record.run_id])
        emit(line)
        prev = chained
    seal = "sha256:" + digest.hexdigest()
    fp.write(dumps({"seal": seal, "runs": len(listed), "head": prev}) + "\n")
    return len(listed), seal


def is_bundle(path: Path) -> bool:
    """Whether the file at ``path`` starts like a bundle (plain JSON lines do not)."""
    try:
        with path.open("rb") as fh:
            first = fh.readline(4096)
    except OSError:
        return False
    return first.startswith(b'{"bundle":') or f'"bundle":"{KIND}"'.encode() in first


def read_bundle(path: Path) -> Bundle:
    """Read and check the bundle at ``path`` (raises :class:`OSError` when unreadable)."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    problems: list[str] = []
    records: list[RunRecord] = []
    digest = hashlib.sha256()
    seal: Mapping[str, Any] | None = None
    prev, expected = GENESIS, 1
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        if seal is not None:
            problems.append(f"line {number}: text after the seal line")
            break
        parsed = _object(raw)
        if isinstance(parsed, str):
            problems.append(f"line {number}: {parsed}")
            digest.update(raw + b"\n")
            continue
        if number == 1:
            if parsed.get("bundle") != KIND or parsed.get("format") != FORMAT:
                problems.append(f"line 1: not a {KIND} of format {FORMAT}")
        elif "seal" in parsed:
            seal = parsed
            continue
        else:
            record, why = _run_line(parsed, prev, expected)
            if why:
                problems.append(f"line {number}: {why}")
            if record is not None:
                records.append(record)
            prev = str(parsed.get("chain_hash", ""))
            expected += 1
        digest.update(raw + b"\n")
    if seal is None:
        problems.append("no seal line: the bundle is truncated or was not written by export")
        return Bundle(
            path=path, records=tuple(records), seal="", head=prev, problems=tuple(problems)
        )
    actual = "sha256:" + digest.hexdigest()
    if seal.get("seal") != actual:
        problems.append(
            f"the seal {seal.get('seal')} does not match the bundle's content ({actual}): "
            "it was changed after export"
        )
    if seal.get("runs") != len(records) or seal.get("head") != prev:
        problems.append("the seal line's run count or head does not match the runs above it")
    return Bundle(
        path=path,
        records=tuple(records),
        seal=str(seal.get("seal", "")),
        head=prev,
        problems=tuple(problems),
    )


def _object(raw: bytes) -> dict[str, Any] | str:
    try:
        value = loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"not JSON ({exc})"
    if not isinstance(value, dict):
        return f"expected a JSON object, got {type(value).__name__}"
    return value


def _run_line(
    line: Mapping[str, Any], prev: str, expected: int
) -> tuple[RunRecord | None, str | None]:
    """The run on one line and why the line is wrong (None: it is right)."""
    try:
        record = RunRecord.from_json(line["run"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        return None, f"not a run line ({exc})"
    problems = record_problems(record)
    if problems:
        return None, f"run {record.run_id}: " + "; ".join(problems)
    who = f"run {record.run_id}"
    if line.get("n") != expected or line.get("prev_hash") != prev:
        return record, (
            f"{who} does not follow the line before it: a run was removed or added, "
            "or the lines were reordered"
        )
    content = content_hash(record)
    if line.get("content_hash") != content:
        return record, f"{who} does not match its content hash: it was changed after export"
    if line.get("chain_hash") != link(prev, expected, "put", record.run_id, content):
        return record, f"{who} carries a chain hash that does not link it to the line before"
    return record, None


def import_bundle(store: RunStore, bundle: Bundle, *, batch_size: int = 500) -> ImportReport:
    """Add the runs of a checked ``bundle`` to ``store`` (a run id already there stays)."""
    added: list[str] = []
    present: list[str] = []
    batch: list[RunRecord] = []
    for record in bundle.records:
        if record.run_id in added or store.by_id(record.run_id) is not None:
            present.append(record.run_id)
            continue
        batch.append(record)
        added.append(record.run_id)
        if len(batch) >= batch_size:
            store.put_many(batch)
            batch.clear()
    if batch:
        store.put_many(batch)
    return ImportReport(added=tuple(added), already_present=tuple(present))
