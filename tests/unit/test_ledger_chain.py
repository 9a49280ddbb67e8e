"""The ledger's hash chain and sealed bundles: every change outside pytest-repro is named."""

from __future__ import annotations

import io
import multiprocessing
import sqlite3
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.errors import ReproWarning
from pytest_repro.ledger import SQLiteLedger, chain, schema
from pytest_repro.ledger.bundle import export_bundle, import_bundle, read_bundle
from pytest_repro.records import RunRecord


def make_record(run_id: str = "r-1", **overrides: Any) -> RunRecord:
    fields: dict[str, Any] = {
        "run_id": run_id,
        "cache_key": f"key-{run_id}",
        "paper_id": "p",
        "paper_path": "papers/p/paper.yaml",
        "variant": "v",
        "config": {"lr": 0.1},
        "seed": 0,
        "status": "ok",
        "series": ({"epoch": 1, "acc": 0.9},),
        "output_tail": "done \udcff",
        "started_at": 1.0,
        "ended_at": 2.0,
    }
    fields.update(overrides)
    return RunRecord(**fields)


def raw(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute(sql, params).fetchall()
        conn.commit()
        return rows
    finally:
        conn.close()


def problems(path: Path) -> list[str]:
    with SQLiteLedger(path) as ledger:
        return [str(p) for p in ledger.audit().problems]


def test_every_stored_run_is_chained_to_the_one_before_it(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with SQLiteLedger(path) as ledger:
        ledger.put(make_record("r-1"))
        ledger.put_many([make_record("r-2"), make_record("r-3", seed=2**65)])
        audit = ledger.audit()
    assert audit.ok and (audit.entries, audit.runs) == (3, 3)
    rows = raw(
        path, "SELECT run_id, content_hash, prev_hash, chain_hash FROM runs ORDER BY chain_seq"
    )
    assert [r[0] for r in rows] == ["r-1", "r-2", "r-3"]
    assert rows[0][2] == chain.GENESIS
    assert rows[1][2] == rows[0][3] and rows[2][2] == rows[1][3]
    with SQLiteLedger(path) as ledger:  # the hash of a run read back is the hash it was stored with
        assert chain.content_hash(ledger.by_id("r-3")) == rows[2][1]  # type: ignore[arg-type]
    assert audit.head == rows[2][3]


def test_a_run_begun_then_finished_and_a_prune_are_chained_too(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    with SQLiteLedger(path) as ledger:
        ledger.begin(make_record("r-1", status="ok"))
        ledger.put(make_record("r-1"))
        ledger.put(make_record("r-2", status="failed", cache_key="k", started_at=1.0))
        ledger.put(make_record("r-3", status="failed", cache_key="k", started_at=2.0))
        assert ledger.prune() == 1
        audit = ledger.audit()
    assert audit.ok, audit.problems
    ops = raw(path, "SELECT op, run_id FROM chain ORDER BY seq")
    assert ops == [
        ("put", "r-1"),
        ("put", "r-1"),
        ("put", "r-2"),
        ("put", "r-3"),
        ("delete", "r-2"),
    ]


def _writer(path: str, prefix: str, count: int) -> None:
    with SQLiteLedger(Path(path)) as ledger:
        for i in range(count):
            ledger.put(make_record(f"{prefix}-{i}", started_at=time.time()))


def test_two_processes_writing_at_once_keep_one_linear_chain(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    SQLiteLedger(path).close()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_writer, args=(str(path), name, 25)) for name in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    seqs = [r[0] for r in raw(path, "SELECT seq FROM chain ORDER BY seq")]
    assert seqs == list(range(1, 51))
    with SQLiteLedger(path) as ledger:
        audit = ledger.audit()
    assert audit.ok, audit.problems
    assert (audit.entries, audit.runs) == (50, 50)


def test_an_old_ledger_without_chain_columns_is_chained_in_insertion_order(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    conn = sqlite3.connect(path)
    schema.MIGRATIONS[0](conn)  # a version 1 ledger, as pytest-repro 0.x wrote it
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO meta VALUES ('created_by', 'old')")
    from pytest_repro.ledger.owner import Owner

    owner = Owner(host="h", pid=1, started_at=None)
    for rid, started in (("second", 5.0), ("first", 9.0)):  # insertion order, not start order
        conn.execute(
            f"INSERT INTO runs ({', '.join(schema.COLUMNS)}) VALUES ({', '.join('?' * 20)})",
            schema.encode_row(make_record(rid, started_at=started), owner),
        )
    conn.commit()
    conn.close()
    with pytest.warns(ReproWarning, match="its 2 runs were chained in the order they were stored"):
        ledger = SQLiteLedger(path)
    with ledger:
        assert ledger.audit().ok
        ledger.put(make_record("third"))
        assert ledger.audit().ok
    assert raw(path, "SELECT run_id FROM chain ORDER BY seq") == [
        ("second",),
        ("first",),
        ("third",),
    ]
    assert raw(path, "PRAGMA user_version") == [(2,)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SQLiteLedger(path).close()  # said once, at the upgrade


@pytest.fixture
def three(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.sqlite"
    with SQLiteLedger(path) as ledger:
        ledger.put_many(make_record(f"r-{i}") for i in (1, 2, 3))
    return path


def test_a_value_edited_in_sqlite_is_named(three: Path) -> None:
    raw(three, "UPDATE runs SET series = '[{\"epoch\":1,\"acc\":0.99}]' WHERE run_id = 'r-2'")
    assert problems(three) == [
        "run r-2 was altered outside pytest-repro: its content no longer matches the hash "
        "chained at entry 2"
    ]


def test_a_deleted_row_is_named(three: Path) -> None:
    raw(three, "DELETE FROM runs WHERE run_id = 'r-1'")
    assert problems(three) == ["run r-1 was deleted outside pytest-repro (chain entry 1)"]


def test_a_row_added_by_hand_is_named(three: Path) -> None:
    conn = sqlite3.connect(three)
    conn.execute(
        "INSERT INTO runs (run_id, cache_key, paper_id, paper_path, variant, config, seed, status, "
        "series, examples, evidence, output_tail, started_at, ended_at, smoke) "
        "SELECT 'r-9', cache_key, paper_id, paper_path, variant, config, seed, status, series, "
        "examples, evidence, output_tail, started_at, ended_at, smoke FROM runs WHERE run_id = 'r-1'"
    )
    conn.commit()
    conn.close()
    assert problems(three) == ["run r-9 is not in the chain: it was added outside pytest-repro"]


def test_reordered_or_deleted_chain_entries_are_named(three: Path) -> None:
    raw(three, "UPDATE chain SET seq = -seq WHERE seq IN (1, 2)")
    raw(three, "UPDATE chain SET seq = CASE seq WHEN -1 THEN 2 ELSE 1 END WHERE seq < 0")
    found = problems(three)
    assert found[0].startswith("chain entry 1 (run r-2) does not follow the entry before it")
    assert any("chain entry 2 (run r-1)" in p for p in found)
    raw(three, "DELETE FROM chain WHERE seq = 3")
    assert any("run r-3" in p for p in problems(three))


# -- bundles -----------------------------------------------------------------------------------


def bundle_of(tmp_path: Path, records: list[RunRecord]) -> tuple[Path, str]:
    out = io.StringIO()
    count, seal = export_bundle(records, out, source="ledger.sqlite")
    assert count == len(records)
    path = tmp_path / "runs.jsonl"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path, seal


def test_a_bundle_reads_back_with_its_seal_checked(tmp_path: Path) -> None:
    records = [make_record("r-1"), make_record("r-2", series=({"epoch": 1, "acc": float("nan")},))]
    path, seal = bundle_of(tmp_path, records)
    bundle = read_bundle(path)
    assert bundle.ok and bundle.seal == seal
    assert [chain.content_hash(r) for r in bundle.records] == [
        chain.content_hash(r) for r in records
    ]
    with SQLiteLedger(tmp_path / "ci.sqlite") as ledger:
        assert import_bundle(ledger, bundle).added == ("r-1", "r-2")
        assert ledger.audit().ok


def test_a_tampered_bundle_is_refused_naming_the_line(tmp_path: Path) -> None:
    path, _ = bundle_of(tmp_path, [make_record("r-1"), make_record("r-2"), make_record("r-3")])
    text = path.read_text()
    path.write_text(text.replace('"acc":0.9', '"acc":0.95', 1))
    found = read_bundle(path).problems
    assert (
        found[0] == "line 2: run r-1 does not match its content hash: it was changed after export"
    )
    assert "it was changed after export" in found[-1]  # the seal

    lines = text.splitlines(keepends=True)
    path.write_text("".join([lines[0], lines[2], lines[1], *lines[3:]]))  # reordered
    assert read_bundle(path).problems[0].startswith("line 2: run r-2 does not follow the line")
    path.write_text("".join([lines[0], lines[1], *lines[3:]]))  # a run removed
    assert read_bundle(path).problems[0].startswith("line 3: run r-3 does not follow the line")
    path.write_text("".join(lines[:-1]))  # the seal cut off
    assert read_bundle(path).problems == (
        "no seal line: the bundle is truncated or was not written by export",
    )
