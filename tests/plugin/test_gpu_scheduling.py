"""GPU scheduling through a whole session, on a simulated inventory (no CUDA needed)."""

from __future__ import annotations

import json

import pytest

from pytest_repro.execution import gpu_plan as gp

from .conftest import MakePaper, claim

TRAIN = """\
import os

def run(ctx):
    seen = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    ctx.log(epoch=5, acc=0.899 + 0.001 * ctx.seed, device=float(seen or -1))
"""
HEADER = """\
paper:
  id: "{paper_id}"
  title: A GPU paper
run:
  entrypoint: train:run
  resources: {{gpus: 1, gpu_memory: 20GiB}}
  config:
    epochs: 5
"""
FAST = ("-p", "no:cacheprovider", "-v")
#: the device each run saw, as a number: 3 within 0.01 means every seed saw device 3
DEVICE_CLAIM = (
    claim("dev", paper=3.0)
    .replace("metric: acc", "metric: device")
    .replace("    unit: fraction\n", "")
)


def test_runs_that_fit_share_one_simulated_device(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_REPRO_FAKE_GPUS", "3:80GiB")
    make_paper(header=HEADER, train=TRAIN, claims=claim() + DEVICE_CLAIM)
    result = pytester.runpytest("--repro-workers=2", *FAST)
    result.assert_outcomes(passed=2)  # every run saw device 3, the one in the inventory
    assert list((pytester.path / ".repro" / "locks").glob("gpu-3.json"))


def test_which_devices_is_checked_against_the_inventory(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_REPRO_FAKE_GPUS", "2x80GiB")
    make_paper(header=HEADER, train=TRAIN)
    result = pytester.runpytest("--repro-gpus=0,2", *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--repro-gpus='0,2': there is no device 2: 2 are visible*"])
    result = pytester.runpytest("--repro-gpus=none", *FAST)
    result.stdout.fnmatch_lines(
        ["*[[]skipped: needs 1 GPU(s) (run.resources.gpus*); 0 visible[]]*"]
    )


def test_gpu_memory_without_a_gpu_is_an_error_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(header=HEADER.replace("gpus: 1, ", ""), train=TRAIN)
    result = pytester.runpytest(*FAST)
    result.stdout.fnmatch_lines(
        [
            "*paper.yaml:6: run.resources.gpu_memory: is GPU memory per leased device, but the run leases no GPU*"
        ]
    )


LEASE_SPY = """\
import json, pathlib
from pytest_repro.execution import gpus

_lease = gpus.GpuLeases.lease


def lease(self, count, timeout=None, memory=None, expected=None):
    with open(pathlib.Path(__file__).parent / "leases.jsonl", "a") as out:
        out.write(json.dumps(expected) + "\\n")
    return _lease(self, count, timeout=timeout, memory=memory, expected=expected)


gpus.GpuLeases.lease = lease
"""


def test_a_run_asks_for_its_devices_with_the_seconds_its_earlier_runs_took(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Waiting runs are ranked by their expected time: a run the ledger has seen before
    brings its estimate to the lease; a run never seen brings none."""
    monkeypatch.setenv("PYTEST_REPRO_FAKE_GPUS", "1x80GiB")
    make_paper(header=HEADER, train=TRAIN)
    pytester.makeconftest(LEASE_SPY)
    spy = pytester.path / "leases.jsonl"
    # in a process of its own: the spy patches the lease class of the process it runs in
    pytester.runpytest_subprocess(*FAST).assert_outcomes(passed=1)
    first = [json.loads(line) for line in spy.read_text().split()]
    assert first == [None, None, None]  # three seeds, no history yet
    spy.unlink()
    pytester.runpytest_subprocess("--repro-rerun=all", *FAST).assert_outcomes(passed=1)
    again = [json.loads(line) for line in spy.read_text().split()]
    assert len(again) == 3
    assert all(isinstance(s, float) and 0 <= s < 60 for s in again), again


def test_runs_that_must_wait_with_estimates_from_the_ledger_follow_a_plan_of_the_queue(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three seeds of 50 GiB on one 80 GiB device wait for each other: without history
    they are served by rank (no plan), with the ledger's estimates the queue is planned."""
    monkeypatch.setenv("PYTEST_REPRO_FAKE_GPUS", "1x80GiB")
    make_paper(header=HEADER.replace("20GiB", "50GiB"), train=TRAIN)
    plan = pytester.path / ".repro" / "locks" / "gpus-plan.json"
    pytester.runpytest("--repro-workers=3", *FAST).assert_outcomes(passed=1)
    assert not plan.exists()  # no estimates yet
    again = pytester.runpytest("--repro-workers=3", "--repro-rerun=all", *FAST)
    again.assert_outcomes(passed=1)
    planned = gp.loaded(json.loads(plan.read_text()))
    assert planned and all(len(devices) == 1 for _, devices in planned.values())
