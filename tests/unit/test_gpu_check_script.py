"""benchmarks/gpu_check.py, where no CUDA device is present, says so and succeeds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.py"


def test_the_gpu_check_says_nothing_was_checked_and_exits_0_without_a_device() -> None:
    if shutil.which("nvidia-smi"):
        pytest.skip("nvidia-smi is present: the script would check the GPUs")
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[-1] == "no CUDA device: nothing checked"
    assert "torch" in done.stdout
