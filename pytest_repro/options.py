"""The ``--repro-*`` options as pytest registers them, and the profiles that preset them.

:data:`OPTIONS` declares every setting once: its noun gives the flag ``--repro-<noun>``,
the ini key ``repro_<noun>`` and the environment variable ``PYTEST_REPRO_<NOUN>``, with its
help text and choices. :func:`addoptions` registers them in one option group;
:data:`PROFILES` are what ``--repro-profile`` names. How the values are resolved into a
:class:`~pytest_repro.config.ReproConfig` is :mod:`pytest_repro.config`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from pytest_repro.vocab import (
    AUDIT_MODES,
    CACHE_MODES,
    ENV_POLICIES,
    EXECUTORS,
    INCONCLUSIVE_POLICIES,
    METHODS,
)

PROFILES: Mapping[str, Mapping[str, Any]] = {
    # Real runs, verdicts and reports.
    "full": {},
    # Prove the pipeline end to end: one seed, a tiny step budget, no results.md.
    "smoke": {"smoke": True, "results": False},
    # A gate: drifted environments fail, every verdict must be decided.
    "ci": {"env": "strict", "inconclusive": "fail"},
}


@dataclass(frozen=True, slots=True)
class Option:
    """One ``--repro-*`` setting: its flag, ini key, environment variable and help."""

    name: str  # the noun: --repro-<name>, repro_<name>, PYTEST_REPRO_<NAME>
    help: str
    choices: tuple[str, ...] | None = None
    flag: bool = False
    ini: bool = True
    multiple: bool = False
    metavar: str | None = None


OPTIONS: tuple[Option, ...] = (
    Option(
        "audit",
        "the gap audit of a paper with a paper.md: warn (default), strict (a gap fails) or off",
        choices=AUDIT_MODES,
    ),
    Option(
        "profile",
        "settings profile: full (default), smoke (one seed, tiny budget) or ci (strict gate)",
        choices=tuple(PROFILES),
    ),
    Option(
        "smoke",
        "run every claim with a tiny budget (one seed, a few steps) to prove the pipeline",
        flag=True,
    ),
    Option("smoke-steps", "step budget of a smoke run (default 20)", metavar="N"),
    Option("json", "write the machine-readable results of all claims to PATH", metavar="PATH"),
    Option(
        "inconclusive",
        "outcome of an inconclusive verdict: fail (default) or skip",
        choices=INCONCLUSIVE_POLICIES,
    ),
    Option(
        "rerun",
        "train again instead of reusing recorded runs: all, a paper id or a claim id (repeatable)",
        ini=False,
        multiple=True,
        metavar="WHAT",
    ),
    Option(
        "cache",
        "reuse of recorded runs: on (default), read (reuse, record nothing), "
        "write (record, never reuse) or off",
        choices=CACHE_MODES,
    ),
    Option(
        "dir",
        "working folder for the ledger, run folders and locks (default .repro next to pytest's rootdir)",
        metavar="PATH",
    ),
    Option("ledger", "path of the run ledger (default <repro dir>/ledger.sqlite)", metavar="PATH"),
    Option(
        "ledger-read",
        "also reuse runs from this ledger, read-only, behind the local one "
        "(e.g. a CI artifact; repeatable)",
        ini=False,
        multiple=True,
        metavar="PATH",
    ),
    Option(
        "inprocess",
        "run entrypoints inside the pytest process (for --pdb; no isolation)",
        flag=True,
    ),
    Option(
        "workers",
        "worker processes running in parallel: N or auto (the default: CPUs / xdist workers)",
        metavar="N|auto",
    ),
    Option("threads", "compute threads per run (default 1; recorded in the evidence)", metavar="N"),
    Option("deterministic", "force deterministic algorithms in every run (torch)", flag=True),
    Option(
        "env",
        "environment drift policy: warn (default), strict, off, or isolate (a venv per paper via uv)",
        choices=ENV_POLICIES,
    ),
    Option(
        "interval",
        "default interval method: auto, t, bootstrap-t, bca, hierarchical, anytime",
        choices=METHODS,
    ),
    Option(
        "results", "write papers/<id>/results.md: write (default) or off", choices=("write", "off")
    ),
    Option(
        "sensitivity",
        "also run each claim with the alternatives: listed for assumed config values, and "
        "say in its result how much each guess moves the verdict",
        flag=True,
    ),
    Option(
        "plan",
        "a dry run: say which runs would execute and why (config, code, data or environment "
        "changed, never run) and estimate their compute; execute nothing",
        flag=True,
    ),
    Option(
        "progress",
        "while runs execute, print what is in flight every N seconds (default 10), or off",
        metavar="SECONDS",
    ),
    Option(
        "gpus",
        "which visible GPUs runs may lease: auto (all; an outer CUDA_VISIBLE_DEVICES is "
        "respected), none, or positions into them such as 0,1,3",
        metavar="auto|none|LIST",
    ),
    Option(
        "shard",
        "run only shard I of N (e.g. 2/4, for a CI matrix): claims that share runs stay "
        "together, and shards are balanced by the compute recorded runs forecast",
        metavar="I/N",
    ),
    Option(
        "executor",
        "where runs execute: local (worker processes, the default), slurm (a SLURM job per "
        "run, through submitit) or local-jobs (the same jobs as processes on this machine)",
        choices=EXECUTORS,
    ),
    *(
        Option(f"slurm-{name}", text, metavar=metavar, multiple=name == "setup")
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
    Option(
        "seed",
        "seed of the repro_seed fixture (default: derived from the test id)",
        ini=False,
        metavar="N",
    ),
    Option(
        "timeout",
        "default per-run timeout where paper.yaml gives none (e.g. 30m)",
        metavar="DURATION",
    ),
)


def addoptions(parser: pytest.Parser) -> None:
    """Register every option of :data:`OPTIONS` (and the ``repro_files`` ini key) with pytest."""
    group = parser.getgroup("repro", "pytest-repro: paper reproductions as tests")
    for opt in OPTIONS:
        kwargs: dict[str, Any] = {"dest": option_dest(opt.name), "default": None, "help": opt.help}
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


def option_dest(name: str) -> str:
    """The attribute pytest stores ``--repro-<name>`` under: ``repro_<name>``."""
    return "repro_" + name.replace("-", "_")


__all__ = ["OPTIONS", "PROFILES", "Option", "addoptions", "option_dest"]
