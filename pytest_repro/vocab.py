"""The words pytest-repro uses, defined once: verdicts, interval methods, modes, directions.

Every closed choice is a ``Literal`` here and its tuple of values is derived with
``typing.get_args``, so a spec field, a command-line option and a statistics function
cannot drift apart. :data:`VERDICTS` says, per verdict, what it means for pytest, for a
GitHub annotation, for the reports' colour and what the user should do next; every
report reads it from here.

This module imports only the standard library: the plugin loads it at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal, get_args

# -- verdicts -----------------------------------------------------------------------------
#: What the statistics can say about a claim.
Outcome = Literal["matched", "gap", "exceeded", "disagreement", "inconclusive"]
#: Every verdict a claim result can carry: the outcomes, plus what happens without statistics.
VerdictName = Literal[
    "matched", "gap", "exceeded", "disagreement", "inconclusive", "error", "skipped", "smoke"
]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)
VERDICT_NAMES: tuple[VerdictName, ...] = get_args(VerdictName)

#: A pytest outcome a verdict maps to. ``failed`` verdicts may become ``xfailed`` when the
#: spec expects them (``expect: gap`` with a hypothesis); ``fail-or-skip`` follows
#: ``--repro-inconclusive``.
PytestOutcome = Literal["passed", "failed", "fail-or-skip", "skipped"]
GithubLevel = Literal["error", "warning"]
#: A colour name pytest's terminal writer knows.
TerminalColour = Literal["green", "red", "yellow", "blue"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VerdictMeaning:
    """What one verdict means everywhere it is shown."""

    pytest: PytestOutcome
    #: ``::error``/``::warning`` annotation in GitHub Actions; None: no annotation.
    github: GithubLevel | None
    #: colour in the HTML report (a CSS colour).
    colour: str
    #: colour name for pytest's terminal writer.
    terminal: TerminalColour
    #: what to do next, printed at the end of a failure block; empty: nothing to do.
    remedy: str = ""
    #: how reports name it in prose ("fundamental disagreement").
    prose: str = ""
    #: the meaning of a verdict the spec expects (see :func:`meaning`).
    expected: bool = False

    @property
    def passes(self) -> bool:
        return self.pytest == "passed"


VERDICTS: Mapping[VerdictName, VerdictMeaning] = {
    "matched": VerdictMeaning(pytest="passed", github=None, colour="#1a7f37", terminal="green"),
    "exceeded": VerdictMeaning(pytest="passed", github=None, colour="#1a7f37", terminal="green"),
    "gap": VerdictMeaning(
        pytest="failed",
        github="error",
        colour="#cf222e",
        terminal="red",
        prose="gap",
        remedy=(
            'if the gap is understood, record it in the claim: expect: gap with hypothesis: "..."; '
            "otherwise investigate it — never tune the reproduction until it passes"
        ),
    ),
    "disagreement": VerdictMeaning(
        pytest="failed",
        github="error",
        colour="#82071e",
        terminal="red",
        prose="fundamental disagreement",
        remedy=(
            "a reproduction that contradicts the paper is a finding: record it with "
            'expect: disagreement and hypothesis: "...", and report it'
        ),
    ),
    "inconclusive": VerdictMeaning(
        pytest="fail-or-skip",
        github="warning",
        colour="#9a6700",
        terminal="yellow",
        remedy=(
            "the interval is wider than the tolerance allows: run more seeds "
            "(seeds: N or {min: 3, max: 10}), or accept undecided claims with "
            "--repro-inconclusive=skip"
        ),
    ),
    "error": VerdictMeaning(
        pytest="failed",
        github="error",
        colour="#cf222e",
        terminal="red",
        remedy=(
            "fix the run (its output is above), then rerun: runs that finished are reused, "
            "only the rest run again"
        ),
    ),
    "skipped": VerdictMeaning(pytest="skipped", github=None, colour="#6e7781", terminal="yellow"),
    "smoke": VerdictMeaning(pytest="passed", github=None, colour="#0969da", terminal="blue"),
}

#: The order verdicts are counted in summaries.
SUMMARY_ORDER: tuple[VerdictName, ...] = (
    "matched",
    "exceeded",
    "gap",
    "disagreement",
    "inconclusive",
    "error",
    "skipped",
    "smoke",
)

# -- claims -------------------------------------------------------------------------------
ClaimKind = Literal["absolute", "comparative", "trend", "peak", "curve"]
CLAIM_KINDS: tuple[ClaimKind, ...] = get_args(ClaimKind)
#: The kinds of claim about a curve over a ``sweep:`` (one value per swept point and seed).
SWEEP_KINDS: tuple[ClaimKind, ...] = ("trend", "peak", "curve")
#: What a ``trend`` claim says of the curve.
TrendDirection = Literal["increasing", "decreasing"]
TREND_DIRECTIONS: tuple[TrendDirection, ...] = get_args(TrendDirection)
#: The axes a ``slope:`` is fitted on.
SlopeScale = Literal["linear", "log-x", "log-log"]
SLOPE_SCALES: tuple[SlopeScale, ...] = get_args(SlopeScale)
#: Which extremum a ``peak`` claim locates.
Extremum = Literal["max", "min"]
EXTREMA: tuple[Extremum, ...] = get_args(Extremum)
#: Which direction of a metric is better; ``none``: neither (two-sided claims).
Better = Literal["higher", "lower", "none"]
BETTER: tuple[Better, ...] = get_args(Better)
Direction = Literal["higher", "lower"]
#: A verdict a spec may declare as expected (with its hypothesis): the claim is xfailed.
#: ``shortfall``: a gap or a disagreement on the short side of the paper (a scaled-down
#: run), never an excess.
Expectation = Literal["gap", "disagreement", "shortfall"]
EXPECTATIONS: tuple[Expectation, ...] = get_args(Expectation)
Axis = Literal["epoch", "step"]
AXES: tuple[Axis, ...] = get_args(Axis)

# -- statistics ---------------------------------------------------------------------------
#: Interval methods a claim or ``--repro-interval`` may ask for.
Method = Literal["auto", "t", "bootstrap-t", "bca", "hierarchical", "anytime"]
METHODS: tuple[Method, ...] = get_args(Method)
#: The fewest seeds at which a method is offered (below it, its coverage is too far off).
METHOD_MIN_SEEDS: Mapping[str, int] = {"bootstrap-t": 5, "hierarchical": 5, "bca": 20}
#: What the number after the paper's ``±`` is.
SpreadKind = Literal["sd", "se", "ci95"]
SPREAD_KINDS: tuple[SpreadKind, ...] = get_args(SpreadKind)
#: The statistic over seeds.
Statistic = Literal["mean", "median", "iqm"]
STATISTICS: tuple[Statistic, ...] = get_args(Statistic)

# -- session modes ------------------------------------------------------------------------
CacheMode = Literal["on", "off", "read", "write"]
CACHE_MODES: tuple[CacheMode, ...] = get_args(CacheMode)
EnvPolicy = Literal["warn", "strict", "off", "isolate"]
ENV_POLICIES: tuple[EnvPolicy, ...] = get_args(EnvPolicy)
InconclusivePolicy = Literal["fail", "skip"]
INCONCLUSIVE_POLICIES: tuple[InconclusivePolicy, ...] = get_args(InconclusivePolicy)
#: ``environment.deterministic`` of a spec and the seeding mode of a run.
Deterministic = Literal["on", "off", "warn"]
DETERMINISTIC_MODES: tuple[Deterministic, ...] = get_args(Deterministic)
#: ``--repro-executor``: where runs execute.
ExecutorKind = Literal["local", "slurm", "local-jobs"]
EXECUTORS: tuple[ExecutorKind, ...] = get_args(ExecutorKind)
#: ``--repro-audit``: a paper's gap audit (where it has a paper.md) warns, fails, or is off.
AuditMode = Literal["warn", "strict", "off"]
AUDIT_MODES: tuple[AuditMode, ...] = get_args(AuditMode)

# -- runs ---------------------------------------------------------------------------------
RunStatus = Literal["ok", "failed", "timeout", "killed", "crashed", "interrupted", "running"]
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
DataKind = Literal["sklearn", "python", "files", "hf"]
DATA_KINDS: tuple[DataKind, ...] = get_args(DataKind)
MetricsFormat = Literal["jsonl", "csv", "regex", "json", "tensorboard", "wandb", "python"]
METRICS_FORMATS: tuple[MetricsFormat, ...] = get_args(MetricsFormat)


#: The colours of a failing verdict the spec expects (``expect:`` with its hypothesis): a
#: known, explained result, neither the green of a pass nor the red of a failure. The
#: terminal colour is pytest's own for an xfail; the HTML colour is used by no verdict.
EXPECTED_COLOUR = "#8250df"
EXPECTED_TERMINAL: TerminalColour = "yellow"


def meaning(verdict: str, *, expected: bool = False) -> VerdictMeaning:
    """The meaning of ``verdict``; an unknown name is treated as an error.

    ``expected``: the spec expects this verdict (``ClaimResult.expected``). A failing
    verdict is then shown in :data:`EXPECTED_COLOUR`, with no GitHub annotation and no
    remedy (the claim already records it; reports say so with its hypothesis). What it
    means for pytest is unchanged: the claim item's xfail mark turns it into ``xfailed``.
    """
    found = VERDICTS["error"]
    for name, candidate in VERDICTS.items():
        if name == verdict:
            found = candidate
            break
    if expected and not found.passes:
        return replace(
            found,
            colour=EXPECTED_COLOUR,
            terminal=EXPECTED_TERMINAL,
            github=None,
            remedy="",
            expected=True,
        )
    return found
