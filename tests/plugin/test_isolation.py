"""Isolation and resume: a run that crashes, hangs or eats memory is recorded; nothing finished is lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import MakePaper, claim

FAULTS = """\
import ctypes, math, os, time

def run(ctx):
    mode = ctx.config["modes"][ctx.seed]
    print("running mode", mode, flush=True)
    if mode == "raise":
        raise ValueError("a bug in the training code")
    if mode == "segfault":
        ctx.log(epoch=1, acc=0.5)
        ctypes.string_at(0)
    if mode == "exit":
        os._exit(3)
    if mode == "hang":
        time.sleep(600)
    if mode == "oom":
        hog = []
        for _ in range(200):  # bounded: at most ~2 GiB even if nothing stops it
            hog.append(bytearray(10 * 2**20))
            time.sleep(0.01)
    value = math.nan if mode == "nan" else 0.9
    ctx.log(epoch=1, acc=value)
"""

MODES = ["ok", "raise", "segfault", "exit", "hang", "oom", "nan"]


def fault_paper(make_paper: MakePaper) -> Path:
    header = (
        'paper:\n  id: "faults"\n  title: A paper whose seeds fail in every way\n'
        "run:\n  entrypoint: train:run\n  timeout: 4s\n  resources: {{memory: 300MiB}}\n"
        f"  config:\n    modes: {json.dumps(MODES)}\n"
    )
    body = claim().replace("at: {epoch: 5}", "at: {epoch: 1}") + "    seeds: 7\n"
    return make_paper("faults", claims=body, header=header, train=FAULTS)


def statuses(root: Path) -> dict[int, str]:
    db = sqlite3.connect(root / ".repro" / "ledger.sqlite")
    rows = db.execute("select seed, status from runs order by started_at").fetchall()
    db.close()
    latest: dict[int, str] = {}
    for seed, status in rows:
        latest[seed] = status
    return latest


def test_every_way_a_run_can_fail_is_recorded_with_its_status(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    fault_paper(make_paper)
    result = pytester.runpytest("-p", "no:cacheprovider", "--repro-workers=2")
    result.assert_outcomes(failed=1)
    assert statuses(pytester.path) == {
        0: "ok",
        1: "failed",
        2: "crashed",
        3: "crashed",
        4: "timeout",
        5: "killed",
        6: "ok",
    }
    out = result.stdout.str()
    assert "seed 1 (faults-" in out
    assert "ValueError: a bug in the training code" in out
    assert "crashed with SIGSEGV" in out
    assert "exited with status 3" in out
    assert "timeout of 4s" in out
    assert "over its limit of 300.0 MiB" in out
    assert "running mode hang" in out  # the output tail of a killed run survives


def test_finished_runs_are_reused_after_failures_and_only_the_failed_ones_rerun(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    fault_paper(make_paper)
    pytester.runpytest("-p", "no:cacheprovider", "--repro-workers=2")
    first = statuses(pytester.path)
    pytester.runpytest("-p", "no:cacheprovider", "--repro-workers=2")
    db = sqlite3.connect(pytester.path / ".repro" / "ledger.sqlite")
    per_seed = dict(db.execute("select seed, count(*) from runs group by seed").fetchall())
    db.close()
    assert first[0] == "ok"
    assert per_seed[0] == 1  # the successful seeds ran once, in the first session
    assert per_seed[6] == 1
    assert per_seed[1] == 2  # the failed ones ran again


def test_the_session_goes_on_after_a_crash(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    train = "import ctypes\ndef run(ctx):\n    ctypes.string_at(0)\n"
    make_paper("crashes", train=train)
    make_paper("fine")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, passed=1)


SLOW = """\
import time
def run(ctx):
    if ctx.seed >= 2:
        time.sleep(60)
    ctx.log(epoch=5, acc=0.9 + 0.001 * (ctx.seed - 1))
"""


def test_a_killed_session_loses_no_finished_run_and_the_next_runs_only_what_is_missing(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=claim(extra="seeds: 4"), train=SLOW)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "--repro-workers=4",
            str(folder),
        ],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    ledger = pytester.path / ".repro" / "ledger.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if ledger.exists() and list(statuses(pytester.path).values()).count("ok") >= 2:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = statuses(pytester.path)
    assert [before.get(0), before.get(1)] == ["ok", "ok"]
    assert before.get(2) in ("running", None)
    # Same code, so the finished runs are reused; the two cut short run again (and time out now).
    result = pytester.runpytest("-p", "no:cacheprovider", "--repro-workers=4", "--repro-timeout=1s")
    after = statuses(pytester.path)
    assert after[0] == "ok" and after[1] == "ok"
    assert after[2] == "timeout" and after[3] == "timeout"
    db = sqlite3.connect(ledger)
    counts = dict(db.execute("select seed, count(*) from runs group by seed").fetchall())
    interrupted = db.execute("select count(*) from runs where status = 'interrupted'").fetchone()[0]
    db.close()
    assert counts[0] == 1 and counts[1] == 1  # finished runs were reused, not rerun
    assert interrupted == 2  # the runs the kill cut short are marked, not half-recorded
    result.assert_outcomes(failed=1)
