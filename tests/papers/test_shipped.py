"""The shipped papers: valid specs, a working pipeline end to end, and reproducible runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_repro import data
from pytest_repro.execution.context import METRICS_FILE, RunContext
from pytest_repro.execution.metrics import read_jsonl
from pytest_repro.seeding import seed_everything
from pytest_repro.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
PAPERS = sorted((ROOT / "papers").glob("*/paper.yaml"))


@pytest.mark.parametrize("spec_file", PAPERS, ids=lambda p: p.parent.name)
def test_every_shipped_spec_is_valid_and_traceable(spec_file: Path) -> None:
    spec = load_spec(spec_file, display=spec_file.relative_to(ROOT).as_posix())
    assert spec.claims
    assert spec.sanity, "shipped papers check determinism before their claims"
    for key, value in spec.run.config.items():
        assert value.source, f"{spec_file}: run.config.{key} has no provenance"
        if value.assumed:
            assert value.why, f"{spec_file}: assumed run.config.{key} says not why"
    for claim in spec.claims:
        assert claim.source
        if claim.expect:
            assert claim.hypothesis


def test_the_shipped_pipelines_run_end_to_end_in_smoke_mode(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "papers",
        "--repro-smoke",
        f"--repro-dir={tmp_path}",
        f"--repro-json={tmp_path / 'smoke.json'}",
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    proc = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    doc = json.loads((tmp_path / "smoke.json").read_text())
    claims = [c for p in doc["papers"] for c in p["claims"]]
    assert len(claims) == sum(len(load_spec(p).claims) for p in PAPERS)
    assert {c["verdict"] for c in claims} == {"smoke"}
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def run_once(seed: int, tmp_path: Path, loaded: object) -> list[dict[str, object]]:
    spec = load_spec(ROOT / "papers/2011.14439/paper.yaml")
    config = spec.resolve(spec.variants["logistic"])
    run_dir = tmp_path / f"run-{seed}-{len(list(tmp_path.iterdir()))}"
    run_dir.mkdir()
    sys.path.insert(0, str(spec.folder))
    try:
        import train  # the paper's own module

        seed_everything(seed, deterministic="on")
        ctx = RunContext(
            seed=seed,
            config=config,
            run_dir=run_dir,
            paper_dir=spec.folder,
            smoke=True,
            max_steps=40,
            data_loader=lambda name: loaded,
        )
        train.run(ctx)
        ctx.close()
    finally:
        sys.path.remove(str(spec.folder))
        sys.modules.pop("train", None)
    return read_jsonl(run_dir / METRICS_FILE)


def test_the_same_seed_gives_bit_identical_metrics_and_another_seed_differs(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    spec = load_spec(ROOT / "papers/2011.14439/paper.yaml")
    loaded, _ = data.load(spec.data_source("mnist1d"), spec.folder)
    first = run_once(0, tmp_path, loaded)
    again = run_once(0, tmp_path, loaded)
    other = run_once(1, tmp_path, loaded)
    assert first and first == again
    assert first != other
