"""The messages between the pytest process and a run's worker, as typed dictionaries.

A worker reads one :class:`Task` per line (JSON) and answers one :class:`Reply`. Both
ends are typed against these definitions, so a field renamed on one side is a type
error on the other. Standard library only: workers import this module in a paper's
isolated environment, where neither pytest nor PyYAML may be installed.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from pytest_repro.vocab import Deterministic, RunStatus

#: A value that survives a JSON round trip.
JSONValue = Any


class Task(TypedDict):
    """One run to execute: everything the worker needs, nothing it must look up."""

    type: Literal["run"]
    run_id: str
    paper_dir: str
    #: ``module:function`` in the paper folder, or None for a command run.
    entrypoint: str | None
    #: the argv of a command run, placeholders already filled in.
    command: list[str] | None
    config: dict[str, JSONValue]
    seed: int
    run_dir: str
    smoke: bool
    max_steps: int | None
    device: str
    threads: int
    deterministic: Deterministic
    env: dict[str, str]
    #: resident-memory cap in bytes (``run.resources.memory``), or None.
    memory: int | None
    #: package names whose versions go into the run's environment evidence.
    packages: list[str]
    #: the paper's data sources, serialised by :mod:`pytest_repro.spec.serial`.
    data_sources: list[dict[str, JSONValue]]


class ExitTask(TypedDict):
    """Asks a worker to finish."""

    type: Literal["exit"]


class Reply(TypedDict):
    """What a worker answers for one task. A run's exception is data, never raised."""

    status: RunStatus
    error: str | None
    traceback: str | None
    evidence: dict[str, JSONValue]
    started_at: float
    ended_at: float


class Ready(TypedDict):
    """The first line a worker writes once its imports are warm."""

    ready: Literal[True]
    pid: int


__all__ = ["ExitTask", "JSONValue", "Ready", "Reply", "Task"]
