"""The parsed, validated form of ``paper.yaml``.

Every node is a frozen dataclass that keeps its :class:`Location`, so any later
error (a missing metric, an environment drift, a checksum mismatch) can point at
the line of YAML that asked for it. Nothing here does I/O; ``spec.loader`` builds
these from a file.

This module holds the whole spec (:class:`PaperSpec`) and its run, data, environment and
provenance nodes. The claim nodes live in :mod:`pytest_repro.spec.claim_nodes` and the
``inventory:`` nodes in :mod:`pytest_repro.spec.inventory_nodes`; every node stays
importable from here.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytest_repro.spec.claim_nodes import (
    At,
    Claim,
    CurveRule,
    PaperValue,
    SeedPlan,
    Sweep,
    Variant,
)
from pytest_repro.spec.inventory_nodes import Checkpoint, CodeRelease, Inventory
from pytest_repro.spec.node import JSON, Location
from pytest_repro.vocab import METHODS, DataKind, Deterministic

INTERVAL_METHODS = METHODS


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperMeta:
    id: str
    title: str
    authors: tuple[str, ...] = ()
    year: int | None = None
    url: str | None = None
    venue: str | None = None
    #: the correction reports apply over the paper's gap and disagreement flags.
    multiplicity: Literal["holm", "bh", "none"] = "holm"
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfigValue:
    """One default of ``run.config`` with its provenance.

    ``source`` is where the paper states the value (``"Sec. 3"``, ``"Table 1"``),
    or ``"assumed"`` when the paper does not give it; ``why`` justifies an
    assumption.
    """

    value: JSON
    source: str | None = None
    why: str | None = None
    #: other guesses for an assumed value, run by ``--repro-sensitivity``.
    alternatives: tuple[JSON, ...] = ()
    loc: Location

    @property
    def assumed(self) -> bool:
        return self.source == "assumed"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricsSource:
    """Where a ``command:`` run writes its metrics.

    ``jsonl``/``csv``: ``path`` is a template (``"{run_dir}/metrics.jsonl"``).
    ``regex``: ``pattern`` is applied to each line of the command's output; its
    named groups are ``epoch``/``step`` and metric names.
    """

    #: ``jsonl``, ``csv``, ``regex``, or a format a plugin's metric reader adds.
    format: str
    path: str | None = None
    pattern: str | None = None
    #: several regular expressions (each line may match any of them), for ``regex``.
    patterns: tuple[str, ...] = ()
    #: ``module:function`` of a reader in the paper folder (``metrics: {python: ...}``).
    target: str | None = None
    #: reader-specific settings, JSON-able (e.g. which tags of an event file to read).
    options: Mapping[str, Any] = field(default_factory=dict)
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Resources:
    gpus: int = 0
    threads: int | None = None  # compute threads per run; None = the session default (1)
    memory: int | None = None  # bytes; a cap on the resident memory of the run's processes
    #: bytes of GPU memory held on each leased device, so small runs share one; None: whole.
    gpu_memory: int | None = None
    loc: Location | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSpec:
    """How to execute one run: exactly one of ``entrypoint`` or ``command``."""

    entrypoint: str | None = None  # "module:function", module relative to the paper folder
    command: tuple[str, ...] | None = None  # argv with {placeholders}; never run through a shell
    metrics: MetricsSource | None = None  # required with command
    config: Mapping[str, ConfigValue] = field(default_factory=dict)
    timeout: float | None = None  # seconds
    resources: Resources = field(default_factory=Resources)
    env: Mapping[str, str] = field(default_factory=dict)
    #: ``module:function`` returning a :class:`~pytest_repro.sanity.kit.SanityKit`, or None.
    kit: str | None = None
    #: where the run starts: ``"paper"`` (the paper folder) or ``"run_dir"`` (its own folder).
    cwd: str = "paper"
    #: seed python, numpy and torch at interpreter start-up of a ``python`` command.
    seed_startup: bool = False
    #: the command has no randomness: it takes no seed (every seed runs the same thing).
    seedless: bool = False
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class EnvironmentSpec:
    """What the paper's runs need installed. Strings are kept as written;
    ``environment/lockfile.py`` parses them (validation already checked they parse)."""

    python: str | None = None  # PEP 440 specifier, e.g. ">=3.10,<3.13"
    requires: tuple[str, ...] = ()  # PEP 508 requirements
    lockfile: str | None = None  # path relative to the paper folder
    cuda: str | None = None  # specifier on the CUDA runtime version
    deterministic: Deterministic = "off"
    loc: Location | None = None
    requires_locs: tuple[Location, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class FileRef:
    path: str  # relative to the paper folder, or absolute
    sha256: str | None = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class HFRef:
    """A dataset loaded through the ``datasets`` library."""

    path: str  # hub id, or a builder name ("csv", "json", "parquet") with data_files
    name: str | None = None
    revision: str | None = None
    split: str | None = None
    data_files: JSON = None  # str | list | mapping, paths relative to the paper folder
    from_disk: bool = False  # path is a folder written by Dataset.save_to_disk
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class DataSource:
    """One named entry of ``data:``.

    ``kind`` picks the loader: ``sklearn`` (``target`` is a bundled loader such as
    ``load_digits`` or a ``make_*`` generator), ``python`` (``target`` is
    ``module:function``, module in the paper folder, or installed and trusted),
    ``files`` (local files, each optionally pinned by sha256) or ``hf``.
    ``sha256``/``fingerprint`` pin the loaded content; a mismatch is an error.
    ``trusted`` is set on a ``python`` source whose target the paper lists under
    ``trusted:``; only then may its module come from outside the paper folder.
    """

    name: str
    kind: DataKind
    target: str | None = None
    trusted: bool = False
    args: Mapping[str, JSON] = field(default_factory=dict)
    files: tuple[FileRef, ...] = ()
    hf: HFRef | None = None
    fingerprint: str | None = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Substitution:
    original: str
    used: str
    why: str
    claims: tuple[str, ...] = ()  # empty: affects every claim
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class SanityCheck:
    name: str
    args: Mapping[str, JSON] = field(default_factory=dict)
    loc: Location


def placeholder_names(text: str) -> set[str]:
    """The ``{name}`` placeholders of a command argument, an env value or a path
    (none when ``text`` does not parse; the spec loader reports that)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}
    except ValueError:
        return set()


@dataclass(frozen=True, slots=True, kw_only=True)
class Upstream:
    """The authors' own code a paper runs, named under ``upstream:``.

    Either an installed ``package`` at an exact ``version``, or a checkout the user placed
    at ``path`` (relative to the paper folder, as written). ``repo``, ``commit`` and
    ``license`` say where it comes from; for a checkout, a ``commit`` is checked.
    """

    name: str
    package: str | None = None
    version: str | None = None
    path: str | None = None
    repo: str | None = None
    commit: str | None = None
    license: str | None = None
    loc: Location

    @property
    def kind(self) -> str:
        return "package" if self.package else "checkout"

    def folder(self, paper_folder: Path) -> Path | None:
        """A checkout's folder (absolute, symlinks resolved); None for a package."""
        return (paper_folder / self.path).resolve() if self.path else None


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperSpec:
    """A whole ``paper.yaml``: ``file`` is absolute, ``display`` is what users see.

    ``trusted`` lists the installed ``module:function`` callables the paper allows its
    entrypoint and ``data.<name>.python`` to name outside its folder, as written.
    """

    file: Path
    display: str
    paper: PaperMeta
    trusted: tuple[str, ...] = ()
    #: the authors' code the paper runs (``upstream:``), in the order written.
    upstream: tuple[Upstream, ...] = ()
    #: ``notes:``: what a reader of the report should know (claims left out and why).
    notes: str | None = None
    run: RunSpec
    environment: EnvironmentSpec = field(default_factory=EnvironmentSpec)
    data: tuple[DataSource, ...] = ()
    substitutions: tuple[Substitution, ...] = ()
    #: ``inventory:``: the official code, released checkpoints, what is missing.
    inventory: Inventory | None = None
    sanity: tuple[SanityCheck, ...] = ()
    variants: Mapping[str, Variant] = field(default_factory=dict)
    claims: tuple[Claim, ...] = ()

    @property
    def folder(self) -> Path:
        return self.file.parent

    def upstream_folders(self) -> tuple[Path, ...]:
        """The checkouts of ``upstream:``: import roots for entrypoints, beside the folder."""
        return tuple(f for u in self.upstream if (f := u.folder(self.folder)) is not None)

    def claim(self, claim_id: str) -> Claim:
        for claim in self.claims:
            if claim.id == claim_id:
                return claim
        raise KeyError(claim_id)

    def data_source(self, name: str) -> DataSource:
        for source in self.data:
            if source.name == name:
                return source
        raise KeyError(name)

    def defaults(self) -> dict[str, JSON]:
        """``run.config`` without provenance."""
        return {key: cv.value for key, cv in self.run.config.items()}

    def resolve(self, variant: Variant) -> dict[str, JSON]:
        """The full config of a variant: the defaults with its overrides applied."""
        config = self.defaults()
        config.update(variant.overrides)
        return config

    def substitutions_for(self, claim_id: str) -> tuple[Substitution, ...]:
        return tuple(s for s in self.substitutions if not s.claims or claim_id in s.claims)


__all__ = [
    "INTERVAL_METHODS",
    "JSON",
    "At",
    "Checkpoint",
    "Claim",
    "CodeRelease",
    "ConfigValue",
    "CurveRule",
    "DataSource",
    "EnvironmentSpec",
    "FileRef",
    "HFRef",
    "Inventory",
    "Location",
    "MetricsSource",
    "PaperMeta",
    "PaperSpec",
    "PaperValue",
    "Resources",
    "RunSpec",
    "SanityCheck",
    "SeedPlan",
    "Substitution",
    "Sweep",
    "Upstream",
    "Variant",
    "placeholder_names",
]
