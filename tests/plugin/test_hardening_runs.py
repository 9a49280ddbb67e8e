"""Runs that misbehave, and a machine that does: each case ends in a clear verdict or
message, never a traceback from inside the plugin, a killed worker or a stray process."""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path

import pytest

from pytest_repro.execution.pool import _died_outcome

WORKERS = ("-p", "no:cacheprovider", "--repro-workers=1")


def entry_paper(
    pytester: pytest.Pytester, train: str, *, paper_id: str = "w", run: str = ""
) -> Path:
    folder = pytester.path / "papers" / "w"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(textwrap.dedent(train))
    (folder / "paper.yaml").write_text(
        f'paper: {{id: "{paper_id}", title: Runs that misbehave}}\n'
        f"run:\n  entrypoint: train:run\n{run}"
        "claims:\n"
        "  - {id: acc, text: accuracy, source: Table 1, metric: acc, at: {epoch: 1},\n"
        "     paper: 0.9, tolerance: 0.01}\n"
    )
    return folder


NUMPY_ONLY = """\
import json, pathlib, sys

def run(ctx):
    seen = {"torch": "torch" in sys.modules, "seeding": None}
    with open(pathlib.Path(ctx.paper_dir) / "seen.log", "a") as f:
        f.write(json.dumps(seen) + "\\n")
    ctx.log(epoch=1, acc=0.9 + 0.001 * (ctx.seed - 1))
"""


def test_a_worker_of_a_paper_that_never_imports_torch_does_not_load_it(
    pytester: pytest.Pytester,
) -> None:
    folder = entry_paper(pytester, NUMPY_ONLY)
    pytester.runpytest(*WORKERS).assert_outcomes(passed=1)
    seen = [json.loads(line) for line in (folder / "seen.log").read_text().splitlines()]
    assert seen and not any(s["torch"] for s in seen)


TORCH_LATE = """\
import json, pathlib

def run(ctx):
    import torch  # imported by the run, after the worker seeded everything else
    draw = float(torch.rand(1))
    with open(pathlib.Path(ctx.paper_dir) / "draws.log", "a") as f:
        f.write(json.dumps({"seed": ctx.seed, "draw": draw}) + "\\n")
    ctx.log(epoch=1, acc=0.9 + 0.001 * (ctx.seed - 1))
"""


def test_torch_imported_by_a_run_is_seeded_with_the_runs_seed(pytester: pytest.Pytester) -> None:
    torch = pytest.importorskip("torch")
    folder = entry_paper(pytester, TORCH_LATE)
    pytester.runpytest(*WORKERS, "--repro-json=r.json").assert_outcomes(passed=1)
    draws = [json.loads(line) for line in (folder / "draws.log").read_text().splitlines()]
    for d in draws:
        torch.manual_seed(d["seed"])
        assert d["draw"] == pytest.approx(float(torch.rand(1)))
    assert len({d["draw"] for d in draws}) == 3
    ledger = pytester.path / ".repro" / "ledger.sqlite"
    import sqlite3

    with sqlite3.connect(ledger) as conn:
        evidence = [json.loads(r[0]) for r in conn.execute("SELECT evidence FROM runs")]
    generators = [e["seeding"]["generators"] for e in evidence]
    assert all("torch (on import)" in g or "torch" in g for g in generators)


IDLE = """\
def run(ctx):
    ctx.log(epoch=1, acc=0.9 + 0.001 * (ctx.seed - 1))
"""


def test_a_memory_cap_counts_the_run_not_the_workers_own_memory(
    pytester: pytest.Pytester,
) -> None:
    # The worker itself holds ~35 MiB (python, the plugin). The run's seeding may import
    # numpy in it (~40 MiB, counted against the run when a sample falls inside it), so the
    # cap sits between what the run can reach (~40 MiB) and the group's total (~75 MiB):
    # it passes only if the worker's own memory is left out.
    entry_paper(pytester, IDLE, run="  resources: {memory: 60MiB}\n")
    result = pytester.runpytest(*WORKERS)
    result.assert_outcomes(passed=1)


HOG = """\
def run(ctx):
    block = bytearray(200 * 2**20)  # 200 MiB, touched
    for i in range(0, len(block), 4096):
        block[i] = 1
    import time
    time.sleep(2)
    ctx.log(epoch=1, acc=0.9)
"""


def test_a_run_over_its_cap_is_stopped_and_the_message_says_what_was_counted(
    pytester: pytest.Pytester,
) -> None:
    entry_paper(pytester, HOG, run="  resources: {memory: 100MiB}\n")
    result = pytester.runpytest(*WORKERS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*over its limit of 100* MiB (run.resources.memory)*less what the worker held*"]
    )


BAD_STR = """\
class Weird(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")

def run(ctx):
    if ctx.seed == 0:
        raise Weird()
    ctx.log(epoch=1, acc=0.9)
"""


def test_an_exception_whose_str_raises_fails_its_run_not_the_worker(
    pytester: pytest.Pytester,
) -> None:
    entry_paper(pytester, BAD_STR)
    result = pytester.runpytest(*WORKERS)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*seed 0 (*): failed: Weird: <its message could not be shown: RuntimeError in __str__>*"]
    )
    assert "crashed" not in result.stdout.str()


DAEMON = """\
import pathlib, subprocess, sys

def run(ctx):
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
    )
    (pathlib.Path(ctx.paper_dir) / f"child-{ctx.seed}.pid").write_text(str(child.pid))
    ctx.log(epoch=1, acc=0.9 + 0.001 * (ctx.seed - 1))
"""


def test_a_child_started_in_a_new_session_is_ended_with_its_run(
    pytester: pytest.Pytester,
) -> None:
    if not os.path.isdir("/proc"):
        pytest.skip("finding a run's strays needs /proc")
    folder = entry_paper(pytester, DAEMON)
    pytester.runpytest(*WORKERS).assert_outcomes(passed=1)
    pids = [int(p.read_text()) for p in folder.glob("child-*.pid")]
    assert len(pids) == 3
    time.sleep(0.5)
    alive = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                state = handle.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.append(pid)
    assert alive == []


def test_a_very_long_paper_id_still_gets_run_folders(pytester: pytest.Pytester) -> None:
    entry_paper(pytester, IDLE, paper_id="p" * 300)
    result = pytester.runpytest(*WORKERS)
    result.assert_outcomes(passed=1)
    assert "File name too long" not in result.stdout.str()


def test_a_malformed_xdist_worker_count_is_a_usage_error(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry_paper(pytester, IDLE)
    monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "abc")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*PYTEST_XDIST_WORKER_COUNT='abc' is not a number of workers*"])
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_a_worker_that_dies_on_a_full_disk_says_the_disk_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10, 10, 0))
    outcome = _died_outcome(1, 0.0, True, tmp_path)
    assert "the disk of the run folders is full" in (outcome.error or "")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10, 0, 10 << 30))
    assert "disk" not in (_died_outcome(1, 0.0, True, tmp_path).error or "")
