"""The software stack and hardware of a run: recorded, compared with the paper's pins,
and, on request, rebuilt in isolation.

- :func:`fingerprint` describes this process's environment for a run's evidence
  (python, platform, CPU, GPUs, CUDA, package versions, the environment variables
  that change numerics). :func:`cached_fingerprint` computes it once per process.
- :func:`cache_fields` is the part of it that goes into a run's cache key.
- :func:`check_environment` compares the installed environment with the paper's
  ``environment:`` section (python, ``requires``, ``lockfile``, ``cuda``) and lists
  the :class:`Drift`; :func:`format_drift_table` shows them side by side.
- :func:`isolated_python` builds a virtual environment from the paper's lockfile
  with ``uv`` (once, shared by every process that asks) and returns its interpreter.

Nothing here imports torch: GPUs are found with ``nvidia-smi``, versions with
``importlib.metadata``.
"""

from __future__ import annotations

import copy
import csv
import functools
import hashlib
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pytest_repro.errors import (
    EnvironmentBuildError,
    EnvironmentDrift,
    Problem,
    ReproWarning,
    SpecError,
)
from pytest_repro.spec.schema import EnvironmentSpec, Location

if TYPE_CHECKING:  # packaging is imported where it is used: fingerprints run in isolated
    from packaging.requirements import Requirement  # envs that may not have it


def canonicalize_name(name: str) -> str:
    """PEP 503 normalised distribution name (what ``packaging.utils.canonicalize_name`` does)."""
    return re.sub(r"[-_.]+", "-", name).lower()


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

DriftKind = Literal["python", "requires", "lockfile", "cuda"]

_SMI_TIMEOUT = 10.0
_UV_TIMEOUT = 3600.0
_OUTPUT_TAIL_LINES = 40
_ENV_MARKER = "repro-env.json"
_ENV_FORMAT = 1  # bump to invalidate every cached environment


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


# -- requirements and lockfiles -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Pin:
    """One exact pin of a lockfile: ``name`` (canonical) ``==`` ``version``."""

    name: str
    version: str
    operator: Literal["==", "==="] = "=="
    marker: str | None = None
    loc: Location

    def applies(self) -> bool:
        """False when its environment marker excludes this interpreter/platform."""
        from packaging.markers import Marker

        return self.marker is None or Marker(self.marker).evaluate()

    def matches(self, installed: str) -> bool:
        if self.operator == "===":
            return installed == self.version
        return _contains(f"=={self.version}", installed)


#: Index options say where packages come from, not which versions: ignored when checking.
_IGNORED_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--no-index",
        "--trusted-host",
        "--pre",
        "--prefer-binary",
        "--only-binary",
        "--no-binary",
    }
)
_LOCK_FIX = (
    "a lockfile lists every package as `name==version` (optionally with --hash options); "
    "write one with `uv pip compile requirements.in -o requirements.lock` or `pip freeze`"
)


def is_pylock(path: Path | str) -> bool:
    """True for PEP 751 lockfiles: ``pylock.toml`` or ``pylock.<name>.toml``."""
    name = Path(path).name
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


def read_lockfile(
    path: Path, *, display: str | None = None, origin: Location | None = None
) -> tuple[Pin, ...]:
    """The pins of a lockfile: requirements style, or ``pylock.toml`` (PEP 751).

    Requirements style, one rule: every requirement line is an exact pin
    (``name==version`` or ``name===version``, extras and markers allowed, ``--hash``
    options allowed); blank lines and ``#`` comments are skipped and ``\\``
    continues a line; index options (``--index-url``, ``--extra-index-url``,
    ``--find-links``, ``--no-index``, ``--trusted-host``, ``--pre``, binary
    preferences) are ignored because they say where packages come from, not
    which; any other option (``-r``, ``-c``, ``-e``, ...) is an error because the
    lock would then depend on something other than this file.

    ``display`` is the path shown in errors (default: ``path``); ``origin`` is where
    paper.yaml names the lockfile, shown when the file cannot be read.
    """
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(
            [
                Problem(
                    origin.path if origin else shown,
                    origin.line if origin else 0,
                    "environment.lockfile",
                    f"cannot read {shown}: {exc.strerror or exc}",
                    "create the lockfile next to paper.yaml (e.g. `uv pip freeze > "
                    f"{Path(shown).name}`), or remove `lockfile:`",
                )
            ]
        ) from None
    if is_pylock(path):
        return _read_pylock(text, shown)
    return _read_requirements(text, shown)


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """(first line number, text) of each line after joining ``\\`` continuations and
    dropping comments and blank lines."""
    start = 0
    parts: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not parts:
            start = number
        if line.endswith("\\"):
            parts.append(line[:-1])
            continue
        parts.append(line)
        joined = " ".join(p.strip() for p in parts).strip()
        parts = []
        if joined:
            yield start, joined
    if parts:
        joined = " ".join(p.strip() for p in parts).strip()
        if joined:
            yield start, joined


def _read_requirements(text: str, shown: str) -> tuple[Pin, ...]:
    pins: list[Pin] = []
    seen: dict[str, int] = {}
    for line_no, line in _logical_lines(text):

        def fail(message: str, fix: str = _LOCK_FIX, line_no: int = line_no) -> SpecError:
            return SpecError([Problem(shown, line_no, "", message, fix)])

        if line.startswith("-"):
            option = re.split(r"[\s=]", line, maxsplit=1)[0]
            if option in _IGNORED_OPTIONS:
                continue
            raise fail(
                f"option {option} is not allowed in a lockfile: it makes the pins depend on "
                "something other than this file",
                "inline the pins here (each `name==version`); index options such as "
                "--index-url are allowed",
            )
        split = re.search(r"\s+(?=--?[A-Za-z])", line)
        requirement_text = line[: split.start()] if split else line
        options = line[split.end() :] if split else ""
        for option in re.findall(r"--?[A-Za-z][\w-]*", options):
            if option != "--hash":
                raise fail(f"option {option} is not allowed on a requirement line")
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            req = Requirement(requirement_text)
        except InvalidRequirement as exc:
            raise fail(f"{requirement_text!r} is not a requirement: {exc}") from None
        specs = list(req.specifier)
        if (
            req.url
            or len(specs) != 1
            or specs[0].operator not in ("==", "===")
            or ("*" in specs[0].version)
        ):
            raise fail(f"{requirement_text!r} is not an exact pin")
        name = canonicalize_name(req.name)
        marker = str(req.marker) if req.marker else None
        if name in seen and marker is None:
            raise fail(
                f"{req.name} is pinned twice (first on line {seen[name]})",
                "keep one pin per package",
            )
        seen.setdefault(name, line_no)
        operator: Literal["==", "==="] = "===" if specs[0].operator == "===" else "=="
        pins.append(
            Pin(
                name=name,
                version=specs[0].version,
                operator=operator,
                marker=marker,
                loc=Location(shown, line_no),
            )
        )
    return tuple(pins)


def _read_pylock(text: str, shown: str) -> tuple[Pin, ...]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - python 3.10
        try:
            import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
        except ModuleNotFoundError:
            raise SpecError(
                [
                    Problem(
                        shown,
                        0,
                        "",
                        "reading pylock.toml on python 3.10 needs tomli",
                        "pip install tomli, or use a requirements-style lockfile",
                    )
                ]
            ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise SpecError(
            [
                Problem(
                    shown,
                    int(match.group(1)) if match else 0,
                    "",
                    f"not valid TOML: {exc}",
                    "fix the syntax, or regenerate it with `uv export --format pylock.toml`",
                )
            ]
        ) from None
    packages = data.get("packages")
    if not isinstance(packages, list):
        raise SpecError(
            [
                Problem(
                    shown,
                    0,
                    "packages",
                    "a pylock.toml needs a [[packages]] array",
                    "regenerate it with `uv export --format pylock.toml -o pylock.toml`",
                )
            ]
        )
    headers = [
        number
        for number, line in enumerate(text.splitlines(), start=1)
        if re.match(r"^\s*\[\[\s*packages\s*\]\]\s*(#.*)?$", line)
    ]
    pins: list[Pin] = []
    for index, package in enumerate(packages):
        line_no = headers[index] if index < len(headers) else 0
        name = package.get("name") if isinstance(package, dict) else None
        version = package.get("version") if isinstance(package, dict) else None
        if not isinstance(name, str) or not isinstance(version, str):
            raise SpecError(
                [
                    Problem(
                        shown,
                        line_no,
                        f"packages[{index}]",
                        "each package needs a string `name` and `version`",
                        "pin every package to a version (a lock for directory or VCS sources "
                        "cannot be checked); regenerate with `uv export --format pylock.toml`",
                    )
                ]
            )
        marker = package.get("marker")
        pins.append(
            Pin(
                name=canonicalize_name(name),
                version=version,
                marker=marker if isinstance(marker, str) else None,
                loc=Location(shown, line_no),
            )
        )
    return tuple(pins)


def parse_requirements(spec: EnvironmentSpec) -> list[tuple[Requirement, Location | None]]:
    """``environment.requires`` as PEP 508 requirements, each with its YAML location."""
    from packaging.requirements import InvalidRequirement, Requirement

    parsed: list[tuple[Requirement, Location | None]] = []
    for index, text in enumerate(spec.requires):
        loc = spec.requires_locs[index] if index < len(spec.requires_locs) else spec.loc
        try:
            parsed.append((Requirement(text), loc))
        except InvalidRequirement as exc:
            raise SpecError(
                [
                    Problem(
                        loc.path if loc else "paper.yaml",
                        loc.line if loc else 0,
                        f"environment.requires[{index}]",
                        f"{text!r} is not a PEP 508 requirement: {exc}",
                        'write it as `name` plus a version specifier, e.g. "torch>=2.1"',
                    )
                ]
            ) from None
    return parsed


def lockfile_display(spec: EnvironmentSpec, paper_dir: Path) -> str:
    """How errors show the lockfile: next to paper.yaml as the user sees it."""
    assert spec.lockfile is not None
    if spec.loc is not None and not Path(spec.lockfile).is_absolute():
        return str(Path(spec.loc.path).parent / spec.lockfile)
    return str(paper_dir / spec.lockfile)


# -- drift --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Drift:
    """One difference between what the paper pins and what is installed.

    ``installed`` is None when the package (or CUDA) is missing.
    """

    name: str
    expected: str
    installed: str | None
    kind: DriftKind
    loc: Location | None = None

    def __str__(self) -> str:
        where = f"{self.loc}: " if self.loc else ""
        return f"{where}{self.name}: expected {self.expected}, installed {self.installed or 'none'}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["loc"] = str(self.loc) if self.loc else None
        return data


def check_environment(
    spec: EnvironmentSpec,
    paper_dir: Path,
    *,
    fp: Mapping[str, Any] | None = None,
    gpus: int | None = None,
) -> list[Drift]:
    """Compare the installed environment with the paper's ``environment:`` section.

    Checks the python version against ``python``, each ``requires`` entry (a missing
    package is a drift; entries whose marker excludes this platform are skipped),
    each pin of ``lockfile``, and ``cuda``. ``fp`` is the fingerprint to check
    (default: this process's); a package it does not list is looked up in this
    interpreter. ``gpus`` is the run's GPU count: with 0 — or None and no GPU in
    ``fp`` — no CUDA is involved, the ``cuda`` pin is skipped and a
    :class:`ReproWarning` says so.
    """
    requirements = parse_requirements(spec)
    pins: tuple[Pin, ...] = ()
    if spec.lockfile is not None:
        pins = read_lockfile(
            paper_dir / spec.lockfile,
            display=lockfile_display(spec, paper_dir),
            origin=spec.loc,
        )
    if fp is None:
        fp = cached_fingerprint([r.name for r, _ in requirements] + [p.name for p in pins])
    packages = dict(fp.get("packages", {}))

    def version_of(name: str) -> str | None:
        key = canonicalize_name(name)
        if key in packages:
            found = packages[key]
            return None if found is None else str(found)
        return installed_version(name)

    drifts: list[Drift] = []
    if spec.python is not None and not _contains(spec.python, str(fp["python"]), spec.loc):
        drifts.append(
            Drift(
                name="python",
                expected=spec.python,
                installed=str(fp["python"]),
                kind="python",
                loc=spec.loc,
            )
        )
    for req, loc in requirements:
        if req.marker is not None and not req.marker.evaluate():
            continue
        installed = version_of(req.name)
        expected = str(req.specifier) or "installed"
        if installed is None or not _contains(str(req.specifier), installed, loc):
            drifts.append(
                Drift(
                    name=req.name, expected=expected, installed=installed, kind="requires", loc=loc
                )
            )
    for pin in pins:
        if not pin.applies():
            continue
        installed = version_of(pin.name)
        if installed is None or not pin.matches(installed):
            drifts.append(
                Drift(
                    name=pin.name,
                    expected=f"{pin.operator}{pin.version}",
                    installed=installed,
                    kind="lockfile",
                    loc=pin.loc,
                )
            )
    if spec.cuda is not None:
        drift = _check_cuda(spec, fp, gpus)
        if drift is not None:
            drifts.append(drift)
    return drifts


def _check_cuda(spec: EnvironmentSpec, fp: Mapping[str, Any], gpus: int | None) -> Drift | None:
    assert spec.cuda is not None
    involved = gpus > 0 if gpus is not None else bool(fp.get("gpus"))
    where = f"{spec.loc}: " if spec.loc else ""
    if not involved:
        warnings.warn(
            ReproWarning(
                f"{where}environment.cuda: {spec.cuda!r} not checked: this run uses no CUDA GPU"
            ),
            stacklevel=3,
        )
        return None
    cuda = fp.get("cuda") or {}
    version: str | None
    if cuda.get("source") == "torch":
        version = cuda.get("runtime")
        shown = version if version is not None else "none (torch is a CPU build)"
    else:
        version = cuda.get("driver_cuda")
        shown = f"{version} (driver's highest)" if version is not None else None
    if version is None or not _contains(spec.cuda, version, spec.loc):
        return Drift(name="cuda", expected=spec.cuda, installed=shown, kind="cuda", loc=spec.loc)
    return None


def _contains(specifier: str, version: str, loc: Location | None = None) -> bool:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    try:
        spec_set = SpecifierSet(specifier)
    except InvalidSpecifier:
        raise SpecError(
            [
                Problem(
                    loc.path if loc else "paper.yaml",
                    loc.line if loc else 0,
                    "environment",
                    f"{specifier!r} is not a version specifier",
                    'write a PEP 440 specifier such as ">=3.10,<3.13"',
                )
            ]
        ) from None
    try:
        return spec_set.contains(Version(version), prereleases=True)
    except InvalidVersion:
        # A version that is not PEP 440 can only match an exact pin written the same way.
        return any(s.operator in ("==", "===") and s.version == version for s in spec_set)


def format_drift_table(drifts: Sequence[Drift]) -> str:
    """An aligned expected-vs-installed table, for error messages and reports::

    where                       kind      name   expected  installed
    papers/x/paper.yaml:12      requires  torch  >=2.1     2.0.1
    papers/x/requirements.lock:3  lockfile  numpy  ==1.26.4  2.4.6
    """
    if not drifts:
        return "no drift: the installed environment matches the pins"
    header = ("where", "kind", "name", "expected", "installed")
    rows = [
        (str(d.loc) if d.loc else "-", d.kind, d.name, d.expected, d.installed or "missing")
        for d in drifts
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    ]
    return "\n".join(lines)


# -- isolation ----------------------------------------------------------------------------


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
    if spec.python is None or _contains(spec.python, here, spec.loc):
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
