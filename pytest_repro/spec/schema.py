"""The parsed, validated form of ``paper.yaml``.

Every node is a frozen dataclass that keeps its :class:`Location`, so any later
error (a missing metric, an environment drift, a checksum mismatch) can point at
the line of YAML that asked for it. Nothing here does I/O; ``spec.loader`` builds
these from a file.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pytest_repro.vocab import (
    METHODS,
    Axis,
    Better,
    ClaimKind,
    DataKind,
    Deterministic,
    Expectation,
    Extremum,
    SlopeScale,
    SpreadKind,
    Statistic,
    TrendDirection,
)
from pytest_repro.vocab import Method as IntervalMethod

#: A value that survives a JSON round trip (what configs and data args hold).
JSON = Any

INTERVAL_METHODS = METHODS


@dataclass(frozen=True, slots=True)
class Location:
    """Where a node was written: the file as shown to the user and a 1-based line."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


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


@dataclass(frozen=True, slots=True, kw_only=True)
class At:
    """Where in training a claim is read.

    - ``{epoch: N}`` or ``{step: N}``: the point the paper reports (``value`` is N);
    - ``final``: the last point the run logged the metric at, written explicitly in the
      spec and reported as such (``final`` is True, ``value`` None);
    - ``{first: {metric: val_acc, above: 0.99}}``: the step (or epoch: the claim's
      ``metric`` says which) at which ``first_metric`` first reaches ``threshold``
      (``above`` False: first falls to it).
    """

    axis: Axis
    value: int | None
    loc: Location
    final: bool = False
    first_metric: str | None = None
    threshold: float | None = None
    above: bool = True

    @property
    def point(self) -> bool:
        """Whether the claim reads one named epoch or step."""
        return not self.final and self.first_metric is None

    def __str__(self) -> str:
        if self.final:
            return "final"
        if self.first_metric is not None:
            side = ">=" if self.above else "<="
            return f"first {self.axis} where {self.first_metric} {side} {self.threshold:g}"
        return f"{self.axis} {self.value}"

    def to_json(self) -> dict[str, Any]:
        """``{"epoch": 5}``, ``{"final": true}`` or ``{"first": {...}}`` (the JSON's ``at``)."""
        if self.final:
            return {"final": True}
        if self.first_metric is not None:
            side = "above" if self.above else "below"
            return {"first": {"metric": self.first_metric, side: self.threshold, "axis": self.axis}}
        return {self.axis: self.value}


@dataclass(frozen=True, slots=True, kw_only=True)
class PaperValue:
    """The paper's number, with its own spread when the paper reports one.

    ``spread_kind`` says what ``spread`` means: a standard deviation over the
    paper's ``seeds`` runs (``sd``), a standard error (``se``), or the half-width
    of a 95% interval (``ci95``); ``ci_method`` how that interval was computed
    (``t``: a Student-t interval over the runs; ``normal``: 1.96 standard errors).
    """

    value: float
    spread: float | None = None
    spread_kind: SpreadKind | None = None
    seeds: int | None = None
    ci_method: Literal["t", "normal"] = "t"
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedPlan:
    """Which seeds a claim runs.

    Fixed: ``seeds`` lists them. Adaptive: ``stages`` gives the cumulative seed
    counts at which the verdict is looked at (``(3, 5, 10)``), and ``seeds`` is
    the full list up to the last stage.
    """

    seeds: tuple[int, ...]
    stages: tuple[int, ...] | None = None
    loc: Location

    @property
    def adaptive(self) -> bool:
        return self.stages is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """A set of overrides on ``run.config``. ``name`` is set for top-level ``variants:``."""

    name: str | None = None
    overrides: Mapping[str, JSON] = field(default_factory=dict)
    loc: Location

    def describe(self) -> str:
        if self.name:
            return self.name
        if not self.overrides:
            return "defaults"
        return ", ".join(f"{k}={v!r}" for k, v in self.overrides.items())


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """The config points a claim about a curve runs, and the swept value of each.

    ``points`` are ordinary variants (the claim's base overrides plus the point's axis
    values), so their runs, cache keys and reuse are those of hand-written variants;
    ``xs[i]`` is ``axis`` at ``points[i]``, in the order the grid was written. ``name`` is
    the entry of ``sweeps:`` the claim names (None for an inline ``sweep:``).
    """

    axis: str
    xs: tuple[float, ...]
    points: tuple[Variant, ...]
    name: str | None = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class CurveRule:
    """What a claim about a curve asserts (the keys beside ``sweep:``).

    - ``trend``: ``direction`` (monotone, each step by more than ``margin``), or a fitted
      ``slope`` ± ``slope_tolerance`` on ``scale`` (``base`` for ``log-x``);
    - ``peak``: the ``extremum`` of the curve lies ``within`` a range of the swept value;
    - ``curve``: the paper's value at each point (``paper_points``, in ``xs`` order, given
      as a list or by ``formula``) within ``tolerances`` (one per point).
    """

    direction: TrendDirection | None = None
    margin: float = 0.0
    slope: float | None = None
    slope_tolerance: float | None = None
    scale: SlopeScale = "linear"
    base: float = 10.0
    extremum: Extremum | None = None
    within: tuple[float, float] | None = None
    paper_points: tuple[float, ...] = ()
    tolerances: tuple[float, ...] = ()
    #: ``tolerance: 5%`` of a curve: the share of each point's paper value.
    tolerance_relative: float | None = None
    formula: str | None = None

    @property
    def rule(self) -> Literal["trend", "slope", "peak", "curve"]:
        """``trend``, ``slope``, ``peak`` or ``curve``: which decision applies."""
        if self.slope is not None:
            return "slope"
        if self.direction is not None:
            return "trend"
        if self.extremum is not None:
            return "peak"
        return "curve"


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """One checkable statement of the paper.

    Absolute: ``metric`` of ``variant`` at ``at`` equals ``paper`` within
    ``tolerance``. Comparative: ``compare[0]`` (A) beats ``compare[1]`` (B) on
    ``metric`` at ``at`` — by at least ``margin``, or by ``paper`` ± ``tolerance``
    when ``paper`` is given. ``better`` says which direction of the metric is good.
    """

    id: str
    text: str
    source: str
    kind: ClaimKind
    metric: str
    at: At
    paper: PaperValue | None = None
    tolerance: float | None = None
    #: ``tolerance: 5%``: the tolerance as a share of the paper's value (0.05), which
    #: ``tolerance`` then holds in the metric's units.
    tolerance_relative: float | None = None
    seeds: SeedPlan
    variant: Variant | None = None  # absolute claims
    compare: tuple[Variant, Variant] | None = None  # comparative claims: (A, B)
    better: Better = "higher"
    margin: float = 0.0
    expect: Expectation | None = None
    hypothesis: str | None = None
    see: str | None = None
    interval: IntervalMethod | None = None  # None: the session default
    statistic: Statistic = "mean"
    resolution: float | None = None
    unit: str | None = None  # "fraction" (shown as %), "percent", or a free suffix
    disagreement: float | None = None  # multiple of tolerance; None: the session default
    #: seeds on the worse side of this value failed to train (absolute claims).
    failed_below: float | None = None
    #: ``mean``: the claim is about all seeds; ``successful``: about the runs that trained.
    about: Literal["mean", "successful"] = "mean"
    #: one run's value against the band, with the test set's binomial error.
    deterministic: bool = False
    test_examples: int | None = None
    #: the recipe's seeds skew towards the worse side: skew-calibrated worse bounds.
    skewed_seeds: bool = False
    #: a comparative claim whose arms are read at different points: (A's, B's); None: ``at``.
    arm_at: tuple[At, At] | None = None
    #: claims about a curve (``trend``, ``peak``, ``curve``): the swept points and the rule.
    sweep: Sweep | None = None
    curve: CurveRule | None = None
    loc: Location
    field_locs: Mapping[str, Location] = field(default_factory=dict)

    def where(self, name: str) -> Location:
        """The location of one of this claim's fields, falling back to the claim itself."""
        return self.field_locs.get(name, self.loc)

    def at_of(self, arm: int) -> At:
        """Where arm ``arm`` (0: A, 1: B) is read: its own ``at:``, else the claim's."""
        return self.arm_at[arm] if self.arm_at is not None else self.at

    def variants(self) -> tuple[Variant, ...]:
        if self.sweep is not None:
            return self.sweep.points
        if self.compare is not None:
            return self.compare
        assert self.variant is not None
        return (self.variant,)


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
class CodeRelease:
    """``inventory.code[i]``: a release of the paper's code, the authors' or another's.

    ``upstream`` names the ``upstream:`` entry that runs this code, where one does.
    """

    url: str
    commit: str | None = None
    license: str | None = None
    official: bool = True
    upstream: str | None = None
    notes: str | None = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    """``inventory.checkpoints[i]``: released weights."""

    name: str
    url: str | None = None
    sha256: str | None = None
    notes: str | None = None
    loc: Location


@dataclass(frozen=True, slots=True, kw_only=True)
class Inventory:
    """``inventory:``: what exists besides the paper (code, checkpoints) and what is missing."""

    code: tuple[CodeRelease, ...] = ()
    checkpoints: tuple[Checkpoint, ...] = ()
    missing: tuple[str, ...] = ()
    notes: str | None = None
    loc: Location


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
