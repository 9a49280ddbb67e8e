"""The run ledger keeps every run exactly, reuses only ok runs, survives damage and sharing."""

from __future__ import annotations

import io
import json
import math
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import filelock
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from pytest_repro import __version__
from pytest_repro.errors import LedgerError, ReproWarning
from pytest_repro.ledger import (
    PRUNABLE_STATUSES,
    SCHEMA_VERSION,
    MultiplexedStore,
    ReadOnlyStore,
    SQLiteLedger,
    export_jsonl,
    import_jsonl,
    run_lock,
    schema,
)
from pytest_repro.ledger.guard import error_kind
from pytest_repro.ledger.owner import Owner, pid_alive, process_start_time
from pytest_repro.records import RUN_STATUSES, RunRecord, dumps

# -- helpers -----------------------------------------------------------------------------------


def make_record(**overrides: Any) -> RunRecord:
    """A small valid record; every field can be overridden."""
    fields: dict[str, Any] = {
        "run_id": f"run-{uuid.uuid4().hex[:12]}",
        "cache_key": "key-a",
        "paper_id": "1611.03530",
        "paper_path": "papers/1611.03530/paper.yaml",
        "variant": "v0",
        "config": {"lr": 0.01, "epochs": 3},
        "seed": 0,
        "status": "ok",
        "series": ({"epoch": 1, "test_acc": 0.5}, {"epoch": 2, "test_acc": 0.75}),
        "started_at": 1000.0,
        "ended_at": 1010.0,
    }
    fields.update(overrides)
    return RunRecord(**fields)


def canon(record: RunRecord | None) -> str | None:
    """Canonical text of a record: equal text means equal records, NaN included."""
    return None if record is None else dumps(record.to_json())


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def raw_update(path: Path, sql: str, params: tuple[Any, ...] = ()) -> None:
    """Change the ledger file behind the ledger's back, as another tool would."""
    conn = sqlite3.connect(path)
    try:
        conn.execute(sql, params)
        conn.commit()
    finally:
        conn.close()


def asides(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if ".corrupt-" in p.name)


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / ".repro" / "ledger.sqlite"


@pytest.fixture
def ledger(ledger_path: Path) -> Iterator[SQLiteLedger]:
    with SQLiteLedger(ledger_path) as opened:
        yield opened


# -- round trips -------------------------------------------------------------------------------


def test_every_field_survives_a_round_trip(ledger: SQLiteLedger) -> None:
    record = make_record(
        run_id="ünïcødé-✓-运行",
        cache_key="sha256:Ωmega",
        paper_id="2103.00020",
        paper_path="papers/çlip/paper.yaml",
        variant="label_noise=1.0",
        config={"lr": 1e-3, "nested": {"list": [1, 2.5, None, True]}, "name": "résumé 😀"},
        seed=-(2**70),
        status="failed",
        series=(
            {"epoch": 1, "loss": math.nan, "acc": math.inf},
            {"epoch": 2, "loss": -math.inf, "acc": -0.0},
            {"step": 10**18, "note": "שלום"},
        ),
        examples={"test_correct@epoch=2": [1.0, 0.0, math.nan]},
        evidence={"git": {"commit": "abc", "dirty": True}, "gpu": None, "threads": 8},
        output_tail="line 1\n\x00binary\tline\n\udcff lone surrogate from a decoded byte",
        error="Traceback …\nValueError: ∞\udc80",
        started_at=1_700_000_000.123456,
        ended_at=1_700_003_600.654321,
        run_dir="/tmp/runs/ü",
        smoke=True,
    )
    ledger.put(record)
    assert canon(ledger.by_id(record.run_id)) == canon(record)


def test_a_large_series_survives_a_round_trip(ledger: SQLiteLedger) -> None:
    series = tuple({"step": i, "loss": 1.0 / (i + 1), "acc": i / 20_000} for i in range(20_000))
    record = make_record(series=series, examples={"correct": [float(i % 2) for i in range(10_000)]})
    ledger.put(record)
    assert canon(ledger.get(record.cache_key)) == canon(record)


_json_leaf = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=8)
)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(alphabet="abcxyz_", max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_records = st.builds(
    RunRecord,
    run_id=st.text(min_size=1, max_size=12),
    cache_key=st.sampled_from(["k1", "k2", "k3"]),
    paper_id=st.text(max_size=8),
    paper_path=st.text(max_size=12),
    variant=st.text(max_size=6),
    config=st.dictionaries(st.text(alphabet="abc", max_size=3), _json, max_size=4),
    seed=st.integers(min_value=-(2**80), max_value=2**80),
    status=st.sampled_from(RUN_STATUSES),
    series=st.lists(
        st.dictionaries(st.sampled_from(["epoch", "step", "acc", "loss"]), _json), max_size=4
    ).map(tuple),
    examples=st.dictionaries(st.text(max_size=4), st.lists(st.floats(), max_size=4), max_size=2),
    evidence=st.dictionaries(st.text(alphabet="xyz", max_size=3), _json, max_size=3),
    output_tail=st.text(max_size=40),
    error=st.none() | st.text(max_size=20),
    started_at=st.floats(min_value=0, max_value=4e9),
    ended_at=st.floats(min_value=0, max_value=4e9),
    run_dir=st.none() | st.text(max_size=10),
    smoke=st.booleans(),
)


def test_any_record_is_read_back_exactly(ledger: SQLiteLedger) -> None:
    @settings(max_examples=60, deadline=None, database=None)
    @given(_records)
    def check(record: RunRecord) -> None:
        ledger.put(record)
        assert canon(ledger.by_id(record.run_id)) == canon(record)

    check()


def test_runs_persist_when_the_ledger_is_reopened(ledger_path: Path) -> None:
    record = make_record()
    with SQLiteLedger(ledger_path) as first:
        first.put(record)
    with SQLiteLedger(ledger_path) as second:
        assert canon(second.get(record.cache_key)) == canon(record)


# -- reads: only ok runs, the newest -----------------------------------------------------------


def test_get_returns_the_newest_ok_run_of_the_key(ledger: SQLiteLedger) -> None:
    older_ok = make_record(started_at=100.0)
    newer_ok = make_record(started_at=200.0)
    ledger.put(newer_ok)
    ledger.put(older_ok)
    ledger.put(make_record(started_at=300.0, status="failed"))
    ledger.put(make_record(started_at=400.0, status="interrupted"))
    ledger.begin(make_record(started_at=500.0))
    ledger.put(make_record(cache_key="key-b", started_at=900.0))
    got = ledger.get("key-a")
    assert got is not None
    assert got.run_id == newer_ok.run_id


def test_get_is_none_for_keys_with_no_ok_run(ledger: SQLiteLedger) -> None:
    ledger.put(make_record(status="crashed"))
    ledger.put(make_record(status="timeout"))
    assert ledger.get("key-a") is None
    assert ledger.get("never-seen") is None


def test_get_many_answers_only_the_keys_with_an_ok_run(ledger: SQLiteLedger) -> None:
    keys = [f"key-{i}" for i in range(1200)]  # more than one query chunk
    ledger.put_many(make_record(cache_key=key) for key in keys[::2])
    ledger.put_many(make_record(cache_key=key, status="failed") for key in keys[1::2])
    found = ledger.get_many([*keys, "missing", keys[0]])
    assert list(found) == keys[::2]
    assert all(record.cache_key == key for key, record in found.items())
    assert ledger.get_many([]) == {}


def test_get_many_refuses_a_bare_string(ledger: SQLiteLedger) -> None:
    with pytest.raises(TypeError, match="iterable of cache keys"):
        ledger.get_many("key-a")


def test_records_filter_and_come_in_start_order(ledger: SQLiteLedger) -> None:
    a = make_record(started_at=3.0)
    b = make_record(started_at=1.0, paper_path="papers/other/paper.yaml", paper_id="other")
    c = make_record(started_at=2.0, status="failed", cache_key="key-c")
    for record in (a, b, c):
        ledger.put(record)

    def ids(**filters: Any) -> list[str]:
        return [record.run_id for record in ledger.records(**filters)]

    assert ids() == [b.run_id, c.run_id, a.run_id]
    assert ids(paper_path=a.paper_path) == [c.run_id, a.run_id]
    assert ids(paper_id="other") == [b.run_id]
    assert ids(cache_keys=["key-c", "nope"]) == [c.run_id]
    assert ids(statuses=["failed", "ok"], cache_keys=["key-a"]) == [b.run_id, a.run_id]
    assert ids(cache_keys=[]) == []
    assert ids(statuses=[]) == []
    with pytest.raises(ValueError, match="unknown run status 'fail'"):
        ledger.records(statuses=["fail"])


def test_records_over_many_keys_keep_start_order(ledger: SQLiteLedger) -> None:
    keys = [f"k{i}" for i in range(1100)]
    ledger.put_many(make_record(cache_key=k, started_at=float(-i)) for i, k in enumerate(keys))
    started = [record.started_at for record in ledger.records(cache_keys=keys)]
    assert started == sorted(started)
    assert len(started) == len(keys)


# -- writes ------------------------------------------------------------------------------------


def test_begin_stores_a_running_run_owned_by_this_process(ledger: SQLiteLedger) -> None:
    before = time.time()
    stored = ledger.begin(make_record(status="ok", started_at=0.0))
    assert stored.status == "running"
    assert stored.started_at >= before
    assert canon(ledger.by_id(stored.run_id)) == canon(stored)
    assert ledger.get(stored.cache_key) is None
    conn = sqlite3.connect(ledger.path)
    host, pid, started = conn.execute(
        "SELECT owner_host, owner_pid, owner_started_at FROM runs WHERE run_id = ?",
        (stored.run_id,),
    ).fetchone()
    conn.close()
    assert (host, pid) == (socket.gethostname(), os.getpid())
    assert started == process_start_time(os.getpid())


def test_put_after_begin_replaces_the_running_row(ledger: SQLiteLedger) -> None:
    pending = ledger.begin(make_record(started_at=5.0))
    finished = replace(pending, status="ok", ended_at=9.0, output_tail="done")
    ledger.put(finished)
    assert [canon(r) for r in ledger.records()] == [canon(finished)]
    assert canon(ledger.get(finished.cache_key)) == canon(finished)


def test_begin_refuses_to_overwrite_a_run_that_finished_ok(ledger: SQLiteLedger) -> None:
    done = make_record()
    ledger.put(done)
    with pytest.raises(LedgerError, match="already finished ok"):
        ledger.begin(done)
    assert canon(ledger.by_id(done.run_id)) == canon(done)


def test_put_rejects_a_record_it_could_not_read_back(ledger: SQLiteLedger) -> None:
    class Tensor:
        pass

    with pytest.raises(ValueError, match="started_at must be a finite number"):
        ledger.put(make_record(started_at=math.nan))
    with pytest.raises(ValueError, match="config is not JSON-serializable"):
        ledger.put(make_record(config={"lr": Tensor()}))
    with pytest.raises(ValueError, match="run_id must be a non-empty string"):
        ledger.put(make_record(run_id=""))
    assert list(ledger.records()) == []


def test_put_many_is_all_or_nothing(ledger: SQLiteLedger) -> None:
    with pytest.raises(ValueError, match="seed must be an integer"):
        ledger.put_many([make_record(), make_record(seed="0")])
    assert list(ledger.records()) == []
    assert ledger.put_many([make_record(), make_record()]) == 2


def test_one_ledger_is_shared_by_threads(ledger: SQLiteLedger) -> None:
    def writer(n: int) -> None:
        for i in range(25):
            ledger.put(make_record(run_id=f"t{n}-{i}", cache_key=f"k{n}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(list(ledger.records())) == 100


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_writes_through_its_own_connection(ledger: SQLiteLedger) -> None:
    ledger.put(make_record(run_id="parent"))
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            ledger.put(make_record(run_id="child"))
            code = 0 if ledger.by_id("parent") is not None else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert {r.run_id for r in ledger.records()} == {"parent", "child"}


def test_a_write_waits_while_another_process_holds_the_write_lock(ledger_path: Path) -> None:
    with SQLiteLedger(ledger_path, busy_timeout=10) as ledger:
        other = sqlite3.connect(ledger_path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        release.start()
        start = time.monotonic()
        ledger.put(make_record())
        assert time.monotonic() - start >= 0.2
        release.join()
        other.close()
        assert len(list(ledger.records())) == 1


def test_a_write_lock_held_past_the_busy_timeout_is_reported(ledger_path: Path) -> None:
    with SQLiteLedger(ledger_path, busy_timeout=0.2) as ledger:
        other = sqlite3.connect(ledger_path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(LedgerError, match="stayed locked by another process"):
                ledger.put(make_record())
        finally:
            other.execute("ROLLBACK")
            other.close()
        ledger.put(make_record())  # usable again once the lock is gone


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("database is locked", "busy"),
        ("database table is locked", "busy"),
        ("file is not a database", "corrupt"),
        ("database disk image is malformed", "corrupt"),
        ("attempt to write a readonly database", "access"),
        ("unable to open database file", "access"),
        ("no such table: runs", "other"),
    ],
)
def test_sqlite_errors_are_told_apart_without_error_codes(message: str, kind: str) -> None:
    # Python 3.10 has no sqlite_errorcode: the message decides.
    assert error_kind(sqlite3.OperationalError(message)) == kind


def test_a_closed_ledger_says_so(ledger_path: Path) -> None:
    ledger = SQLiteLedger(ledger_path)
    ledger.close()
    ledger.close()
    with pytest.raises(LedgerError, match="is closed"):
        ledger.get("key-a")


# -- interrupted runs --------------------------------------------------------------------------


def test_a_run_whose_process_died_is_marked_interrupted(ledger: SQLiteLedger) -> None:
    lost = ledger.begin(make_record(output_tail="epoch 3/60\n"))
    kept_error = ledger.begin(make_record(error="CUDA error: out of memory"))
    raw_update(ledger.path, "UPDATE runs SET owner_pid = ?", (dead_pid(),))

    assert ledger.recover_interrupted() == [lost.run_id, kept_error.run_id]

    first, second = ledger.by_id(lost.run_id), ledger.by_id(kept_error.run_id)
    assert first is not None
    assert second is not None
    assert (first.status, first.output_tail) == ("interrupted", "epoch 3/60\n")
    assert first.error is not None
    assert "is gone" in first.error
    assert (second.status, second.error) == ("interrupted", "CUDA error: out of memory")
    assert ledger.recover_interrupted() == []
    assert ledger.get(lost.cache_key) is None


def test_a_run_whose_process_lives_stays_running(ledger: SQLiteLedger) -> None:
    alive = ledger.begin(make_record())
    assert ledger.recover_interrupted() == []
    stored = ledger.by_id(alive.run_id)
    assert stored is not None
    assert stored.status == "running"


@pytest.mark.skipif(process_start_time(os.getpid()) is None, reason="needs /proc")
def test_a_pid_reused_by_another_process_counts_as_gone(ledger: SQLiteLedger) -> None:
    run = ledger.begin(make_record())
    raw_update(ledger.path, "UPDATE runs SET owner_started_at = owner_started_at - 3600")
    assert ledger.recover_interrupted() == [run.run_id]


def test_a_run_on_another_host_is_interrupted_only_past_max_age(ledger: SQLiteLedger) -> None:
    now = time.time()
    old = ledger.begin(make_record(started_at=now - 7200))
    recent = ledger.begin(make_record(started_at=now - 60))
    imported = ledger.begin(make_record(started_at=now - 7200))
    raw_update(ledger.path, "UPDATE runs SET owner_host = 'gpu-node-17'")
    raw_update(
        ledger.path, "UPDATE runs SET owner_host = NULL WHERE run_id = ?", (imported.run_id,)
    )
    assert ledger.recover_interrupted(max_age=3600) == [old.run_id, imported.run_id]
    stored = ledger.by_id(recent.run_id)
    assert stored is not None
    assert stored.status == "running"
    marked = ledger.by_id(old.run_id)
    assert marked is not None
    assert marked.error is not None
    assert "gpu-node-17" in marked.error


def test_pid_alive_tells_live_dead_and_reused_pids_apart() -> None:
    me = os.getpid()
    assert pid_alive(me)
    assert pid_alive(me, process_start_time(me))
    assert not pid_alive(dead_pid())
    assert not pid_alive(0)
    owner = Owner.current()
    assert (owner.host, owner.pid) == (socket.gethostname(), me)


# -- composed stores ---------------------------------------------------------------------------


@pytest.fixture
def second_ledger(tmp_path: Path) -> Iterator[SQLiteLedger]:
    with SQLiteLedger(tmp_path / "ci" / "ledger.sqlite") as opened:
        yield opened


def test_a_read_only_store_reads_through_and_refuses_writes(ledger: SQLiteLedger) -> None:
    record = make_record()
    ledger.put(record)
    store = ReadOnlyStore(ledger)
    assert canon(store.get(record.cache_key)) == canon(record)
    assert canon(store.by_id(record.run_id)) == canon(record)
    assert [r.run_id for r in store.records()] == [record.run_id]
    assert list(store.get_many([record.cache_key])) == [record.cache_key]
    writes: list[Callable[[], object]] = [
        lambda: store.put(make_record()),
        lambda: store.put_many([make_record()]),
        lambda: store.begin(make_record()),
        store.recover_interrupted,
        store.prune,
    ]
    for write in writes:
        with pytest.raises(LedgerError, match="read-only"):
            write()
    assert [r.run_id for r in ledger.records()] == [record.run_id]


def test_a_multiplexed_store_reads_in_order_and_writes_to_the_primary(
    ledger: SQLiteLedger, second_ledger: SQLiteLedger
) -> None:
    local = make_record(cache_key="shared", started_at=1.0)
    ci_same_key = make_record(cache_key="shared", started_at=99.0)
    ci_only = make_record(cache_key="ci-only", started_at=2.0)
    duplicate = make_record(cache_key="dup", started_at=3.0)
    ledger.put_many([local, duplicate])
    second_ledger.put_many([ci_same_key, ci_only, replace(duplicate, output_tail="ci copy")])
    store = MultiplexedStore(ledger, ReadOnlyStore(second_ledger))

    found = store.get_many(["shared", "ci-only", "absent"])
    assert canon(found["shared"]) == canon(local)  # the primary answers first
    assert canon(found["ci-only"]) == canon(ci_only)
    assert "absent" not in found
    assert canon(store.get("ci-only")) == canon(ci_only)
    assert canon(store.by_id(duplicate.run_id)) == canon(duplicate)
    assert canon(store.by_id(ci_only.run_id)) == canon(ci_only)
    assert store.by_id("nope") is None
    assert [r.run_id for r in store.records()] == [
        local.run_id,
        ci_only.run_id,
        duplicate.run_id,
        ci_same_key.run_id,
    ]
    assert [r.run_id for r in store.records(cache_keys=["ci-only"])] == [ci_only.run_id]

    new = make_record(cache_key="new")
    store.put(new)
    store.begin(make_record(cache_key="pending"))
    assert store.recover_interrupted() == []
    assert ledger.get("new") is not None
    assert second_ledger.get("new") is None
    assert store.prune() == 0


def test_closing_a_composed_store_closes_every_store(
    ledger: SQLiteLedger, second_ledger: SQLiteLedger
) -> None:
    with MultiplexedStore(ledger, ReadOnlyStore(second_ledger)):
        pass
    for closed in (ledger, second_ledger):
        with pytest.raises(LedgerError, match="closed"):
            closed.get("key-a")


# -- sharing as JSON lines ---------------------------------------------------------------------


def test_export_then_import_reproduces_every_record_exactly(
    ledger: SQLiteLedger, second_ledger: SQLiteLedger
) -> None:
    records = [
        make_record(series=({"epoch": 1, "loss": math.nan},), started_at=1.0),
        make_record(status="failed", error="boom ✗", started_at=2.0, seed=2**65),
        make_record(paper_path="papers/x/paper.yaml", started_at=3.0, smoke=True),
    ]
    ledger.put_many(records)
    buffer = io.StringIO()
    assert export_jsonl(ledger, buffer) == 3
    buffer.seek(0)
    report = import_jsonl(second_ledger, buffer)
    assert report.added == tuple(r.run_id for r in records)
    assert report.already_present == ()
    assert report.invalid == ()
    assert [canon(r) for r in second_ledger.records()] == [canon(r) for r in records]

    one_paper = io.StringIO()
    assert export_jsonl(ledger, one_paper, paper_path="papers/x/paper.yaml") == 1


def test_import_reports_invalid_lines_and_keeps_going(ledger: SQLiteLedger) -> None:
    present = make_record()
    ledger.put(present)
    good = make_record(run_id="fresh")
    no_status = {k: v for k, v in good.to_json().items() if k not in ("status", "seed")}
    lines = [
        dumps(present.to_json()),  # 1: already present
        "{not json",  # 2
        "",  # 3: blank, skipped
        json.dumps([1, 2]),  # 4
        json.dumps(no_status),  # 5
        dumps({**good.to_json(), "status": "done"}),  # 6
        dumps({**good.to_json(), "seed": "zero"}),  # 7
        dumps({**good.to_json(), "series": [1, 2]}),  # 8
        dumps(good.to_json()),  # 9: added
        dumps(good.to_json()),  # 10: same run_id again
    ]
    report = import_jsonl(ledger, io.StringIO("\n".join(lines) + "\n"))
    assert report.added == ("fresh",)
    assert report.already_present == (present.run_id, "fresh")
    assert [(bad.line, bad.reason.split(" ")[0]) for bad in report.invalid] == [
        (2, "not"),
        (4, "expected"),
        (5, "not"),
        (6, "not"),
        (7, "seed"),
        (8, "not"),
    ]
    reasons = {bad.line: bad.reason for bad in report.invalid}
    assert "missing seed, status" in reasons[5]
    assert "unknown run status 'done'" in reasons[6]
    assert str(report).startswith("1 added, 2 already present, 6 invalid\n  line 2: not JSON")
    assert canon(ledger.by_id("fresh")) == canon(good)


def test_import_stores_in_batches(ledger: SQLiteLedger) -> None:
    lines = "".join(dumps(make_record(cache_key=f"k{i}").to_json()) + "\n" for i in range(25))
    report = import_jsonl(ledger, io.StringIO(lines), batch_size=10)
    assert len(report.added) == 25
    assert len(list(ledger.records())) == 25


# -- schema versions ---------------------------------------------------------------------------


def pragma(path: Path, name: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"PRAGMA {name}").fetchone()[0])
    finally:
        conn.close()


def test_a_fresh_ledger_is_schema_version_2_in_wal_mode(ledger: SQLiteLedger) -> None:
    assert SCHEMA_VERSION == 2 == len(schema.MIGRATIONS)
    assert pragma(ledger.path, "user_version") == 2
    assert pragma(ledger.path, "application_id") == schema.APPLICATION_ID
    conn = sqlite3.connect(ledger.path)
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    conn.close()
    assert meta == {"created_by": __version__, "schema_written_by": __version__}
    assert mode == "wal"


def test_a_ledger_from_a_newer_version_is_refused_and_left_alone(ledger_path: Path) -> None:
    SQLiteLedger(ledger_path).close()
    raw_update(ledger_path, "PRAGMA user_version = 7")
    raw_update(ledger_path, "UPDATE meta SET value = '9.1.0' WHERE key = 'schema_written_by'")
    before = ledger_path.read_bytes()
    with pytest.raises(LedgerError) as raised:
        SQLiteLedger(ledger_path)
    message = str(raised.value)
    assert "schema version 7, written by pytest-repro 9.1.0" in message
    assert "Upgrade pytest-repro" in message
    assert str(ledger_path) in message
    assert ledger_path.read_bytes() == before
    assert asides(ledger_path) == []


def test_an_appended_migration_upgrades_an_older_ledger_once(
    ledger_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = make_record()
    with SQLiteLedger(ledger_path) as v1:
        v1.put(record)
    calls: list[int] = []

    def add_notes(conn: sqlite3.Connection) -> None:
        calls.append(1)
        conn.execute("ALTER TABLE runs ADD COLUMN notes TEXT")

    monkeypatch.setattr(schema, "MIGRATIONS", (*schema.MIGRATIONS, add_notes))
    with SQLiteLedger(ledger_path) as v2:
        assert canon(v2.get(record.cache_key)) == canon(record)
    with SQLiteLedger(ledger_path):
        pass
    assert calls == [1]
    assert pragma(ledger_path, "user_version") == 3


# -- damaged ledgers ---------------------------------------------------------------------------


def write_garbage(path: Path) -> None:
    path.write_bytes(bytes(range(256)) * 40)


def write_empty(path: Path) -> None:
    path.write_bytes(b"")


def write_truncated(path: Path) -> None:
    with SQLiteLedger(path) as full:
        series = tuple({"epoch": i, "acc": i / 100} for i in range(100))
        full.put_many(make_record(cache_key=f"k{i}", series=series) for i in range(300))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def write_failing_quick_check(path: Path) -> None:
    """A ledger whose file opens but whose b-tree pages fail ``PRAGMA quick_check``."""
    with SQLiteLedger(path) as full:
        full.put_many(make_record(cache_key=f"k{i}") for i in range(200))
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")
    for page in range(2, len(data) // page_size + 1):
        damaged = bytearray(data)
        start = (page - 1) * page_size
        damaged[start + 8 : start + 64] = b"\xff" * 56  # clobber the cell pointers
        path.write_bytes(damaged)
        conn = sqlite3.connect(path)
        try:
            if conn.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                return
        except sqlite3.DatabaseError:
            pass
        finally:
            conn.close()
    raise AssertionError("no page whose damage quick_check reports")


def write_foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO photos (name) VALUES ('cat.jpg')")
    conn.commit()
    conn.close()


def write_missing_columns(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, cache_key TEXT)")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()


def write_other_application(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA application_id = 42")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (write_empty, "the file is empty"),
        (write_truncated, "malformed"),
        (write_failing_quick_check, "quick_check failed: .*out of range"),
        (write_missing_columns, "lacks the columns paper_id"),
    ],
)
def test_an_unusable_file_is_moved_aside_and_a_fresh_ledger_started(
    ledger_path: Path, damage: Any, reason: str
) -> None:
    ledger_path.parent.mkdir(parents=True)
    damage(ledger_path)
    original = ledger_path.read_bytes()
    with pytest.warns(ReproWarning, match=reason) as caught:
        ledger = SQLiteLedger(ledger_path)
    with ledger:
        ledger.put(make_record(run_id="after"))
        assert [r.run_id for r in ledger.records()] == ["after"]
    (aside,) = asides(ledger_path)
    assert aside.name.startswith("ledger.sqlite.corrupt-")
    assert aside.read_bytes() == original
    message = str(caught[0].message)
    assert str(ledger_path) in message
    assert str(aside) in message
    assert caught[0].filename == __file__


def test_a_stale_journal_goes_aside_with_its_damaged_ledger(ledger_path: Path) -> None:
    ledger_path.parent.mkdir(parents=True)
    write_empty(ledger_path)
    Path(f"{ledger_path}-wal").write_bytes(b"stale wal")
    Path(f"{ledger_path}-shm").write_bytes(b"stale shm")
    with pytest.warns(ReproWarning), SQLiteLedger(ledger_path) as ledger:
        ledger.put(make_record())
    (aside, aside_wal) = asides(ledger_path)
    assert aside_wal.name == aside.name + "-wal"
    assert aside_wal.read_bytes() == b"stale wal"


def test_a_healthy_ledger_is_never_moved_aside(ledger_path: Path) -> None:
    for _ in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with SQLiteLedger(ledger_path) as ledger:
                ledger.put(make_record())
    assert asides(ledger_path) == []
    with SQLiteLedger(ledger_path) as ledger:
        assert len(list(ledger.records())) == 3


def test_an_unwritable_location_names_the_path_and_the_fix(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(LedgerError) as raised:
        SQLiteLedger(blocker / "ledger.sqlite")
    message = str(raised.value)
    assert str(blocker / "ledger.sqlite") in message
    assert "--repro-ledger=PATH" in message
    assert "permissions" in message
    with pytest.raises(LedgerError, match="is a directory"):
        SQLiteLedger(tmp_path)


def test_a_folder_without_write_permission_is_refused_with_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "shared"
    folder.mkdir()
    with monkeypatch.context() as patched:  # what os.access answers a user without rights
        patched.setattr(os, "access", lambda *args, **kwargs: False)
        with pytest.raises(LedgerError) as raised:
            SQLiteLedger(folder / "ledger.sqlite")
    assert f"{folder} is not writable" in str(raised.value)
    assert "--repro-ledger=PATH" in str(raised.value)


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_a_read_only_folder_is_refused_with_the_fix(tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(LedgerError, match="--repro-ledger=PATH"):
            SQLiteLedger(folder / "ledger.sqlite")
    finally:
        folder.chmod(0o755)


# -- pruning -----------------------------------------------------------------------------------


def test_prune_keeps_the_newest_failures_per_key_and_every_newest_ok(
    ledger: SQLiteLedger,
) -> None:
    ok_old = make_record(started_at=1.0)
    ok_new = make_record(started_at=2.0)
    fails = [make_record(status=s, started_at=10.0 + i) for i, s in enumerate(PRUNABLE_STATUSES)]
    other_key_fail = make_record(cache_key="key-b", status="failed", started_at=5.0)
    running = ledger.begin(make_record(started_at=3.0))
    ledger.put_many([ok_old, ok_new, *fails, other_key_fail])

    assert ledger.prune() == len(fails) - 1
    left = {r.run_id for r in ledger.records()}
    assert left == {ok_old.run_id, ok_new.run_id, fails[-1].run_id, other_key_fail.run_id} | {
        running.run_id
    }

    assert ledger.prune(keep_per_key=0, statuses=["ok", "failed", "interrupted"]) == 3
    left = {r.run_id for r in ledger.records()}
    assert left == {ok_new.run_id, running.run_id}


def test_prune_only_touches_runs_older_than_asked(ledger: SQLiteLedger) -> None:
    now = time.time()
    old = make_record(status="failed", started_at=now - 10 * 86400)
    young = make_record(status="failed", started_at=now - 60)
    ledger.put_many([old, young])
    assert ledger.prune(keep_per_key=0, older_than=86400) == 1
    assert [r.run_id for r in ledger.records()] == [young.run_id]


def test_prune_refuses_running_and_nonsense(ledger: SQLiteLedger) -> None:
    with pytest.raises(ValueError, match="recover_interrupted"):
        ledger.prune(statuses=["running"])
    with pytest.raises(ValueError, match="keep_per_key"):
        ledger.prune(keep_per_key=-1)
    assert ledger.prune(statuses=[]) == 0


# -- run locks ---------------------------------------------------------------------------------


def test_run_lock_gives_one_lock_file_per_key(tmp_path: Path) -> None:
    lock_dir = tmp_path / "locks" / "nested"
    a1 = run_lock(lock_dir, "sha256:a/b\\c:ü")
    a2 = run_lock(lock_dir, "sha256:a/b\\c:ü")
    b = run_lock(lock_dir, "sha256:other")
    assert isinstance(a1, filelock.BaseFileLock)
    assert a1.lock_file == a2.lock_file != b.lock_file
    assert Path(a1.lock_file).parent == lock_dir
    with a1:
        with pytest.raises(filelock.Timeout):
            a2.acquire(timeout=0.05)
        with b:
            assert b.is_locked
    with a2:
        assert a2.is_locked


def test_run_lock_in_an_unwritable_place_is_a_ledger_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(LedgerError, match="run lock folder"):
        run_lock(blocker / "locks", "k")


# -- the store behaves like a dictionary of runs -----------------------------------------------

_run_ids = st.sampled_from([f"r{i}" for i in range(5)])
_keys = st.sampled_from(["k0", "k1", "k2"])
_statuses = st.sampled_from(RUN_STATUSES)
_starts = st.integers(min_value=1, max_value=4).map(float)


class LedgerMachine(RuleBasedStateMachine):
    """Any sequence of begin/put/get/recover matches a dict of run id -> record."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp()
        self.ledger = SQLiteLedger(Path(self.folder) / "ledger.sqlite")
        self.model: dict[str, RunRecord] = {}  # insertion order = the ledger's row order

    def newest_ok(self, key: str) -> RunRecord | None:
        candidates = [
            (record.started_at, position, record)
            for position, record in enumerate(self.model.values())
            if record.cache_key == key and record.status == "ok"
        ]
        return max(candidates, key=lambda c: (c[0], c[1]))[2] if candidates else None

    @rule(run_id=_run_ids, key=_keys, status=_statuses, started=_starts)
    def put(self, run_id: str, key: str, status: str, started: float) -> None:
        record = make_record(run_id=run_id, cache_key=key, status=status, started_at=started)
        self.ledger.put(record)
        self.model[run_id] = record

    @rule(run_id=_run_ids, key=_keys, started=_starts)
    def begin(self, run_id: str, key: str, started: float) -> None:
        record = make_record(run_id=run_id, cache_key=key, started_at=started)
        existing = self.model.get(run_id)
        if existing is not None and existing.status == "ok":
            with pytest.raises(LedgerError):
                self.ledger.begin(record)
        else:
            self.model[run_id] = self.ledger.begin(record)

    @rule(key=_keys)
    def get(self, key: str) -> None:
        assert canon(self.ledger.get(key)) == canon(self.newest_ok(key))

    @rule(keys=st.lists(_keys, max_size=4))
    def get_many(self, keys: list[str]) -> None:
        expected = {k: canon(self.newest_ok(k)) for k in keys if self.newest_ok(k) is not None}
        assert {k: canon(r) for k, r in self.ledger.get_many(keys).items()} == expected

    @rule()
    def recover(self) -> None:
        assert self.ledger.recover_interrupted() == []  # every owner is this live process

    @invariant()
    def same_records_in_start_order(self) -> None:
        ordered = sorted(
            enumerate(self.model.values()), key=lambda pair: (pair[1].started_at, pair[0])
        )
        assert [canon(r) for r in self.ledger.records()] == [canon(r) for _, r in ordered]

    def teardown(self) -> None:
        self.ledger.close()
        shutil.rmtree(self.folder, ignore_errors=True)


LedgerMachine.TestCase.settings = settings(
    max_examples=20, stateful_step_count=12, deadline=None, database=None
)
TestLedgerBehavesLikeADictOfRuns = LedgerMachine.TestCase
