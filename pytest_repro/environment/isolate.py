"""Isolated environments: a virtual environment built with ``uv`` from the paper's
lockfile and ``requires``, once per distinct lock, shared by every process that asks.

:func:`isolated_python` returns the interpreter a paper's runs use under
``--repro-env=isolate``; :func:`env_key` names the cached environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_repro.environment.lockfile import is_pylock, lockfile_display, read_lockfile
from pytest_repro.environment.versions import contains_version
from pytest_repro.errors import EnvironmentBuildError, Problem, SpecError
from pytest_repro.spec.node import Location
from pytest_repro.spec.schema import EnvironmentSpec

_UV_TIMEOUT = 3600.0
_OUTPUT_TAIL_LINES = 40
_ENV_MARKER = "repro-env.json"
_ENV_FORMAT = 1  # bump to invalidate every cached environment


def find_uv() -> str:
    """The ``uv`` executable: on PATH, or the one the ``uv`` Python package ships."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError):
        raise EnvironmentBuildError(
            "isolated environments are built with uv, which is not installed\n"
            "    fix: pip install uv  (or pip install 'pytest-repro[isolate]')"
        ) from None


def env_key(spec: EnvironmentSpec, paper_dir: Path) -> str:
    """The name of the cached environment for this spec: a hash of the lockfile's
    content, the requirements and the python version the environment gets."""
    lock_sha = None
    if spec.lockfile is not None:
        lock = paper_dir / spec.lockfile
        try:
            lock_sha = hashlib.sha256(lock.read_bytes()).hexdigest()
        except OSError:
            lock_sha = None  # reported by isolated_python
    _, python_id = _python_request(spec)
    payload = {
        "format": _ENV_FORMAT,
        "lock": lock_sha,
        "lock_kind": "pylock" if spec.lockfile and is_pylock(spec.lockfile) else "requirements",
        "requires": sorted(spec.requires),
        "python": python_id,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _python_request(spec: EnvironmentSpec) -> tuple[str, str]:
    """(what to pass to ``uv venv --python``, what identifies it in the env key).

    This interpreter when it satisfies ``python`` (or none is given); otherwise the
    specifier itself, and uv finds a matching interpreter."""
    here = platform.python_version()
    impl = platform.python_implementation()
    if spec.python is None or contains_version(spec.python, here, spec.loc):
        base = getattr(sys, "_base_executable", None) or sys.executable
        return str(base), f"{impl}-{here}"
    return spec.python, f"{impl}{spec.python}"


def _env_python(env: Path) -> Path:
    if os.name == "nt":
        return env / "Scripts" / "python.exe"
    return env / "bin" / "python"


def isolated_python(
    spec: EnvironmentSpec,
    paper_dir: Path,
    cache_root: Path,
    *,
    find_links: Sequence[Path] = (),
    offline: bool = False,
) -> Path:
    """Build (once) a virtual environment from the paper's lockfile and ``requires``
    with uv, and return its python interpreter.

    The environment lives in ``cache_root/envs/<key>`` where ``key`` hashes the
    lockfile's content, the requirements and the python version, so a changed lock
    gets a new environment and an unchanged one is reused. Concurrent callers,
    threads or processes, wait on ``<key>.lock`` and the first one builds: into a
    temporary folder that is renamed into place only when complete, so a failed or
    interrupted build leaves nothing half-built.

    ``find_links`` adds local folders of wheels; ``offline=True`` installs only
    from them (``--no-index --offline``) and never downloads a python.

    Raises :class:`SpecError` when there is nothing to install or the lockfile is
    missing, and :class:`EnvironmentBuildError` (with the tail of uv's output) when
    uv is missing or fails.
    """
    if spec.lockfile is None and not spec.requires:
        where = spec.loc or Location("paper.yaml", 0)
        raise SpecError(
            [
                Problem(
                    where.path,
                    where.line,
                    "environment",
                    "an isolated environment needs a lockfile or requires to install",
                    "add `lockfile: requirements.lock` (name==version lines) to `environment:`",
                )
            ]
        )
    lock_path: Path | None = None
    if spec.lockfile is not None:
        lock_path = (paper_dir / spec.lockfile).resolve()
        read_lockfile(  # validate before building
            lock_path, display=lockfile_display(spec, paper_dir), origin=spec.loc
        )
    key = env_key(spec, paper_dir)
    envs = Path(cache_root) / "envs"
    final = envs / key
    python = _env_python(final)
    if (final / _ENV_MARKER).is_file() and python.exists():
        return python

    from filelock import FileLock

    envs.mkdir(parents=True, exist_ok=True)
    with FileLock(str(envs / f"{key}.lock")):
        if (final / _ENV_MARKER).is_file() and python.exists():
            return python
        if final.exists():  # no marker: a build that never finished
            shutil.rmtree(final)
        scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=envs))
        try:
            built = scratch / "env"
            what = lockfile_display(spec, paper_dir) if spec.lockfile else "environment.requires"
            record = _build_env(
                find_uv(), built, spec, lock_path, what, find_links=find_links, offline=offline
            )
            record["key"] = key
            (built / _ENV_MARKER).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
            os.replace(built, final)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return python


def _build_env(
    uv: str,
    venv: Path,
    spec: EnvironmentSpec,
    lock_path: Path | None,
    what: str,
    *,
    find_links: Sequence[Path],
    offline: bool,
) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    source_args: list[str] = []
    if offline:
        env["UV_PYTHON_DOWNLOADS"] = "never"
        source_args += ["--offline", "--no-index"]
    for folder in find_links:
        source_args += ["--find-links", str(Path(folder).resolve())]
    request, python_id = _python_request(spec)
    started = time.perf_counter()
    venv_args = ["--offline"] if offline else []
    _run_uv([uv, "venv", "--relocatable", "--python", request, str(venv), *venv_args], env, what)
    python = _env_python(venv)
    install = [uv, "pip", "install", "--python", str(python), *source_args]
    if lock_path is not None:
        install += ["-r", str(lock_path)]
    install += list(spec.requires)
    _run_uv(install, env, what)
    freeze = _run_uv([uv, "pip", "freeze", "--python", str(python)], env, what)
    return {
        "python": python_id,
        "lockfile": str(lock_path) if lock_path else None,
        "requires": list(spec.requires),
        "installed": [line for line in freeze.splitlines() if line.strip()],
        "build_seconds": round(time.perf_counter() - started, 3),
    }


def _run_uv(command: list[str], env: Mapping[str, str], what: str) -> str:
    try:
        out = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=dict(env),
            timeout=_UV_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentBuildError(
            f"building the isolated environment for {what} failed: "
            f"`uv {' '.join(command[1:3])}`: {exc}"
        ) from None
    if out.returncode != 0:
        tail = "\n".join((out.stdout + out.stderr).strip().splitlines()[-_OUTPUT_TAIL_LINES:])
        raise EnvironmentBuildError(
            f"building the isolated environment for {what} failed: `uv {' '.join(command[1:3])}` "
            f"exited with {out.returncode}\n{tail}\n"
            "    fix: check that every pin of the lockfile exists for this python and "
            "platform (and, offline, that its wheels are in the find-links folders)"
        )
    return out.stdout
