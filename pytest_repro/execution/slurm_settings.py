"""The settings of ``--repro-executor=slurm`` and ``local-jobs``, checked once at configure.

``config.resolve`` calls :func:`resolve_cluster` only when a cluster executor is chosen, so
a session on the default worker pool never loads this module (nor submitit). Values come
through ``config``'s own precedence (command line > ``PYTEST_REPRO_*`` > ini > default);
a wrong one is a ``pytest.UsageError`` naming the option and what to give instead.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pytest

#: which submitit executor sends the jobs: a SLURM cluster, or processes on this machine.
ClusterKind = Literal["slurm", "local"]

#: ``--repro-executor`` value -> the submitit cluster it runs on.
CLUSTERS: dict[str, ClusterKind] = {"slurm": "slurm", "local-jobs": "local"}

INSTALL_HINT = "pip install 'pytest-repro[slurm]'"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClusterSettings:
    """How runs become jobs (see docs/cluster.md)."""

    cluster: ClusterKind
    #: ``--repro-slurm-partition`` and ``--repro-slurm-account``; None: the cluster's default.
    partition: str | None = None
    account: str | None = None
    #: seconds a run may take where it has no timeout of its own (``--repro-slurm-time``).
    time: float = 3600.0
    #: bytes of memory a job asks for where its run has no ``resources.memory``
    #: (``--repro-slurm-memory``); None: the cluster's default.
    memory: int | None = None
    #: shell lines run before each job starts (``module load cuda``, ``source venv/bin/activate``).
    setup: tuple[str, ...] = ()
    #: jobs in flight at once, queued or running (``--repro-slurm-max-jobs``).
    max_jobs: int = 16
    #: how often a job lost to the cluster (preempted, killed, node failure) is sent again.
    resubmit: int = 2

    @property
    def kind(self) -> str:
        """The ``--repro-executor`` value: ``slurm`` or ``local-jobs``."""
        return "slurm" if self.cluster == "slurm" else "local-jobs"


def resolve_cluster(
    values: Mapping[str, Any], raw: Callable[[str], tuple[Any, str]], *, workers_given: bool
) -> dict[str, Any]:
    """What ``--repro-executor=slurm|local-jobs`` adds to the session's settings: ``cluster``
    (a :class:`ClusterSettings`) and, unless ``--repro-workers`` was given, ``workers`` (one
    thread waits on each job in flight, so as many as ``--repro-slurm-max-jobs``).

    ``values`` are the settings resolved so far; ``raw(name)`` gives an option's value and
    where it came from, as ``config`` reads it.
    """
    settings = _settings(str(values["executor"]), raw, values)
    found: dict[str, Any] = {"cluster": settings}
    if not workers_given:
        found["workers"] = settings.max_jobs
    return found


def _settings(
    executor: str, raw: Callable[[str], tuple[Any, str]], resolved: Mapping[str, Any]
) -> ClusterSettings:
    origin = raw("executor")[1]
    if resolved.get("inprocess"):
        raise pytest.UsageError(
            f"{origin}={executor} sends every run to a job, and --repro-inprocess runs them "
            "inside pytest: choose one (leave out --repro-inprocess, or use --repro-executor=local)"
        )
    if resolved.get("env") == "isolate":
        raise pytest.UsageError(
            f"{origin}={executor} runs jobs with pytest's own interpreter and cannot use "
            "--repro-env=isolate's per-paper venvs: use --repro-env=warn (or strict), or "
            "--repro-executor=local"
        )
    try:
        import submitit  # noqa: F401  (checked here so a missing extra stops the session at once)
    except ImportError:
        raise pytest.UsageError(
            f"{origin}={executor} needs submitit, which is not installed: {INSTALL_HINT}"
        ) from None
    cluster = CLUSTERS[executor]
    if cluster == "slurm" and shutil.which("srun") is None:
        raise pytest.UsageError(
            f"{origin}=slurm: no srun on PATH, so this is not a SLURM login node; run pytest "
            "where sbatch and srun work, or try the set-up here with --repro-executor=local-jobs"
        )
    values: dict[str, Any] = {"cluster": cluster}
    for name in ("partition", "account"):
        value, _ = raw(f"slurm-{name}")
        if value is not None:
            values[name] = str(value).strip()
    value, where = raw("slurm-time")
    if value is not None:
        seconds = _duration(value)
        if seconds is None:
            raise pytest.UsageError(
                f"{where}={value!r}: expected a duration such as 90m, 4h or 1h30m"
            )
        values["time"] = seconds
    value, where = raw("slurm-memory")
    if value is not None:
        size = _size(value)
        if size is None:
            raise pytest.UsageError(f"{where}={value!r}: expected a size such as 16GiB or 512MiB")
        values["memory"] = size
    for name, key, floor in (("slurm-max-jobs", "max_jobs", 1), ("slurm-resubmit", "resubmit", 0)):
        value, where = raw(name)
        if value is None:
            continue
        number = _whole(value)
        if number is None or number < floor:
            raise pytest.UsageError(f"{where}={value!r}: expected a whole number >= {floor}")
        values[key] = number
    value, _ = raw("slurm-setup")
    if value is not None:
        lines = value if isinstance(value, list) else str(value).splitlines()
        values["setup"] = tuple(line.strip() for line in lines if line.strip())
    return ClusterSettings(**values)


def _duration(value: Any) -> float | None:
    from pytest_repro.spec.fields import parse_duration

    text = str(value).strip()
    return parse_duration(int(text) if text.isdigit() else text)


def _size(value: Any) -> int | None:
    from pytest_repro.spec.fields import parse_size

    text = str(value).strip()
    return parse_size(int(text) if text.isdigit() else text)


def _whole(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


__all__ = ["CLUSTERS", "INSTALL_HINT", "ClusterKind", "ClusterSettings", "resolve_cluster"]
