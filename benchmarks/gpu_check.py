"""Checks on a CUDA machine: what the runs see, one shipped paper on the GPU, leases under -n 2.

    python benchmarks/gpu_check.py [--keep DIR]

Prints torch's and CUDA's versions and the devices (name, memory, driver), then, each in a
temporary folder with its own ledger and run folders:

1. **determinism**: a generated paper with ``environment: {deterministic: true}`` and
   ``resources: {gpus: 1}``; its run writes what it sees (``CUDA_VISIBLE_DEVICES``,
   ``CUBLAS_WORKSPACE_CONFIG``, ``torch.are_deterministic_algorithms_enabled()``, cuDNN's
   flags, whether its tensor is on CUDA) and the claim must pass;
2. **shipped paper**: a copy of ``papers/2011.14439`` whose ``resources`` ask for one GPU
   (the shipped spec asks for none, so its ``ctx.device`` is ``cpu``), its ``cnn-test-accuracy``
   claim rerun (``--repro-rerun=all``); every run recorded must name a CUDA device in its evidence;
3. **leases under -n 2**: two generated papers of three seeds each, ``resources: {gpus: 1}``
   (whole devices), run by ``pytest -n 2 --repro-workers=2``; each run notes its
   ``CUDA_VISIBLE_DEVICES`` and when it started and ended, and no two runs may have held
   the same device at once; the lease files must be empty afterwards.

Exits 0 when every check passed, or, with the line ``no CUDA device: nothing checked``,
where torch sees no CUDA device and ``nvidia-smi`` lists none; 1 when a check failed (or
``nvidia-smi`` lists GPUs that torch cannot use). Takes a few minutes on one H100.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

NO_DEVICE = "no CUDA device: nothing checked"
SHIPPED = "2011.14439"
SHIPPED_CLAIM = "cnn-test-accuracy"
PYTEST_TIMEOUT = 420  # seconds for one pytest session; the three together stay under 8 min

DESCRIBE = """
import json
out = {}
try:
    import torch
except ImportError as exc:
    out["error"] = f"torch is not installed ({exc})"
else:
    out["torch"] = torch.__version__
    out["cuda"] = torch.version.cuda
    out["cudnn"] = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
    out["available"] = torch.cuda.is_available()
    out["devices"] = []
    if out["available"]:
        for i in range(torch.cuda.device_count()):
            p = torch.cuda.get_device_properties(i)
            out["devices"].append(
                {"name": p.name, "memory": p.total_memory, "capability": f"{p.major}.{p.minor}"}
            )
print(json.dumps(out))
"""

#: A run that writes down what it sees and holds its device for ``hold`` seconds.
SEEING = """\
import json, os, time
import torch

def run(ctx):
    start = time.time()
    x = torch.ones(512, 512, device=ctx.device)
    total = float((x @ x).sum().item())
    time.sleep(ctx.config["hold"])
    seen = {
        "device": ctx.device,
        "on_cuda": x.is_cuda,
        "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "cublas_workspace_config": os.environ.get("CUBLAS_WORKSPACE_CONFIG"),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "pid": os.getpid(),
        "start": start,
        "end": time.time(),
        "total": total,
    }
    (ctx.run_dir / "seen.json").write_text(json.dumps(seen))
    ctx.log(epoch=1, acc=0.899 + 0.001 * ctx.seed)
"""

SPEC = """\
paper:
  id: "{paper_id}"
  title: A GPU check
run:
  entrypoint: train:run
  resources: {{gpus: 1}}
  timeout: 3m
  config:
    hold: {hold}
environment: {{deterministic: true}}
claims:
  - id: acc
    text: accuracy reaches the paper's value
    source: Table 1
    metric: acc
    at: {{epoch: 1}}
    paper: 0.9
    tolerance: 0.01
    unit: fraction
    seeds: 3
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it (default: a temp dir)")
    args = parser.parse_args()
    seen = describe()
    if not seen["devices"]:
        if seen["smi"]:
            print(f"nvidia-smi lists {len(seen['smi'])} GPU(s), but torch sees no CUDA device")
            return 1
        print(NO_DEVICE)
        return 0
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run_checks(args.keep.resolve())
    with tempfile.TemporaryDirectory(prefix="repro-gpu-check-") as tmp:
        return run_checks(Path(tmp))


def describe() -> dict[str, Any]:
    """Print torch, CUDA and the devices; return what torch and nvidia-smi see."""
    from pytest_repro.environment import visible_gpus

    smi = visible_gpus()
    out = subprocess.run(
        [sys.executable, "-c", DESCRIBE], capture_output=True, text=True, timeout=300, check=False
    )
    try:
        info: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        info = {"error": (out.stderr.strip().splitlines() or ["no output"])[-1]}
    print(f"python {sys.version.split()[0]} ({sys.executable})")
    if "error" in info:
        print(f"torch: {info['error']}")
    else:
        print(
            f"torch {info['torch']}, CUDA {info['cuda']}, cuDNN {info['cudnn']}, "
            f"CUDA available: {info['available']}"
        )
    for i, device in enumerate(info.get("devices") or []):
        gib = device["memory"] / 2**30
        print(f"  torch cuda:{i}: {device['name']}, {gib:.1f} GiB, compute {device['capability']}")
    for gpu in smi:
        print(
            f"  nvidia-smi {gpu.get('index')}: {gpu.get('name')}, {gpu.get('memory_mib')} MiB, "
            f"driver {gpu.get('driver')}"
        )
    print(f"CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES')!r} (outer)")
    return {"devices": info.get("devices") or [], "smi": smi}


def run_checks(where: Path) -> int:
    results = [
        ("determinism", check_determinism(where / "determinism")),
        ("shipped paper", check_shipped_paper(where / "shipped")),
        ("leases under -n 2", check_leases(where / "leases")),
    ]
    print()
    for name, problems in results:
        print(f"{name}: {'ok' if not problems else 'FAILED'}")
        for problem in problems:
            print(f"  - {problem}")
    return 0 if all(not problems for _, problems in results) else 1


def check_determinism(folder: Path) -> list[str]:
    print("\n== determinism: a run under environment: {deterministic: true} on CUDA")
    make_paper(folder / "papers" / "determinism", "gpu-check-determinism", hold=0)
    problems = pytest_session(folder, ["papers", "--repro-rerun=all"])
    runs = seen_by_runs(folder)
    if not runs:
        return [*problems, "no run wrote what it saw"]
    for run in runs:
        print(
            f"  run pid {run['pid']}: device {run['device']}, on CUDA {run['on_cuda']}, "
            f"CUDA_VISIBLE_DEVICES={run['cuda_visible_devices']!r}, "
            f"CUBLAS_WORKSPACE_CONFIG={run['cublas_workspace_config']!r}, "
            f"use_deterministic_algorithms={run['deterministic_algorithms']}, "
            f"cudnn.deterministic={run['cudnn_deterministic']}, "
            f"cudnn.benchmark={run['cudnn_benchmark']}"
        )
        if not run["on_cuda"]:
            problems.append(
                f"run pid {run['pid']}: its tensor was not on CUDA (ctx.device {run['device']})"
            )
        if not run["deterministic_algorithms"]:
            problems.append("torch.use_deterministic_algorithms was off in a deterministic run")
        if not run["cublas_workspace_config"]:
            problems.append("CUBLAS_WORKSPACE_CONFIG was unset in a deterministic run")
        if len((run["cuda_visible_devices"] or "").split(",")) != 1:
            problems.append(f"a 1-GPU run saw {run['cuda_visible_devices']!r}")
    return problems


def check_shipped_paper(folder: Path) -> list[str]:
    print(f"\n== shipped paper: papers/{SHIPPED} -k {SHIPPED_CLAIM} on one GPU")
    source = ROOT / "papers" / SHIPPED
    copy = folder / "papers" / SHIPPED
    shutil.copytree(
        source, copy, ignore=shutil.ignore_patterns("results.md", "figures", "__pycache__")
    )
    spec = copy / "paper.yaml"
    text = spec.read_text(encoding="utf-8")
    changed = re.sub(r"resources:\s*\{gpus:\s*0\b", "resources: {gpus: 1", text, count=1)
    if changed == text:
        return [f"papers/{SHIPPED}/paper.yaml has no `resources: {{gpus: 0, ...}}` to switch"]
    spec.write_text(changed, encoding="utf-8")
    problems = pytest_session(
        folder, [f"papers/{SHIPPED}", "-k", SHIPPED_CLAIM, "--repro-rerun=all"]
    )
    devices = recorded_devices(folder)
    print(f"  recorded runs by device: {devices or 'none'}")
    if not devices:
        problems.append("no run was recorded")
    elif not all(device.startswith("cuda") for device in devices):
        problems.append(f"runs were recorded on {sorted(devices)}, not only on CUDA")
    return problems


def check_leases(folder: Path) -> list[str]:
    print("\n== leases: two papers, resources: {gpus: 1}, pytest -n 2 --repro-workers=2")
    for name in ("a", "b"):
        make_paper(folder / "papers" / name, f"gpu-check-leases-{name}", hold=2)
    problems = pytest_session(
        folder, ["papers", "-n", "2", "--dist", "load", "--repro-workers=2", "--repro-rerun=all"]
    )
    runs = seen_by_runs(folder)
    print(f"  {len(runs)} runs; devices seen: {sorted({r['cuda_visible_devices'] for r in runs})}")
    if len(runs) != 6:
        problems.append(f"expected 6 runs to write what they saw, found {len(runs)}")
    concurrent = 0
    for one, other in itertools.combinations(runs, 2):
        overlap = one["start"] < other["end"] and other["start"] < one["end"]
        if not overlap:
            continue
        if one["cuda_visible_devices"] == other["cuda_visible_devices"]:
            problems.append(
                f"runs pid {one['pid']} and pid {other['pid']} held device "
                f"{one['cuda_visible_devices']} at the same time"
            )
        else:
            concurrent += 1
    print(f"  pairs of runs that ran at once on different devices: {concurrent}")
    for lease_file in sorted((folder / ".repro" / "locks").glob("gpu-*.json")):
        holders = json.loads(lease_file.read_text(encoding="utf-8") or "[]")
        if holders:
            problems.append(f"{lease_file.name} still lists {holders} after the session")
    return problems


def make_paper(folder: Path, paper_id: str, hold: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(SEEING, encoding="utf-8")
    (folder / "paper.yaml").write_text(SPEC.format(paper_id=paper_id, hold=hold), "utf-8")


def pytest_session(folder: Path, args: list[str]) -> list[str]:
    """Run pytest in ``folder`` (plugin on, the folder its own rootdir); print the tail of
    its output; a problem when it did not exit 0."""
    command = [sys.executable, "-m", "pytest", *args, "-v", "-p", "no:cacheprovider"]
    command += ["--rootdir", str(folder), "-c", os.devnull]
    print("  $ python " + " ".join(command[1:]))
    try:
        done = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=PYTEST_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return [f"pytest did not finish within {PYTEST_TIMEOUT}s"]
    tail = (done.stdout + done.stderr).strip().splitlines()[-25:]
    print(textwrap.indent("\n".join(tail), "  | "))
    return [] if done.returncode == 0 else [f"pytest exited {done.returncode}"]


def seen_by_runs(folder: Path) -> list[dict[str, Any]]:
    runs = []
    for path in sorted((folder / ".repro" / "runs").glob("*/seen.json")):
        try:
            runs.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
    return runs


def recorded_devices(folder: Path) -> dict[str, int]:
    """How many recorded runs ran on each device, from the ledger's evidence."""
    ledger = folder / ".repro" / "ledger.sqlite"
    if not ledger.exists():
        return {}
    db = sqlite3.connect(ledger)
    try:
        rows = db.execute("select evidence from runs where status = 'ok'").fetchall()
    finally:
        db.close()
    counts: dict[str, int] = {}
    for (evidence,) in rows:
        try:
            device = json.loads(evidence)["key"]["environment"]["device"]
        except (ValueError, KeyError, TypeError):
            device = "unknown"
        counts[str(device)] = counts.get(str(device), 0) + 1
    return counts


if __name__ == "__main__":
    sys.exit(main())
