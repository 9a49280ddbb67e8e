"""How fast the run ledger is, and how big it grows.

Prints: put latency (median, p95) for a run with a 100-point series, get_many latency
for 200 keys, put throughput with 2 concurrent processes, the time to open (check) a
ledger, and the file size per 1000 runs.

    python benchmarks/ledger_bench.py            # from the repository root
    python benchmarks/ledger_bench.py --puts 1000 --processes 4
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

try:
    import pytest_repro  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_repro.ledger import SQLiteLedger
from pytest_repro.records import RunRecord

POINTS = 100


def make_record(run_id: str, cache_key: str) -> RunRecord:
    """A realistic run: 100 logged epochs with four metrics and a full evidence record."""
    return RunRecord(
        run_id=run_id,
        cache_key=cache_key,
        paper_id="1611.03530",
        paper_path="papers/1611.03530/paper.yaml",
        variant="3f2a9c1d",
        config={"lr": 0.01, "epochs": POINTS, "width": 512, "label_noise": 1.0, "batch": 128},
        seed=int(run_id.rsplit("-", 1)[-1]) % 10,
        status="ok",
        series=tuple(
            {
                "epoch": e,
                "train_loss": 2.3 / e,
                "train_acc": 1 - 1 / (e + 1),
                "test_acc": 0.1 + e / 1000,
            }
            for e in range(1, POINTS + 1)
        ),
        evidence={
            "code_hash": "sha256:" + "ab" * 32,
            "git": {"commit": "cd" * 20, "dirty": False},
            "environment": {
                "python": "3.11.7",
                "packages": {f"package-{i}": f"{i}.0.1" for i in range(30)},
                "torch": "2.3.0",
                "cuda": "12.1",
                "gpu": "NVIDIA H100 80GB HBM3",
            },
            "data": {"digits": "sha256:" + "ef" * 32},
            "wall_time": 812.5,
        },
        output_tail="epoch 100/100 train_loss=0.023 test_acc=0.2\n" * 20,
        started_at=time.time(),
        ended_at=time.time() + 812.5,
        run_dir=f"/home/user/.repro/runs/{run_id}",
    )


def summary(seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"median {statistics.median(ordered) * 1e3:.2f} ms, p95 {p95 * 1e3:.2f} ms"


def bench_put(folder: Path, n: int) -> str:
    with SQLiteLedger(folder / "put.sqlite") as ledger:
        records = [make_record(f"put-{i}", f"key-{i}") for i in range(n)]
        latencies = []
        for record in records:
            start = time.perf_counter()
            ledger.put(record)
            latencies.append(time.perf_counter() - start)
    return _line(f"put (100-point series, n={n})", summary(latencies))


def bench_get_many(folder: Path, repeats: int) -> str:
    with SQLiteLedger(folder / "get.sqlite") as ledger:
        ledger.put_many(make_record(f"get-{i}", f"key-{i % 1000}") for i in range(2000))
        keys = [f"key-{i}" for i in range(0, 1000, 5)]  # 200 keys, two runs each
        latencies = []
        for _ in range(repeats):
            start = time.perf_counter()
            found = ledger.get_many(keys)
            latencies.append(time.perf_counter() - start)
        assert len(found) == 200
    return _line("get_many (200 keys, 2000 runs)", summary(latencies))


def _writer(path: str, worker: int, n: int, barrier: Any, times: Any) -> None:
    with SQLiteLedger(Path(path)) as ledger:
        records = [make_record(f"c{worker}-{i}", f"key-{worker}-{i}") for i in range(n)]
        barrier.wait()
        start = time.time()
        for record in records:
            ledger.put(record)
        times.put((start, time.time()))


def bench_concurrent(folder: Path, processes: int, n: int) -> str:
    ctx = multiprocessing.get_context("spawn")
    path = folder / "concurrent.sqlite"
    SQLiteLedger(path).close()
    barrier, times = ctx.Barrier(processes), ctx.Queue()
    workers = [
        ctx.Process(target=_writer, args=(str(path), w, n, barrier, times))
        for w in range(processes)
    ]
    for worker in workers:
        worker.start()
    spans = [times.get() for _ in workers]
    for worker in workers:
        worker.join()
    wall = max(end for _, end in spans) - min(start for start, _ in spans)
    total = processes * n
    with SQLiteLedger(path) as ledger:
        assert sum(1 for _ in ledger.records()) == total
    return _line(
        f"concurrent puts ({processes} processes x {n})",
        f"{total / wall:.0f} puts/s ({total} runs in {wall:.2f} s)",
    )


def bench_size_and_open(folder: Path) -> list[str]:
    path = folder / "size.sqlite"
    with SQLiteLedger(path) as ledger:
        for i in range(1000):
            ledger.put(make_record(f"size-{i}", f"key-{i}"))
    size = path.stat().st_size  # closing checkpointed the WAL into the file
    start = time.perf_counter()
    SQLiteLedger(path).close()
    opened = time.perf_counter() - start
    with SQLiteLedger(path) as ledger:
        ledger.put_many(make_record(f"more-{i}", f"more-{i}") for i in range(9000))
    start = time.perf_counter()
    SQLiteLedger(path).close()
    opened_10k = time.perf_counter() - start
    return [
        _line("file size per 1000 runs", f"{size / 2**20:.2f} MiB ({size // 1000} B/run)"),
        _line(
            "open (quick_check, schema check)",
            f"{opened * 1e3:.1f} ms at 1000 runs, {opened_10k * 1e3:.1f} ms at 10000 runs",
        ),
    ]


def _line(label: str, value: str) -> str:
    return f"{label + ':':<40} {value}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--puts", type=int, default=300, help="puts timed one by one")
    parser.add_argument("--processes", type=int, default=2, help="concurrent writers")
    parser.add_argument("--per-process", type=int, default=300, help="puts per writer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        folder = Path(tmp)
        print(f"SQLite ledger benchmark (python {sys.version.split()[0]}, folder {folder})")
        print(bench_put(folder, args.puts))
        print(bench_get_many(folder, repeats=50))
        print(bench_concurrent(folder, args.processes, args.per_process))
        for line in bench_size_and_open(folder):
            print(line)


if __name__ == "__main__":
    main()
