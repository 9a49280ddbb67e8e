"""GPU runs: leased devices, the device a run sees, determinism flags. Skipped without CUDA."""

from __future__ import annotations

import json
import sqlite3

import pytest

from pytest_repro.execution.gpus import GpuLeases, visible_gpus

from .conftest import MakePaper

GPU_TRAIN = """\
import os
import torch

def run(ctx):
    x = torch.ones(1000, device=ctx.device)
    ctx.log(epoch=5, acc=0.899 + 0.001 * ctx.seed + 0 * float(x.sum().item()),
            visible=len(os.environ["CUDA_VISIBLE_DEVICES"].split(",")),
            on_cuda=int(x.is_cuda), deterministic=int(torch.are_deterministic_algorithms_enabled()))
"""


def test_a_claim_needing_more_gpus_than_visible_is_skipped_with_the_reason(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    make_paper(header=HEADER_GPU)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(
        ["*::acc [[]skipped: needs 1 GPU(s) (run.resources.gpus*); 0 visible[]]*"]
    )


def test_leases_hand_out_each_device_to_one_holder_at_a_time(tmp_path: object) -> None:
    from pathlib import Path

    leases = GpuLeases(Path(str(tmp_path)), devices=("0", "1"), poll=0.01)
    with leases.lease(1) as first, leases.lease(1) as second:
        assert {first, second} == {("0",), ("1",)}
        with pytest.raises(TimeoutError), leases.lease(1, timeout=0.05):
            pass
    with leases.lease(2) as both:
        assert both == ("0", "1")
    with pytest.raises(RuntimeError, match="needs 3 GPUs but only 2 are visible"), leases.lease(3):
        pass


HEADER_GPU = """\
paper:
  id: "{paper_id}"
  title: A GPU paper
run:
  entrypoint: train:run
  resources: {{gpus: 1}}
  config:
    epochs: 5
environment: {{deterministic: true}}
"""


@pytest.mark.gpu
def test_a_gpu_run_sees_its_leased_device_with_determinism_on(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    if not visible_gpus():
        pytest.skip("no CUDA device visible")
    pytest.importorskip("torch")
    make_paper(header=HEADER_GPU, train=GPU_TRAIN)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*::acc [[]matched within 1.0 pp[]]*"])
    db = sqlite3.connect(pytester.path / ".repro" / "ledger.sqlite")
    series, evidence = db.execute("select series, evidence from runs limit 1").fetchone()
    db.close()
    point = json.loads(series)[-1]
    assert point["visible"] == 1
    assert point["on_cuda"] == 1
    assert point["deterministic"] == 1
    assert json.loads(evidence)["key"]["environment"]["device"].startswith("cuda:")
