"""Seeds without torch: derived seeds, modes, and what seeding without torch touches.

These run whether or not torch is installed; ``test_seeding.py`` covers torch's generators.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_repro.seeding import derive_seed, deterministic_env, seed_everything

ROOT = Path(__file__).resolve().parents[2]


def test_deterministic_env_sets_cublas_workspace_when_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    assert deterministic_env()["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"


def test_unknown_mode_and_bad_seeds_are_rejected() -> None:
    with pytest.raises(ValueError, match="deterministic='yes'"):
        seed_everything(1, deterministic="yes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="derive_seed"):
        seed_everything(2**32)
    with pytest.raises(TypeError):
        seed_everything(True)


def test_torch_false_neither_imports_nor_touches_torch() -> None:
    code = (
        "import sys\n"
        "from pytest_repro.seeding import seed_everything\n"
        "s = seed_everything(5, deterministic='on', torch=False)\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert s.torch is None and s.report.generators == ('python', 'numpy')\n"
        "assert s.report.settings == {}\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60, cwd=ROOT)


def test_derive_seed_is_stable_across_processes_and_32_bit() -> None:
    here = derive_seed("1611.03530", "claim", 3)
    code = (
        "from pytest_repro.seeding import derive_seed; print(derive_seed('1611.03530', 'claim', 3))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "123"}
    there = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=ROOT
    )
    assert int(there.stdout) == here
    assert 0 <= here < 2**32
    assert derive_seed("a", 1) == derive_seed("a", 1) != derive_seed("a", "1")
    assert derive_seed("ab") != derive_seed("a", "b")


def test_derive_seed_is_pinned() -> None:
    # A fixed value guards against an encoding change silently moving every derived seed.
    assert derive_seed("pytest-repro", 0) == 1107003678


def test_derive_seed_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        derive_seed(1.5)  # type: ignore[arg-type]
