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

    #: ``run`` calls the entrypoint or command; ``sanity`` is a :class:`SanityTask`.
    type: Literal["run", "sanity"]
    run_id: str
    paper_dir: str
    #: ``module:function`` in the paper folder, or None for a command run.
    entrypoint: str | None
    #: the argv of a command run, placeholders already filled in.
    command: list[str] | None
    config: dict[str, JSONValue]
    seed: int
    run_dir: str
    #: the folder the run starts in (``run.cwd``): the run folder or the paper folder.
    cwd: str
    #: seed python, numpy and torch before a ``python`` command's script starts.
    seed_startup: bool
    smoke: bool
    max_steps: int | None
    device: str
    threads: int
    deterministic: Deterministic
    #: ``run.env`` with its placeholders filled in.
    env: dict[str, str]
    #: resident-memory cap in bytes (``run.resources.memory``), or None.
    memory: int | None
    #: package names whose versions go into the run's environment evidence.
    packages: list[str]
    #: the installed ``module:function`` targets the paper trusts (``trusted:``).
    trusted: list[str]
    #: the checkouts of ``upstream:``, import roots after the paper folder.
    upstream_paths: list[str]
    #: the paper's data sources, serialised by :mod:`pytest_repro.spec.serial`.
    data_sources: list[dict[str, JSONValue]]


class SanityTask(Task):
    """A sanity check that trains the model itself, through the paper's ``run.kit``.

    The worker prepares the run as for a :class:`Task` (seed, environment, threads),
    calls the kit with the run context, runs ``check`` with ``args`` (defaults filled in)
    and answers a :class:`Reply` whose ``evidence["sanity"]`` holds the check's verdict
    and numbers: ``{"check", "args", "passed", "failure", "numbers"}``. The reply's status
    is ``ok`` when the check reached a verdict, pass or fail, and ``failed`` when the kit
    or the check raised.
    """

    #: ``module:function`` of ``run.kit``.
    kit: str
    check: str
    args: dict[str, JSONValue]


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


__all__ = ["ExitTask", "JSONValue", "Ready", "Reply", "SanityTask", "Task"]
