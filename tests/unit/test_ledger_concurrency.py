"""Real processes share one ledger: no write fails, no run is lost, a shared run is computed once.

Workers are module-level functions started with the ``spawn`` context, so each child
imports this module by name (pytest's default import mode puts its folder on sys.path).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
import traceback
from collections.abc import Callable
from multiprocessing.context import SpawnContext
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.ledger import SQLiteLedger, run_lock
from pytest_repro.records import RunRecord

TIMEOUT = 120.0


def make_record(run_id: str, cache_key: str = "key", **overrides: Any) -> RunRecord:
    fields: dict[str, Any] = {
        "run_id": run_id,
        "cache_key": cache_key,
        "paper_id": "p",
        "paper_path": "papers/p/paper.yaml",
        "variant": "v",
        "config": {"lr": 0.1},
        "seed": 0,
        "status": "ok",
        "series": tuple({"epoch": e, "acc": e / 100} for e in range(1, 101)),
        "started_at": time.time(),
        "ended_at": time.time(),
    }
    fields.update(overrides)
    return RunRecord(**fields)


@pytest.fixture
def spawn() -> SpawnContext:
    return multiprocessing.get_context("spawn")


Job = tuple[Callable[..., None], tuple[Any, ...]]


def run_all(ctx: SpawnContext, jobs: list[Job]) -> list[str]:
    """Start one process per (target, args) job; wait; return every child's error report."""
    errors = ctx.Queue()
    processes = [ctx.Process(target=target, args=(*args, errors)) for target, args in jobs]
    for process in processes:
        process.start()
    for process in processes:
        process.join(TIMEOUT)
    reports: list[str] = []
    while not errors.empty():
        reports.append(errors.get())
    for process in processes:
        if process.is_alive():
            process.kill()
            reports.append(f"process {process.pid} did not finish within {TIMEOUT} s")
        elif process.exitcode != 0:
            reports.append(f"process {process.pid} exited with {process.exitcode}")
    return reports


# -- workers (run in child processes) ----------------------------------------------------------


def put_worker(path: str, worker: int, count: int, barrier: Any, errors: Any) -> None:
    try:
        with SQLiteLedger(Path(path)) as ledger:  # every worker opens (and maybe creates) it
            barrier.wait(TIMEOUT)
            for i in range(count):
                ledger.put(make_record(f"w{worker}-{i}", cache_key=f"k{i % 7}", seed=worker))
    except BaseException:
        errors.put(traceback.format_exc())
        raise


def compute_once_worker(
    path: str, lock_dir: str, key: str, log: str, barrier: Any, results: Any, errors: Any
) -> None:
    try:
        with SQLiteLedger(Path(path)) as ledger:
            barrier.wait(TIMEOUT)
            with run_lock(Path(lock_dir), key):  # acquire
                record = ledger.get(key)  # check the ledger
                if record is None:  # compute if missing
                    with open(log, "a", encoding="utf-8") as fh:
                        fh.write(f"{os.getpid()}\n")
                    time.sleep(0.3)  # the expensive run
                    record = make_record(f"computed-by-{os.getpid()}", cache_key=key)
                    ledger.put(record)  # put
            results.put(record.run_id)  # released
    except BaseException:
        errors.put(traceback.format_exc())
        raise


def begin_and_hang(path: str, ready: Any, errors: Any) -> None:
    try:
        with SQLiteLedger(Path(path)) as ledger:
            ledger.begin(make_record("hung", output_tail="epoch 1/60\n"))
            ready.set()
            time.sleep(TIMEOUT)
    except BaseException:
        errors.put(traceback.format_exc())
        raise


def put_until_killed(path: str, committed: str, ready: Any, errors: Any) -> None:
    try:
        with SQLiteLedger(Path(path)) as ledger, open(committed, "a", encoding="utf-8") as log:
            ready.set()
            for i in range(1_000_000):
                run_id = f"r{i}"
                ledger.put(make_record(run_id, cache_key=f"k{i}"))
                log.write(run_id + "\n")  # only after put() returned
                log.flush()
    except BaseException:
        errors.put(traceback.format_exc())
        raise


def read_worker(path: str, seconds: float, barrier: Any, errors: Any) -> None:
    try:
        with SQLiteLedger(Path(path)) as ledger:
            barrier.wait(TIMEOUT)
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                ledger.get_many([f"k{i}" for i in range(7)])
                ledger.recover_interrupted()
                ledger.prune()
                list(ledger.records(statuses=["ok"]))
    except BaseException:
        errors.put(traceback.format_exc())
        raise


# -- tests -------------------------------------------------------------------------------------


def count_rows(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        return int(conn.execute("SELECT count(*) FROM runs").fetchone()[0])
    finally:
        conn.close()


def test_four_processes_putting_100_runs_each_store_exactly_400(
    spawn: SpawnContext, tmp_path: Path
) -> None:
    path = tmp_path / "fresh" / "ledger.sqlite"  # not created yet: the workers race to
    barrier = spawn.Barrier(4)
    jobs: list[Job] = [(put_worker, (str(path), w, 100, barrier)) for w in range(4)]
    assert run_all(spawn, jobs) == []
    assert count_rows(path) == 400
    with SQLiteLedger(path) as ledger:
        assert {r.run_id for r in ledger.records()} == {
            f"w{w}-{i}" for w in range(4) for i in range(100)
        }


def check_computed_once(spawn: SpawnContext, tmp_path: Path, workers: int) -> None:
    path, lock_dir, log = tmp_path / "ledger.sqlite", tmp_path / "locks", tmp_path / "computes"
    SQLiteLedger(path).close()
    barrier, results = spawn.Barrier(workers), spawn.Queue()
    args = (str(path), str(lock_dir), "shared-key", str(log), barrier, results)
    assert run_all(spawn, [(compute_once_worker, args)] * workers) == []
    assert len(log.read_text().splitlines()) == 1  # the compute callback ran exactly once
    winners = {results.get(timeout=5) for _ in range(workers)}
    assert len(winners) == 1  # and every process ended with the same record
    assert count_rows(path) == 1


def test_two_processes_needing_the_same_run_compute_it_once(
    spawn: SpawnContext, tmp_path: Path
) -> None:
    check_computed_once(spawn, tmp_path, workers=2)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_run_whose_process_is_killed_is_recovered_as_interrupted(
    spawn: SpawnContext, tmp_path: Path
) -> None:
    path = tmp_path / "ledger.sqlite"
    ready, errors = spawn.Event(), spawn.Queue()
    child = spawn.Process(target=begin_and_hang, args=(str(path), ready, errors))
    child.start()
    try:
        assert ready.wait(TIMEOUT), "the child never began its run"
        with SQLiteLedger(path) as ledger:
            assert ledger.recover_interrupted() == []  # its owner is alive
            child.kill()
            child.join(TIMEOUT)
            assert ledger.recover_interrupted() == ["hung"]
            record = ledger.by_id("hung")
            assert record is not None
            assert (record.status, record.output_tail) == ("interrupted", "epoch 1/60\n")
    finally:
        if child.is_alive():
            child.kill()


def kill_mid_writes(spawn: SpawnContext, tmp_path: Path, after: float) -> None:
    path, committed = tmp_path / "ledger.sqlite", tmp_path / "committed"
    ready, errors = spawn.Event(), spawn.Queue()
    child = spawn.Process(target=put_until_killed, args=(str(path), str(committed), ready, errors))
    child.start()
    assert ready.wait(TIMEOUT)
    time.sleep(after)
    os.kill(child.pid or 0, signal.SIGKILL)
    child.join(TIMEOUT)
    lines = committed.read_text().split("\n")[:-1]  # the last line may be cut short
    assert lines, "the child stored nothing before it was killed"
    with SQLiteLedger(path) as ledger:  # opens cleanly: not moved aside
        stored = {r.run_id for r in ledger.records()}
    assert set(lines) <= stored
    assert len(stored) - len(lines) <= 1  # at most the put whose log line was not written


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_killing_a_writer_loses_no_run_it_stored(spawn: SpawnContext, tmp_path: Path) -> None:
    kill_mid_writes(spawn, tmp_path, after=0.5)


# -- heavier stress (pytest -m slow) -----------------------------------------------------------


@pytest.mark.slow
def test_many_writers_and_readers_share_a_ledger(spawn: SpawnContext, tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    barrier = spawn.Barrier(8)
    jobs: list[Job] = [(put_worker, (str(path), w, 200, barrier)) for w in range(6)]
    jobs += [(read_worker, (str(path), 3.0, barrier))] * 2
    assert run_all(spawn, jobs) == []
    assert count_rows(path) == 1200


@pytest.mark.slow
def test_six_processes_needing_the_same_run_compute_it_once(
    spawn: SpawnContext, tmp_path: Path
) -> None:
    check_computed_once(spawn, tmp_path, workers=6)


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("after", [0.05, 0.3, 1.1, 2.3])
def test_killing_a_writer_at_any_moment_loses_nothing(
    spawn: SpawnContext, tmp_path: Path, after: float
) -> None:
    kill_mid_writes(spawn, tmp_path, after=after)
