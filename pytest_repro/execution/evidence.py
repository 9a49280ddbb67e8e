"""What a worker adds to a run's evidence around the run: the environment fingerprint,
torch's versions and, where CUDA is in use, the run's peak allocated CUDA memory; and
the paper folder's git commit and dirty state (:func:`git_info`, asked by the parent).

Standard library only at load time, like the worker that imports it; torch is read from
``sys.modules`` when the run imported it, never imported here.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from pytest_repro.execution.protocol import Task


def _cuda() -> Any:
    """``torch.cuda`` when torch is already imported and CUDA initialised, else None."""
    torch = sys.modules.get("torch")
    cuda = getattr(torch, "cuda", None) if torch is not None else None
    try:
        return cuda if cuda is not None and cuda.is_initialized() else None
    except Exception:
        return None


def reset_cuda_peak() -> None:
    """Start the CUDA peak-memory count afresh, so the next run's maximum is its own."""
    cuda = _cuda()
    if cuda is not None:
        with contextlib.suppress(Exception):
            cuda.reset_peak_memory_stats()


def cuda_max_allocated() -> int | None:
    """``torch.cuda.max_memory_allocated()`` in bytes, or None without torch and CUDA."""
    cuda = _cuda()
    if cuda is None:
        return None
    try:
        return int(cuda.max_memory_allocated())
    except Exception:
        return None


def after_run_evidence(task: Task) -> dict[str, Any]:
    """The environment fingerprint of the task's packages, torch's versions and CUDA's peak."""
    packages = tuple(task.get("packages") or ())
    out: dict[str, Any] = {}
    try:
        from pytest_repro import environment

        out["environment"] = environment.cached_fingerprint(packages)
    except Exception as exc:
        out["environment_error"] = f"{type(exc).__name__}: {exc}"
    torch = sys.modules.get("torch")
    if torch is not None:
        out["torch"] = {
            "version": getattr(torch, "__version__", None),
            "cuda": getattr(torch.version, "cuda", None),
            "cudnn": torch.backends.cudnn.version()
            if torch.backends.cudnn.is_available()
            else None,
            "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        }
    out["cuda_max_allocated"] = cuda_max_allocated()
    return out


def git(folder: Path, *args: str) -> str | None:
    """``git args`` run in ``folder``: its output, stripped; None without git or on an error."""
    program = shutil.which("git")
    if program is None:
        return None
    try:
        out = subprocess.run(
            [program, *args], cwd=folder, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_info(folder: Path) -> dict[str, Any]:
    """Commit and dirty flags of the repository holding ``folder`` (``available: False`` without git)."""
    commit = git(folder, "rev-parse", "HEAD")
    if commit is None:
        return {"available": False}
    status = git(folder, "status", "--porcelain", "--untracked-files=normal", "--", ".")
    repo_status = git(folder, "status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit,
        "paper_dirty": bool(status),
        "dirty": bool(repo_status),
        "changed": (status or "").splitlines()[:20],
    }


__all__ = ["after_run_evidence", "cuda_max_allocated", "git", "git_info", "reset_cuda_peak"]
