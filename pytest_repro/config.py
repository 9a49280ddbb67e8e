"""Session settings: every ``--repro-*`` option, resolved once.

Precedence for each setting: command line > environment variable
``PYTEST_REPRO_<NAME>`` > ini key ``repro_<name>`` > the profile's value >
the built-in default. Checks use ``is None``, never truthiness, so ``0`` and
``""`` given on purpose are kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

from pytest_repro.vocab import (
    CACHE_MODES,
    ENV_POLICIES,
    INCONCLUSIVE_POLICIES,
    METHODS,
    CacheMode,
    EnvPolicy,
    InconclusivePolicy,
    Method,
)

if TYPE_CHECKING:
    from pytest_repro.execution.slurm_settings import ClusterSettings

ExecutorKind = Literal["local", "slurm", "local-jobs"]
#: ``--repro-audit``: a paper's gap audit (where it has a paper.md) warns, fails, or is off.
AuditMode = Literal["warn", "strict", "off"]
AUDIT_MODES: tuple[AuditMode, ...] = ("warn", "strict", "off")
EXECUTORS: tuple[ExecutorKind, ...] = ("local", "slurm", "local-jobs")

PROFILES: Mapping[str, Mapping[str, Any]] = {
    # Real runs, verdicts and reports.
    "full": {},
    # Prove the pipeline end to end: one seed, a tiny step budget, no results.md.
    "smoke": {"smoke": True, "results": False},
    # A gate: drifted environments fail, every verdict must be decided.
    "ci": {"env": "strict", "inconclusive": "fail"},
}


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


@dataclass(frozen=True, slots=True)
class _Option:
    name: str  # the noun: --repro-<name>, repro_<name>, PYTEST_REPRO_<NAME>
    help: str
    choices: tuple[str, ...] | None = None
    flag: bool = False
    ini: bool = True
    multiple: bool = False
    metavar: str | None = None


OPTIONS: tuple[_Option, ...] = (
    _Option(
        "audit",
        "the gap audit of a paper with a paper.md: warn (default), strict (a gap fails) or off",
        choices=AUDIT_MODES,
    ),
    _Option(
        "profile",
        "settings profile: full (default), smoke (one seed, tiny budget) or ci (strict gate)",
        choices=tuple(PROFILES),
    ),
    _Option(
        "smoke",
        "run every claim with a tiny budget (one seed, a few steps) to prove the pipeline",
        flag=True,
    ),
    _Option("smoke-steps", "step budget of a smoke run (default 20)", metavar="N"),
    _Option("json", "write the machine-readable results of all claims to PATH", metavar="PATH"),
    _Option(
        "inconclusive",
        "outcome of an inconclusive verdict: fail (default) or skip",
        choices=INCONCLUSIVE_POLICIES,
    ),
    _Option(
        "rerun",
        "train again instead of reusing recorded runs: all, a paper id or a claim id (repeatable)",
        ini=False,
        multiple=True,
        metavar="WHAT",
    ),
    _Option(
        "cache",
        "reuse of recorded runs: on (default), read (reuse, record nothing), "
        "write (record, never reuse) or off",
        choices=CACHE_MODES,
    ),
    _Option(
        "dir",
        "working folder for the ledger, run folders and locks (default .repro next to pytest's rootdir)",
        metavar="PATH",
    ),
    _Option("ledger", "path of the run ledger (default <repro dir>/ledger.sqlite)", metavar="PATH"),
    _Option(
        "ledger-read",
        "also reuse runs from this ledger, read-only, behind the local one "
        "(e.g. a CI artifact; repeatable)",
        ini=False,
        multiple=True,
        metavar="PATH",
    ),
    _Option(
        "inprocess",
        "run entrypoints inside the pytest process (for --pdb; no isolation)",
        flag=True,
    ),
    _Option(
        "workers",
        "worker processes running in parallel: N or auto (the default: CPUs / xdist workers)",
        metavar="N|auto",
    ),
    _Option(
        "threads", "compute threads per run (default 1; recorded in the evidence)", metavar="N"
    ),
    _Option("deterministic", "force deterministic algorithms in every run (torch)", flag=True),
    _Option(
        "env",
        "environment drift policy: warn (default), strict, off, or isolate (a venv per paper via uv)",
        choices=ENV_POLICIES,
    ),
    _Option(
        "interval",
        "default interval method: auto, t, bootstrap-t, bca, hierarchical, anytime",
        choices=METHODS,
    ),
    _Option(
        "results", "write papers/<id>/results.md: write (default) or off", choices=("write", "off")
    ),
    _Option(
        "sensitivity",
        "also run each claim with the alternatives: listed for assumed config values, and "
        "say in its result how much each guess moves the verdict",
        flag=True,
    ),
    _Option(
        "plan",
        "a dry run: say which runs would execute and why (config, code, data or environment "
        "changed, never run) and estimate their compute; execute nothing",
        flag=True,
    ),
    _Option(
        "progress",
        "while runs execute, print what is in flight every N seconds (default 10), or off",
        metavar="SECONDS",
    ),
    _Option(
        "gpus",
        "which visible GPUs runs may lease: auto (all; an outer CUDA_VISIBLE_DEVICES is "
        "respected), none, or positions into them such as 0,1,3",
        metavar="auto|none|LIST",
    ),
    _Option(
        "shard",
        "run only shard I of N (e.g. 2/4, for a CI matrix): claims that share runs stay "
        "together, and shards are balanced by the compute recorded runs forecast",
        metavar="I/N",
    ),
    _Option(
        "executor",
        "where runs execute: local (worker processes, the default), slurm (a SLURM job per "
        "run, through submitit) or local-jobs (the same jobs as processes on this machine)",
        choices=EXECUTORS,
    ),
    *(
        _Option(f"slurm-{name}", text, metavar=metavar, multiple=name == "setup")
        for name, metavar, text in (
            ("partition", "NAME", "SLURM partition of the jobs (default: the cluster's)"),
            ("account", "NAME", "SLURM account the jobs are charged to"),
            ("time", "DURATION", "a job's time limit where its run has no timeout (default 1h)"),
            ("memory", "SIZE", "a job's memory where its run sets none (default: the cluster's)"),
            ("setup", "LINE", "a shell line each job runs first, e.g. module load cuda"),
            ("max-jobs", "N", "jobs in flight at once, queued or running (default 16)"),
            ("resubmit", "N", "times a job lost to the cluster is sent again (default 2)"),
        )
    ),
    _Option(
        "seed",
        "seed of the repro_seed fixture (default: derived from the test id)",
        ini=False,
        metavar="N",
    ),
    _Option(
        "timeout",
        "default per-run timeout where paper.yaml gives none (e.g. 30m)",
        metavar="DURATION",
    ),
)


def addoptions(parser: pytest.Parser) -> None:
    group = parser.getgroup("repro", "pytest-repro: paper reproductions as tests")
    for opt in OPTIONS:
        kwargs: dict[str, Any] = {"dest": _dest(opt.name), "default": None, "help": opt.help}
        if opt.flag:
            kwargs["action"] = "store_true"
        elif opt.multiple:
            kwargs["action"] = "append"
        if opt.choices:
            kwargs["choices"] = opt.choices
        if opt.metavar:
            kwargs["metavar"] = opt.metavar
        group.addoption(f"--repro-{opt.name}", **kwargs)
        if opt.ini:
            parser.addini(
                f"repro_{opt.name.replace('-', '_')}", opt.help, type="string", default=None
            )
    parser.addini(
        "repro_files",
        "file names collected as paper specs (default: paper.yaml)",
        type="args",
        default=None,
    )


def _dest(name: str) -> str:
    return "repro_" + name.replace("-", "_")


def resolve(config: pytest.Config, environ: Mapping[str, str] | None = None) -> ReproConfig:
    """Resolve every setting into a :class:`ReproConfig`; bad values raise ``pytest.UsageError``."""
    env = os.environ if environ is None else environ

    def raw(name: str) -> tuple[Any, str]:
        opt = next(o for o in OPTIONS if o.name == name)
        value = config.getoption(_dest(name))
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
    rerun = config.getoption(_dest("rerun")) or []
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
    shared = config.getoption(_dest("ledger-read")) or []
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


__all__ = ["PROFILES", "ReproConfig", "addoptions", "describe", "resolve"]
