"""Session settings: every ``--repro-*`` option, resolved once.

Precedence for each setting: command line > environment variable
``PYTEST_REPRO_<NAME>`` > ini key ``repro_<name>`` > the profile's value >
the built-in default. Checks use ``is None``, never truthiness, so ``0`` and
``""`` given on purpose are kept.

The options themselves (flags, ini keys, help, profiles) are declared in
:mod:`pytest_repro.options`; :data:`OPTIONS`, :data:`PROFILES` and :func:`addoptions`
stay importable from here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.options import OPTIONS, PROFILES, addoptions, option_dest
from pytest_repro.vocab import (
    AUDIT_MODES,
    CACHE_MODES,
    ENV_POLICIES,
    EXECUTORS,
    INCONCLUSIVE_POLICIES,
    METHODS,
    AuditMode,
    CacheMode,
    EnvPolicy,
    ExecutorKind,
    InconclusivePolicy,
    Method,
)

if TYPE_CHECKING:
    from pytest_repro.execution.slurm_settings import ClusterSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class ReproConfig:
    """The resolved settings of one pytest session."""

    rootdir: Path
    profile: str = "full"
    smoke: bool = False
    smoke_steps: int = 20
    json_path: Path | None = None
    inconclusive: InconclusivePolicy = "fail"
    rerun: tuple[str, ...] = ()
    cache: CacheMode = "on"
    workdir: Path = Path(".repro")
    ledger: Path = Path(".repro/ledger.sqlite")
    #: ledgers consulted read-only behind ``ledger`` (e.g. one downloaded from CI).
    ledger_read: tuple[Path, ...] = ()
    inprocess: bool = False
    workers: int = 1
    threads: int = 1
    deterministic: bool = False
    env: EnvPolicy = "warn"
    interval: Method = "auto"
    results: bool = True
    files: tuple[str, ...] = ("paper.yaml",)
    timeout: float | None = None
    seed: int | None = None  # of the repro_seed fixture
    #: ``--repro-plan``: plan every item and say what would run and why; execute nothing.
    plan: bool = False
    #: ``--repro-sensitivity``: claims also run with each assumed value's alternatives.
    sensitivity: bool = False
    #: seconds between progress heartbeats while runs execute (``--repro-progress``); 0: none.
    progress: float = 10.0
    #: ``--repro-shard=I/N``: run only shard I (1-based) of N; None: everything.
    shard: tuple[int, int] | None = None
    #: ``--repro-gpus``: ``auto``, ``none`` or positions into the visible devices (``0,1,3``).
    gpus: str = "auto"
    #: ``--repro-executor``, and the job settings of slurm and local-jobs (None: the pool).
    executor: ExecutorKind = "local"
    cluster: ClusterSettings | None = None
    #: ``--repro-audit``: the gap audit item of a paper with a paper.md warns, fails or is off.
    audit: AuditMode = "warn"

    def reruns(self, paper_id: str, claim_id: str) -> bool:
        """Whether ``--repro-rerun`` asks for fresh runs of this claim."""
        return any(r in ("all", paper_id, claim_id, f"{paper_id}::{claim_id}") for r in self.rerun)

    @property
    def reuse(self) -> bool:
        return self.cache in ("on", "read")

    @property
    def record(self) -> bool:
        return self.cache in ("on", "write")


def resolve(config: pytest.Config, environ: Mapping[str, str] | None = None) -> ReproConfig:
    """Resolve every setting into a :class:`ReproConfig`; bad values raise ``pytest.UsageError``."""
    env = os.environ if environ is None else environ

    def raw(name: str) -> tuple[Any, str]:
        opt = next(o for o in OPTIONS if o.name == name)
        value = config.getoption(option_dest(name))
        if value is not None and value is not False:
            return value, f"--repro-{name}"
        env_name = "PYTEST_REPRO_" + name.upper().replace("-", "_")
        if env.get(env_name) not in (None, ""):
            return env[env_name], env_name
        if opt.ini:
            ini = config.getini(f"repro_{name.replace('-', '_')}")
            if ini is not None and ini != "":
                return ini, f"ini repro_{name.replace('-', '_')}"
        return None, ""

    rootdir = Path(config.rootpath)
    profile_value, profile_from = raw("profile")
    profile = str(profile_value) if profile_value is not None else "full"
    if profile not in PROFILES:
        raise pytest.UsageError(
            f"{profile_from}={profile!r}: unknown profile; use one of {', '.join(PROFILES)}"
        )
    values: dict[str, Any] = {"rootdir": rootdir, "profile": profile, **PROFILES[profile]}

    def choice(name: str, choices: tuple[str, ...]) -> None:
        value, origin = raw(name)
        if value is None:
            return
        if value not in choices:
            raise pytest.UsageError(f"{origin}={value!r}: use one of {', '.join(choices)}")
        values[name] = value

    def flag(name: str) -> None:
        value, origin = raw(name)
        if value is None:
            return
        values[name] = _truthy(value, origin)

    def number(name: str, key: str, parse: Callable[[Any], Any], what: str) -> None:
        value, origin = raw(name)
        if value is None:
            return
        parsed = parse(value)
        if parsed is None:
            raise pytest.UsageError(f"{origin}={value!r}: expected {what}")
        values[key] = parsed

    flag("smoke")
    number("smoke-steps", "smoke_steps", _positive_int, "a whole number >= 1")
    choice("inconclusive", INCONCLUSIVE_POLICIES)
    choice("cache", CACHE_MODES)
    choice("env", ENV_POLICIES)
    choice("interval", METHODS)
    choice("executor", EXECUTORS)
    choice("audit", AUDIT_MODES)
    flag("inprocess")
    flag("deterministic")
    flag("plan")
    flag("sensitivity")
    number("threads", "threads", _positive_int, "a whole number >= 1")
    number("seed", "seed", _seed, "a whole number from 0 to 4294967295")
    results, origin = raw("results")
    if results is not None:
        if results not in ("write", "off"):
            raise pytest.UsageError(f"{origin}={results!r}: use write or off")
        values["results"] = results == "write"
    number("timeout", "timeout", _duration, "a duration such as 90s, 30m or 2h")
    number("shard", "shard", _shard, "I/N with 1 <= I <= N, such as 2/4")
    gpus_value, origin = raw("gpus")
    if gpus_value is not None:
        values["gpus"] = _gpus(str(gpus_value).strip(), origin)
    progress, origin = raw("progress")
    if progress is not None:
        text = str(progress).strip().lower()
        try:
            seconds: float | None = 0.0 if text == "off" else float(text)
        except ValueError:
            seconds = _duration(progress)
        if seconds is not None and seconds < 0:
            seconds = None
        if seconds is None:
            raise pytest.UsageError(f"{origin}={progress!r}: expected seconds (e.g. 30) or off")
        values["progress"] = float(seconds)
    rerun = config.getoption(option_dest("rerun")) or []
    env_rerun = env.get("PYTEST_REPRO_RERUN")
    if not rerun and env_rerun:
        rerun = [r for r in env_rerun.split(",") if r]
    values["rerun"] = tuple(rerun)

    workdir_value, _ = raw("dir")
    workdir = _path(rootdir, workdir_value) if workdir_value is not None else rootdir / ".repro"
    values["workdir"] = workdir
    ledger_value, _ = raw("ledger")
    values["ledger"] = (
        _path(rootdir, ledger_value) if ledger_value is not None else workdir / "ledger.sqlite"
    )
    shared = config.getoption(option_dest("ledger-read")) or []
    env_shared = env.get("PYTEST_REPRO_LEDGER_READ")
    if not shared and env_shared:
        shared = [p for p in env_shared.split(os.pathsep) if p]
    values["ledger_read"] = tuple(_path(rootdir, p) for p in shared)
    json_value, _ = raw("json")
    values["json_path"] = (
        _path(Path(config.invocation_params.dir), json_value) if json_value is not None else None
    )

    workers_value, origin = raw("workers")
    if workers_value is not None and str(workers_value).strip().lower() != "auto":
        workers = _positive_int(workers_value)
        if workers is None:
            raise pytest.UsageError(
                f"{origin}={workers_value!r}: expected a whole number >= 1, or auto"
            )
        values["workers"] = workers
    else:
        values["workers"] = default_workers(config)
    if values.get("executor", "local") != "local":
        from pytest_repro.execution.slurm_settings import resolve_cluster

        values.update(resolve_cluster(values, raw, workers_given=workers_value is not None))

    files = config.getini("repro_files")
    if files:
        values["files"] = tuple(files)
    cfg = ReproConfig(**values)
    if cfg.inprocess and cfg.workers > 1:
        cfg = replace(cfg, workers=1)
    if cfg.smoke:
        # A smoke run proves the pipeline; its numbers are not results to publish.
        cfg = replace(cfg, results=False)
    return cfg


def default_workers(config: pytest.Config) -> int:
    """CPUs shared among xdist workers: ``-n 2`` on 8 CPUs gives 4 run processes each."""
    cpus = (
        len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    )
    raw = os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or "0"
    try:
        xdist_workers = int(raw)
    except ValueError:
        raise pytest.UsageError(
            f"PYTEST_XDIST_WORKER_COUNT={raw!r} is not a number of workers; pytest-xdist sets "
            "it on its workers: unset it, or give --repro-workers=N"
        ) from None
    numprocesses = getattr(config.option, "numprocesses", None)
    if not xdist_workers and isinstance(numprocesses, int):
        xdist_workers = numprocesses
    return max(1, cpus // max(1, xdist_workers))


def _truthy(value: Any, origin: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise pytest.UsageError(f"{origin}={value!r}: expected true or false")


def _seed(value: Any) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if 0 <= number < 2**32 else None


def _gpus(text: str, origin: str) -> str:
    """``--repro-gpus`` checked against the visible devices (and ``PYTEST_REPRO_FAKE_GPUS``)."""
    from pytest_repro.execution.gpus import inventory, select

    try:
        select(inventory(), text)
    except ValueError as exc:
        raise pytest.UsageError(
            f"{origin}={text!r}: {exc}; use auto, none, or positions such as 0,1,3"
        ) from None
    return text


def _shard(value: Any) -> tuple[int, int] | None:
    index, sep, count = str(value).strip().partition("/")
    i, n = _positive_int(index), _positive_int(count)
    if not sep or i is None or n is None or i > n:
        return None
    return i, n


def _positive_int(value: Any) -> int | None:
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number if number >= 1 else None


def _duration(value: Any) -> float | None:
    from pytest_repro.spec.fields import parse_duration

    return parse_duration(
        value if not isinstance(value, str) or not value.isdigit() else int(value)
    )


def _path(base: Path, value: Any) -> Path:
    path = Path(os.path.expanduser(str(value)))
    return path if path.is_absolute() else base / path


def describe(cfg: ReproConfig) -> str:
    """One line for the report header: what is needed to rerun with the same settings."""
    parts = [f"profile={cfg.profile}"]
    if cfg.smoke:
        parts.append(f"smoke (budget {cfg.smoke_steps} steps, 1 seed)")
    parts.append(f"cache={cfg.cache}")
    parts.append(f"workers={cfg.workers}x{cfg.threads} thread{'s' if cfg.threads > 1 else ''}")
    parts.append(f"env={cfg.env}")
    parts.append(f"interval={cfg.interval}")
    if cfg.deterministic:
        parts.append("deterministic")
    if cfg.rerun:
        parts.append("rerun=" + ",".join(cfg.rerun))
    if cfg.inprocess:
        parts.append("in-process")
    if cfg.plan:
        parts.append("plan only (nothing executes)")
    if cfg.shard:
        parts.append(f"shard {cfg.shard[0]}/{cfg.shard[1]}")
    if cfg.gpus != "auto":
        parts.append(f"gpus={cfg.gpus}")
    if cfg.cluster is not None:
        parts.append(f"executor={cfg.executor} (at most {cfg.cluster.max_jobs} jobs in flight)")
    return ", ".join(parts)


__all__ = ["OPTIONS", "PROFILES", "ReproConfig", "addoptions", "describe", "resolve"]
