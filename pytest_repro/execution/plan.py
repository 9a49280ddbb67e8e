"""Planning runs: one :class:`RunRequest` per (variant, seed), each with its cache key.

The cache key hashes everything that can change a run's result — the paper
folder's code, the resolved config, the seed, the data sources' identities, the
environment fields that matter, threads, determinism and the smoke budget —
and nothing that cannot (a claim's tolerance, the paper's prose). Two claims on
the same variant therefore share runs, and editing a claim never re-trains.
"""

from __future__ import annotations

import fnmatch
import hashlib
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.config import ReproConfig
from pytest_repro.execution import startup, treehash, upstream
from pytest_repro.execution.protocol import SanityTask, Task
from pytest_repro.records import dumps
from pytest_repro.spec.claim_nodes import Variant
from pytest_repro.spec.schema import PaperSpec
from pytest_repro.spec.serial import data_source_to_json
from pytest_repro.vocab import Deterministic

KEY_VERSION = 1
#: Not part of a paper's code: specs and prose are read by the plugin, not by runs, and
#: what runs write (logs, checkpoints, output folders) must not invalidate the runs themselves.
_SKIP_DIRS = {
    "__pycache__",
    ".repro",
    ".git",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "node_modules",
    "outputs",
    "runs",
    "wandb",
    "lightning_logs",
    "checkpoints",
    "mlruns",
    "tests",
}
_SKIP_SUFFIXES = (".pyc", ".pyo", ".md", ".log", ".pt", ".pth", ".ckpt")
_SKIP_FILES = {"paper.yaml", "conftest.py"}
#: Ordinary pytest tests next to a paper check it; editing them must not retrain it.
_TEST_FILES = ("test_*.py", "*_test.py")
IGNORE_FILE = ".reproignore"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRequest:
    """One run to obtain: from the ledger when its key is recorded, else by executing it."""

    spec: PaperSpec
    variant: Variant
    config: Mapping[str, Any]
    variant_key: str
    seed: int
    cache_key: str
    key_fields: Mapping[str, Any]
    smoke: bool = False
    max_steps: int | None = None
    threads: int = 1
    deterministic: Deterministic = "off"
    timeout: float | None = None
    python: str = sys.executable
    force: bool = False
    purpose: str = ""
    packages: tuple[str, ...] = ()
    gpus: int = 0
    memory: int | None = None
    #: GPU memory to hold on each leased device (``resources.gpu_memory``); None: whole.
    gpu_memory: int | None = None
    #: the identity of each ``upstream:`` entry (version, files, commit, dirty state).
    upstream: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.spec.paper.id} [{self.variant.describe()}] seed {self.seed}"


def variant_key(config: Mapping[str, Any]) -> str:
    """A short stable name for a resolved config."""
    return hashlib.sha256(dumps(config).encode()).hexdigest()[:10]


def code_hash(folder: Path) -> str:
    """sha256 over the relative paths and contents of the paper folder's files.

    Skips ``paper.yaml``, Markdown (``results.md``, ``README.md``), caches, hidden
    files, logs, checkpoints, the report's ``figures/*.svg``, the usual output folders and pytest tests (``test_*.py``,
    ``conftest.py``, ``tests/``), so regenerating a report, a run writing its outputs or
    editing a test never invalidates runs. A ``.reproignore`` file in the
    folder adds glob patterns (one per line, matched against paths relative to the folder).
    """
    return treehash.sha256_files(folder, _code_files(folder))


def _code_files(folder: Path) -> list[Path]:
    """The folder's code files, through symlinks (a folder reached twice is walked once)."""
    patterns = _ignore_patterns(folder)

    def keep_file(name: str, rel: str) -> bool:
        if name.startswith(".") or name in _SKIP_FILES or name.endswith(_SKIP_SUFFIXES):
            return False
        if rel.startswith("figures/") and name.endswith(".svg"):
            return False  # the report's figures, written next to results.md
        if any(fnmatch.fnmatch(name, pattern) for pattern in _TEST_FILES):
            return False
        return not any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) for p in patterns)

    return treehash.walk(
        folder,
        keep_dir=lambda d: d not in _SKIP_DIRS and not d.startswith("."),
        keep_file=keep_file,
    )


def _ignore_patterns(folder: Path) -> list[str]:
    path = folder / IGNORE_FILE
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def requirement_names(spec: PaperSpec) -> tuple[str, ...]:
    """Distribution names the paper pins, for the environment fingerprint."""
    if not spec.environment.requires:
        return ()
    from packaging.requirements import InvalidRequirement, Requirement

    names = []
    for text in spec.environment.requires:
        try:
            names.append(Requirement(text).name)
        except InvalidRequirement:
            continue
    return tuple(sorted(set(names)))


class Planner:
    """Builds :class:`RunRequest` s; caches per-session facts (code hashes, fingerprints)."""

    def __init__(self, cfg: ReproConfig, *, report_only: bool = False) -> None:
        """``report_only``: plan runs only to look them up (no device query, no venv build)."""
        self.cfg = cfg
        self.report_only = report_only
        self._code: dict[Path, str] = {}
        self._data: dict[Path, dict[str, str]] = {}
        self._env: dict[tuple[tuple[str, ...], int], dict[str, Any]] = {}
        self._python: dict[Path, str] = {}
        self._upstream: dict[Path, dict[str, Any]] = {}
        self._requests: dict[tuple[Any, ...], RunRequest] = {}
        self._variants: dict[int, tuple[Variant, str]] = {}
        self._claims: dict[tuple[Any, ...], tuple[object, PaperSpec, tuple[RunRequest, ...]]] = {}

    def code(self, spec: PaperSpec) -> str:
        if spec.folder not in self._code:
            self._code[spec.folder] = code_hash(spec.folder)
        return self._code[spec.folder]

    def upstream(self, spec: PaperSpec) -> dict[str, Any]:
        """The identities of the paper's ``upstream:`` code (raises when it is not as named)."""
        if spec.file not in self._upstream:
            self._upstream[spec.file] = upstream.identities(spec)
        return self._upstream[spec.file]

    def data(self, spec: PaperSpec) -> dict[str, str]:
        if not spec.data:
            return {}
        if spec.file not in self._data:
            from pytest_repro import data

            cache_dir = self.cfg.workdir / "hashes"
            self._data[spec.file] = {
                s.name: data.identity(s, spec.folder, cache_dir=cache_dir) for s in spec.data
            }
        return self._data[spec.file]

    def environment(self, spec: PaperSpec) -> dict[str, Any]:
        if self.report_only:
            return {}
        from pytest_repro import environment

        packages = requirement_names(spec)
        gpus = spec.run.resources.gpus
        key = (packages, gpus)
        if key not in self._env:
            fp = environment.cached_fingerprint(packages)
            self._env[key] = environment.cache_fields(fp, device_kind=environment.device_kind(gpus))
        return self._env[key]

    def python(self, spec: PaperSpec) -> str:
        if self.report_only or self.cfg.env != "isolate":
            return sys.executable
        if not (spec.environment.lockfile or spec.environment.requires):
            return sys.executable
        if spec.folder not in self._python:
            from pytest_repro import environment

            self._python[spec.folder] = str(
                environment.isolated_python(spec.environment, spec.folder, self.cfg.workdir)
            )
        return self._python[spec.folder]

    def request(
        self,
        spec: PaperSpec,
        variant: Variant,
        seed: int,
        *,
        force: bool = False,
        purpose: str = "",
        smoke: bool | None = None,
        max_steps: int | None = None,
    ) -> RunRequest:
        """``max_steps`` overrides the smoke budget of a smoke run (a smoke stage's budget).

        The same arguments give the same request (claims sharing runs ask many times)."""
        memo = (
            id(spec),
            spec.file,
            variant.name,
            self._overrides(variant),
            seed,
            force,
            purpose,
            smoke,
            max_steps,
        )
        if memo not in self._requests:
            self._requests[memo] = self._request(
                spec, variant, seed, force=force, purpose=purpose, smoke=smoke, max_steps=max_steps
            )
        return self._requests[memo]

    def claim_requests(
        self,
        spec: PaperSpec,
        variants: Sequence[Variant],
        seeds: Sequence[int],
        *,
        force: bool,
        owner: object,
    ) -> list[RunRequest]:
        """:meth:`request` for every variant and seed, in that order, worked out once per
        ``owner`` (the claim asking: the forecast and the claim itself ask alike). The entry
        keeps ``owner`` alive, so its id names no other object meanwhile."""
        memo = (id(owner), id(spec), tuple(seeds), force)
        known = self._claims.get(memo)
        if known is None or known[0] is not owner or known[1] is not spec:
            requests = [self.request(spec, v, s, force=force) for v in variants for s in seeds]
            known = self._claims[memo] = (owner, spec, tuple(requests))
        return list(known[2])

    def _overrides(self, variant: Variant) -> str:
        """``variant``'s overrides as text, worked out once per variant object (the entry
        keeps the variant alive, so its id names no other object meanwhile)."""
        known = self._variants.get(id(variant))
        if known is None or known[0] is not variant:
            known = self._variants[id(variant)] = (variant, dumps(dict(variant.overrides)))
        return known[1]

    def _request(
        self,
        spec: PaperSpec,
        variant: Variant,
        seed: int,
        *,
        force: bool,
        purpose: str,
        smoke: bool | None,
        max_steps: int | None,
    ) -> RunRequest:
        cfg = self.cfg
        smoke = cfg.smoke if smoke is None else smoke
        config = spec.resolve(variant)
        threads = spec.run.resources.threads or cfg.threads
        deterministic = "on" if cfg.deterministic else spec.environment.deterministic
        max_steps = (max_steps or cfg.smoke_steps) if smoke else None
        python = self.python(spec)
        if python == sys.executable:
            environment = self.environment(spec)
        else:  # an isolated env is defined by its lock, not by what the host has installed
            environment = {"isolated": True, "lock": _lock_digest(spec), "python": python}
        fields: dict[str, Any] = {
            "v": KEY_VERSION,
            "paper": spec.paper.id,
            "entry": _entry_json(spec),
            "config": config,
            "run_env": dict(spec.run.env),
            "seed": seed,
            "code": self.code(spec),
            "data": self.data(spec),
            "environment": environment,
            "threads": threads,
            "deterministic": deterministic,
            "max_steps": max_steps,
        }
        ids = self.upstream(spec) if spec.upstream else {}
        if ids:  # only then: papers without upstream code keep their keys
            fields["upstream"] = upstream.key_part(ids)
        if purpose:
            fields["purpose"] = purpose
        key = hashlib.sha256(dumps(fields).encode()).hexdigest()[:32]
        return RunRequest(
            spec=spec,
            variant=variant,
            config=config,
            variant_key=variant_key(config),
            seed=seed,
            cache_key=key,
            key_fields=fields,
            smoke=smoke,
            max_steps=max_steps,
            threads=threads,
            deterministic=deterministic,
            timeout=spec.run.timeout or cfg.timeout,
            python=python,
            force=force,
            purpose=purpose,
            packages=requirement_names(spec),
            gpus=spec.run.resources.gpus,
            memory=spec.run.resources.memory,
            gpu_memory=spec.run.resources.gpu_memory,
            upstream=ids,
        )


def _entry_json(spec: PaperSpec) -> Any:
    """What a run executes, for its cache key.

    The metrics reader is not part of it: the output and metric files a run leaves are
    kept, so a changed ``metrics:`` re-reads them instead of training again. The start
    folder and start-up seeding enter only when set, so papers that use neither keep
    their keys.
    """
    run = spec.run
    entry: Any = run.entrypoint or {"command": list(run.command or ())}
    if run.cwd != "paper" or run.seed_startup:
        entry = {"run": entry, "cwd": run.cwd, "seed_startup": run.seed_startup}
    return entry


def _lock_digest(spec: PaperSpec) -> str:
    digest = hashlib.sha256()
    digest.update(dumps(list(spec.environment.requires)).encode())
    if spec.environment.lockfile:
        digest.update((spec.folder / spec.environment.lockfile).read_bytes())
    return digest.hexdigest()[:16]


def placeholders(request: RunRequest, run_dir: Path) -> dict[str, Any]:
    """The values a command, its ``run.env`` and its metrics path may name.

    ``{max_steps}`` and ``{max_epochs}`` are the budget: in smoke mode the smoke budget
    (``--repro-smoke-steps`` steps, one epoch), otherwise ``run.config``'s value, so one
    ``--steps "{max_steps}"`` serves both. ``{smoke}`` is ``1`` in smoke mode, else ``0``.
    """
    config = dict(request.config)
    values: dict[str, Any] = {
        **config,
        "seed": request.seed,
        "run_dir": str(run_dir),
        "paper_dir": str(request.spec.folder),
        "smoke": 1 if request.smoke else 0,
    }
    if request.smoke:
        values["max_steps"] = request.max_steps
        values["max_epochs"] = 1
    return values


def run_cwd(request: RunRequest, run_dir: Path) -> Path:
    """Where a run starts: its own run folder (``run.cwd: run_dir``) or the paper folder."""
    return run_dir if request.spec.run.cwd == "run_dir" else request.spec.folder


def _script_from_paper(argv: list[str], paper: Path, cwd: Path) -> list[str]:
    """``[python, train.py]`` started in the run folder still runs the paper's ``train.py``."""
    if cwd == paper or argv[0] not in ("python", "python3"):
        return argv
    index = startup.script_index(argv)
    if index is None or Path(argv[index]).is_absolute() or not (paper / argv[index]).is_file():
        return argv
    return [*argv[:index], str(paper / argv[index]), *argv[index + 1 :]]


def task_for(request: RunRequest, run_id: str, run_dir: Path, device: str) -> Task:
    """The task a worker executes for ``request``."""
    spec = request.spec
    values = placeholders(request, run_dir)
    command = None
    if spec.run.command:
        command = [arg.format(**values) for arg in spec.run.command]
        command = _script_from_paper(command, spec.folder, run_cwd(request, run_dir))
    task: Task = {
        "type": "run",
        "run_id": run_id,
        "paper_dir": str(spec.folder),
        "entrypoint": spec.run.entrypoint,
        "command": command,
        "config": dict(request.config),
        "seed": request.seed,
        "run_dir": str(run_dir),
        "cwd": str(run_cwd(request, run_dir)),
        "seed_startup": spec.run.seed_startup,
        "smoke": request.smoke,
        "max_steps": request.max_steps,
        "device": device,
        "threads": request.threads,
        "deterministic": request.deterministic,
        "env": {key: value.format(**values) for key, value in spec.run.env.items()},
        "memory": request.memory,
        "packages": list(request.packages),
        "trusted": list(spec.trusted),
        "upstream_paths": [str(folder) for folder in spec.upstream_folders()],
        "data_sources": [data_source_to_json(s) for s in spec.data],
    }
    sanity = request.extra.get("sanity")
    if isinstance(sanity, Mapping):  # a check that trains through run.kit
        check: SanityTask = {
            **task,
            "type": "sanity",
            "kit": str(sanity["kit"]),
            "check": str(sanity["check"]),
            "args": dict(sanity["args"]),
        }
        return check
    return task


def short_id(paper_id: str, limit: int = 64) -> str:
    """The paper id as the start of a run folder's name: a long id is cut and hashed, so
    the name stays within what file systems allow (255 bytes)."""
    if len(paper_id) <= limit:
        return paper_id
    return f"{paper_id[: limit - 9]}-{hashlib.sha256(paper_id.encode()).hexdigest()[:8]}"


def metrics_path(request: RunRequest, run_dir: Path) -> Path | None:
    """Where a command run's metrics file is, with placeholders filled in."""
    metrics = request.spec.run.metrics
    if metrics is None or metrics.path is None:
        return None
    path = Path(metrics.path.format(**placeholders(request, run_dir)))
    return path if path.is_absolute() else run_cwd(request, run_dir) / path
