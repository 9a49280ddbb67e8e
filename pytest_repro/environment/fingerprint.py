"""The fingerprint of a run's environment: python, platform, CPU, GPUs, CUDA and package
versions, for a run's evidence, and the part of it that goes into a run's cache key.

- :func:`fingerprint` describes this process's environment; :func:`cached_fingerprint`
  computes it once per process.
- :func:`visible_gpus` and :func:`device_kind` find the NVIDIA GPUs a run may use.
- :func:`cache_fields` is what of a fingerprint can change a result.

Worker processes compute fingerprints, also in a paper's isolated environment, where
only the standard library and the paper's own packages exist: this module imports
nothing else. GPUs are found with ``nvidia-smi``, versions with ``importlib.metadata``;
torch is never imported.
"""

from __future__ import annotations

import copy
import csv
import functools
import importlib.metadata
import os
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_repro.environment.versions import canonicalize_name
from pytest_repro.errors import EnvironmentDrift

#: Packages whose versions every fingerprint records.
BASE_PACKAGES: tuple[str, ...] = ("numpy", "torch", "scipy")

#: Environment variables that change numerics or device selection; recorded when set.
RECORDED_ENV: tuple[str, ...] = (
    "CUBLAS_WORKSPACE_CONFIG",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "PYTHONHASHSEED",
    "CUDA_VISIBLE_DEVICES",
)

_SMI_TIMEOUT = 10.0


# -- fingerprint --------------------------------------------------------------------------


def fingerprint(packages: Iterable[str] = ()) -> dict[str, Any]:
    """Describe this process's environment (JSON-able), for a run's evidence.

    Keys: ``python`` (full version), ``implementation``, ``executable``,
    ``platform``, ``system``, ``machine``, ``cpu`` (model), ``cpu_count``,
    ``cpu_affinity`` (CPUs this process may use), ``gpus`` (visible GPUs, in CUDA
    order: ``index``, ``name``, ``memory_mib``, ``driver``, ``uuid``), ``cuda``,
    ``packages`` (canonical name → installed version or None) and ``env``.

    ``cuda`` comes from torch (``runtime``, ``cudnn``) only when torch is already
    imported; otherwise from ``nvidia-smi``, whose figure is the highest CUDA version
    the *driver* supports (``driver_cuda``), not the runtime a run uses. It is None
    without either. Computing this never imports torch.
    """
    names = _package_names(packages)
    gpus = visible_gpus()
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": _cpu_affinity(),
        "gpus": gpus,
        "cuda": _cuda_info(),
        "packages": {name: installed_version(name) for name in names},
        "env": {name: os.environ[name] for name in RECORDED_ENV if name in os.environ},
    }


def cached_fingerprint(packages: Iterable[str] = ()) -> dict[str, Any]:
    """:func:`fingerprint`, computed once per process for each set of package names.

    A copy is returned, so callers may change it. Whatever changes later in the
    process (torch imported, environment variables set) is not seen; call
    :func:`fingerprint` for a fresh look.
    """
    return copy.deepcopy(_fingerprint_once(tuple(_package_names(packages))))


@functools.lru_cache(maxsize=32)
def _fingerprint_once(names: tuple[str, ...]) -> dict[str, Any]:
    return fingerprint(names)


def _package_names(packages: Iterable[str]) -> list[str]:
    if isinstance(packages, str):
        raise TypeError("packages is a list of distribution names, not one string")
    return sorted({canonicalize_name(name) for name in (*BASE_PACKAGES, *packages)})


def installed_version(name: str) -> str | None:
    """The installed version of distribution ``name`` (no import), or None."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        pass
    alt = canonicalize_name(name).replace("-", "_")
    if alt == name:
        return None
    try:
        return importlib.metadata.version(alt)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    for key in ("model name", "Hardware", "cpu model", "Model", "cpu"):
        match = re.search(rf"^{key}\s*:\s*(.+)$", text, re.MULTILINE)
        if match and match.group(1).strip():
            return match.group(1).strip()
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                timeout=_SMI_TIMEOUT,
                check=False,
            )
            if out.returncode == 0 and out.stdout.strip():
                return out.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return platform.processor() or platform.machine() or "unknown"


def _cpu_affinity() -> int | None:
    getter = getattr(os, "sched_getaffinity", None)
    if getter is None:
        return os.cpu_count()
    return len(getter(0))


# -- GPUs ---------------------------------------------------------------------------------


def visible_gpus() -> list[dict[str, Any]]:
    """The NVIDIA GPUs this process may use, in CUDA's order (``index`` is the
    physical index ``nvidia-smi`` reports; position *i* in the list is ``cuda:i``).

    ``CUDA_VISIBLE_DEVICES`` is respected (indices or ``GPU-`` uuid prefixes; CUDA
    stops at the first entry it cannot match). Empty without ``nvidia-smi``.
    """
    binary = shutil.which("nvidia-smi")
    if binary is None:
        return []
    gpus = _query_gpus(binary)
    return [dict(gpu) for gpu in _filter_visible(gpus, os.environ.get("CUDA_VISIBLE_DEVICES"))]


@functools.lru_cache(maxsize=8)
def _query_gpus(binary: str) -> tuple[Mapping[str, Any], ...]:
    fields = "index,name,memory.total,driver_version,uuid"
    try:
        out = subprocess.run(
            [binary, f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=_SMI_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    if out.returncode != 0:
        return ()
    gpus: list[Mapping[str, Any]] = []
    for row in csv.reader(out.stdout.splitlines(), skipinitialspace=True):
        if len(row) < 5:
            continue
        index, name, memory, driver, uuid = (cell.strip() for cell in row[:5])
        gpus.append(
            {
                "index": int(index) if index.isdigit() else index,
                "name": name,
                "memory_mib": int(memory) if memory.isdigit() else memory,
                "driver": driver,
                "uuid": uuid,
            }
        )
    return tuple(gpus)


@functools.lru_cache(maxsize=8)
def _driver_cuda_version(binary: str) -> str | None:
    try:
        out = subprocess.run(
            [binary], capture_output=True, text=True, timeout=_SMI_TIMEOUT, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"CUDA Version:\s*([0-9.]+)", out.stdout)
    return match.group(1) if match else None


def _filter_visible(
    gpus: Sequence[Mapping[str, Any]], visible: str | None
) -> list[Mapping[str, Any]]:
    if visible is None:
        return list(gpus)
    chosen: list[Mapping[str, Any]] = []
    for entry in (part.strip() for part in visible.split(",")):
        if entry.isdigit():
            match = [g for g in gpus if g["index"] == int(entry)]
        elif entry.startswith("GPU-"):
            match = [g for g in gpus if str(g["uuid"]).startswith(entry)]
        else:  # "", "-1", MIG ids: CUDA stops here
            match = []
        if len(match) != 1 or match[0] in chosen:
            break
        chosen.append(match[0])
    return chosen


def _cuda_info() -> dict[str, Any] | None:
    tm = sys.modules.get("torch")
    version = getattr(tm, "version", None)
    if tm is not None and version is not None:
        runtime = getattr(version, "cuda", None)
        cudnn: int | None = None
        if runtime is not None:
            try:
                if tm.backends.cudnn.is_available():
                    cudnn = int(tm.backends.cudnn.version())
            except Exception:  # a broken cuDNN install must not break the evidence
                cudnn = None
        return {"source": "torch", "runtime": runtime, "cudnn": cudnn}
    binary = shutil.which("nvidia-smi")
    driver_cuda = _driver_cuda_version(binary) if binary else None
    if driver_cuda is None:
        return None
    return {
        "source": "nvidia-smi",
        "driver_cuda": driver_cuda,
        "note": "the highest CUDA version the driver supports, not the runtime a run uses",
    }


def _fake_count(text: str) -> int:
    """How many devices ``PYTEST_REPRO_FAKE_GPUS`` lists: ``8x80GiB`` or ``0:80GiB,1:40GiB``."""
    many = re.fullmatch(r"\s*(\d+)\s*x\s*\S+\s*", text)
    return int(many.group(1)) if many else len([p for p in text.split(",") if p.strip()])


def device_kind(gpus: int) -> str:
    """``"cpu"`` for ``gpus=0``, else ``"cuda:<model>"`` of the visible GPUs a run with
    that many GPUs gets (``"cuda:NVIDIA H100 80GB HBM3"``; distinct models are joined
    with ``+``). Uses ``nvidia-smi``, never torch.

    Raises :class:`EnvironmentDrift` when fewer GPUs are visible than asked for.
    """
    if gpus < 0:
        raise ValueError(f"gpus={gpus}: a GPU count is >= 0")
    if gpus == 0:
        return "cpu"
    fake = os.environ.get("PYTEST_REPRO_FAKE_GPUS")
    if fake is not None:  # a simulated inventory (execution/gpus.py reads its sizes)
        count = _fake_count(fake)
        if count < gpus:
            raise EnvironmentDrift(
                f"resources.gpus={gpus}, but the simulated inventory (PYTEST_REPRO_FAKE_GPUS) "
                f"has {count}\n    fix: list more devices, or lower resources.gpus"
            )
        return "cuda:simulated"
    visible = visible_gpus()
    if len(visible) < gpus:
        where = os.environ.get("CUDA_VISIBLE_DEVICES")
        detail = f" (CUDA_VISIBLE_DEVICES={where!r})" if where is not None else ""
        raise EnvironmentDrift(
            f"resources.gpus={gpus}, but {len(visible)} NVIDIA GPU(s) are visible{detail}\n"
            "    fix: run on a machine with enough GPUs (nvidia-smi must list them), "
            "or lower resources.gpus in paper.yaml"
        )
    models = sorted({str(gpu["name"]) for gpu in visible[:gpus]})
    return "cuda:" + "+".join(models)


# -- cache key ----------------------------------------------------------------------------


def cache_fields(fp: Mapping[str, Any], *, device_kind: str) -> dict[str, Any]:
    """The part of a fingerprint that can change a result, for a run's cache key.

    In:
    - ``python`` major.minor and ``implementation``: the interpreter (hash and float
      formatting details, stdlib algorithms) changes between minor versions;
      patch releases are bug fixes and would only split the ledger.
    - ``machine`` (x86_64, arm64): different SIMD kernels and libm give different
      floating-point results.
    - ``packages``: every recorded version; ``torch`` includes its build
      (``2.4.0+cu121``), which fixes the CUDA runtime and cuDNN it ships with.
    - ``device``: CPU or the GPU model; cuBLAS/cuDNN pick kernels per architecture.

    Out (recorded in the evidence, so a gap can still be traced to them):
    - CPU model: BLAS kernels dispatch on the instruction set, so x86 CPUs agree
      bitwise only sometimes; keying on the model would refuse every cached run on
      each new CI runner for differences at rounding level, which the seed
      statistics absorb.
    - OS, platform string, driver version, GPU memory, CPU count: they do not change
      the arithmetic of a run (thread counts do, but those are set per run by the
      executor and belong to the run's own key).
    - ``cuda`` (runtime/cuDNN): it is only known when torch happened to be imported
      before the fingerprint, so keying on it would make the key depend on import
      order; the torch build string carries it.
    - environment variables: the executor sets them per run.
    """
    version = str(fp["python"]).split(".")
    return {
        "python": ".".join(version[:2]),
        "implementation": fp["implementation"],
        "machine": fp["machine"],
        "packages": dict(sorted(dict(fp.get("packages", {})).items())),
        "device": device_kind,
    }
