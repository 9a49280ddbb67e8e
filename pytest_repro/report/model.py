"""One claim result as every report shows it: the display facts, computed once.

:func:`claim_view` turns a :class:`~pytest_repro.results.ClaimResult` into a
:class:`ClaimView`: the paper value and the measured value in the claim's units, the 95%
interval, the delta and what it is measured from, per-seed values, adaptive seeds, notes,
substitutions, runs, and what the verdict means (from :mod:`pytest_repro.vocab`). The
terminal block, the results.md claim details, the HTML panel and the summary tables are
thin formatters over it.

The strings are plain text, most with words from the spec or a run: each formatter escapes
them for its own output (:mod:`pytest_repro.report.escape`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pytest_repro.labels import claimed_comparison, comparison
from pytest_repro.report.format import Units, at_text, first_sentence
from pytest_repro.results import ClaimResult
from pytest_repro.vocab import SUMMARY_ORDER, Better, VerdictMeaning, VerdictName, meaning

if TYPE_CHECKING:
    from pytest_repro.stats.anytime import AnytimeCheck
    from pytest_repro.stats.power import PowerInput

#: Verdicts with measured values that the anytime check and the paper-level view read.
MEASURED = ("matched", "gap", "exceeded", "disagreement", "inconclusive")


def units_of(result: ClaimResult) -> Units:
    return Units(result.unit, result.tolerance)


def paper_text(result: ClaimResult) -> str:
    """What the paper reports, in the claim's direction: ``90.0%``,
    ``A lower than B by ≥ 1.0`` (a margin), ``A higher than B by 2.0 pp (sd 0.5 pp, 5 runs)``."""
    units = units_of(result)
    if result.claimed:
        return result.claimed
    if result.paper is None:
        if result.kind == "comparative":
            return claimed_comparison(result.better, result.margin, units)
        return "n/a"
    absolute = result.kind == "absolute"
    text = units.value(result.paper) if absolute else comparison(result.better, result.paper, units)
    if result.paper_spread:
        text += (
            f" ({result.paper_spread['kind']} {units.magnitude(float(result.paper_spread['value']))}, "
            f"{result.paper_spread['seeds']} runs)"
        )
    return text


def measured_text(result: ClaimResult) -> str:
    """The estimate with its decision interval: ``90.0% 90% CI [89.8%, 90.2%]``."""
    units = units_of(result)
    if result.sweep:
        return str(result.sweep.get("measured", "n/a"))
    if result.estimate is None:
        return "n/a"
    if result.kind == "absolute":
        value, interval = units.value(result.estimate), units.interval(result.interval)
    else:
        value, interval = units.diff(result.estimate), units.diff_interval(result.interval)
    if result.interval:
        level = f"{round((result.confidence or 0) * 100):g}%"
        return f"{value} {level} CI {interval}"
    return value


def delta_value(result: ClaimResult) -> float | None:
    """The delta a report shows: measured minus the paper's value (absolute claims, and
    comparative claims that give the paper's improvement); for a comparison with only a
    margin, the measured improvement of A over B itself, never improvement minus margin."""
    if result.kind == "comparative" and result.paper is None:
        return result.estimate
    if result.kind not in ("absolute", "comparative"):
        return None  # a curve's measured words say how far it is from the claim
    return result.delta


def delta_reference(result: ClaimResult) -> str:
    """What the delta is measured from, shown beside it: `` (margin 1.0)`` for a comparison
    with a margin, `` (improvement minus the paper's)`` for one with the paper's value."""
    if result.kind != "comparative":
        return ""
    if result.paper is not None:
        return " (improvement minus the paper's)"
    return f" (margin {units_of(result).magnitude(result.margin)})" if result.margin else ""


def shown_interval(result: ClaimResult) -> str:
    """The 95% interval in the claim's units (differences for comparative claims)."""
    units = units_of(result)
    if result.kind not in ("absolute", "comparative"):
        return ""  # a curve's points have their own bands (results.md, the figure)
    if result.kind == "absolute":
        return units.interval(result.shown_interval)
    return units.diff_interval(result.shown_interval)


@dataclass(frozen=True, slots=True, kw_only=True)
class SeedValue:
    """One seed's value as shown (comparative claims: its improvement of A over B)."""

    seed: int
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SweptPoint:
    """One point of a claim about a curve, as shown: the swept value, the seeds' mean, its
    95% simultaneous band, the seeds' values, and the paper's value ± tolerance (or empty)."""

    axis: str
    x: str
    mean: str
    band: str
    values: str
    paper: str


def swept_points(result: ClaimResult) -> tuple[SweptPoint, ...]:
    """The points of ``result.sweep`` in the claim's units (none for other claims)."""
    sweep = result.sweep or {}
    units = units_of(result)
    axis = str(sweep.get("axis", "x"))
    out = []
    for p in sweep.get("points") or ():
        if not isinstance(p, dict):
            continue
        paper = ""
        if p.get("paper") is not None:
            tol = p.get("tolerance")
            paper = units.value(float(p["paper"])) + (
                f" ± {units.magnitude(float(tol))}" if tol is not None else ""
            )
        out.append(
            SweptPoint(
                axis=axis,
                x=f"{float(p['x']):.4g}",
                mean=units.value(p.get("mean")),
                band=units.interval(p.get("band")),
                values=", ".join(units.value(x) for x in p.get("values") or ()),
                paper=paper,
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True, kw_only=True)
class AdaptiveSeeds:
    """How many seeds an adaptive schedule used, of how many, after which looks."""

    used: str
    most: str
    stages: str
    saved: str | None

    @property
    def text(self) -> str:
        return f"{self.used} of up to {self.most} (adaptive stages {self.stages})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Substitution:
    """A dataset, model or setting used instead of the paper's, and why."""

    original: str
    used: str
    why: str

    @property
    def text(self) -> str:
        return f"{self.original} -> {self.used} ({self.why})"


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimView:
    """The display facts of one claim result, as plain (unescaped) text."""

    result: ClaimResult
    meaning: VerdictMeaning
    #: ``paper_id::claim_id``, as the summary tables name a claim.
    name: str
    #: ``papers/x/paper.yaml:14``.
    where: str
    #: where the metric is read: ``epoch 5``.
    at: str
    #: what the paper reports, in the claim's direction (``A lower than B by ≥ 1.0``): the
    #: paper column of every report.
    paper: str
    #: whether the spec states a paper value (or is a comparison, which always has one).
    paper_given: bool
    #: ``±1.0 pp``; empty without a tolerance.
    tolerance: str
    #: the two variants a comparative claim compares; None for absolute claims.
    arms: tuple[str, str] | None
    #: the variant an absolute claim runs (``defaults`` without one).
    config: str
    measured: str
    has_estimate: bool
    #: the 95% interval (differences for comparative claims); empty when none was computed.
    interval: str
    #: ``95%``: the level of :attr:`interval`.
    interval_level: str
    method: str
    per_seed: tuple[SeedValue, ...]
    #: what :attr:`per_seed` holds, as a label: ``Per seed``, ``Improvement of A over B per seed``.
    per_seed_what: str
    #: ``+0.5 pp`` (see :func:`delta_value`); empty without a delta.
    delta: str
    #: how far from the paper (or short of the margin), unsigned: ``0.5 pp``; empty without.
    delta_size: str
    #: what :attr:`delta` is measured from (:func:`delta_reference`).
    delta_reference: str
    #: the advice for an undecided claim: more seeds under ``interval: anytime``, and
    #: how many decide it 80% of the time if the paper is right (:func:`advice_text`).
    seeds_needed: str
    #: the anytime-valid check (:func:`anytime_text`); empty where it does not apply.
    anytime: str
    adaptive: AdaptiveSeeds | None
    #: the notes of the statistics, then the warnings (environment drift, ...).
    notes: tuple[str, ...]
    #: a claim about a curve: its swept points (empty for other claims).
    points: tuple[SweptPoint, ...] = ()
    substitutions: tuple[Substitution, ...]
    #: whether the spec expects this verdict (``expect: gap`` with a hypothesis); then
    #: :attr:`meaning` has the expected colours and no remedy.
    expected: bool

    @property
    def verdict(self) -> VerdictName:
        return self.result.verdict

    @property
    def id(self) -> str:
        return self.result.id

    @property
    def text(self) -> str:
        return self.result.text

    @property
    def source(self) -> str:
        return self.result.source

    @property
    def metric(self) -> str:
        return self.result.metric

    @property
    def label(self) -> str:
        return self.result.label

    @property
    def n(self) -> int:
        return self.result.n

    @property
    def hypothesis(self) -> str | None:
        return self.result.hypothesis

    @property
    def error(self) -> str | None:
        return self.result.error

    @property
    def runs(self) -> tuple[str, ...]:
        return tuple(self.result.runs)

    @property
    def delta_text(self) -> str:
        """The delta column and line: ``-2.0 pp``, ``+8.594 (margin 1.0)``."""
        return self.delta + self.delta_reference if self.delta else ""

    @property
    def expected_text(self) -> str:
        """``the claim records this gap (expect: gap); hypothesis: ...`` for an expected
        verdict, else empty. Reports print it where a remedy would go (``expected: ...``):
        there is nothing to record."""
        if not self.expected:
            return ""
        what = self.meaning.prose or self.verdict
        hypothesis = first_sentence(self.hypothesis or "", limit=200) or "none stated"
        return f"the claim records this {what} (expect: {self.result.expect}); hypothesis: {hypothesis}"

    @property
    def per_seed_text(self) -> str:
        """``0: 90.0%, 1: 90.1%``."""
        return ", ".join(f"{s.seed}: {s.value}" for s in self.per_seed)


#: Views already made this session, by the identity of their result (the terminal, the
#: failure text, results.md and HTML each ask for the same claim's).
_VIEWS: dict[int, tuple[ClaimResult, ClaimView]] = {}
_VIEWS_KEPT = 8192


def claim_view(result: ClaimResult) -> ClaimView:
    """The display facts of ``result``, computed once for every format."""
    known = _VIEWS.get(id(result))
    if known is not None and known[0] is result:
        return known[1]
    view = _claim_view(result)
    if len(_VIEWS) >= _VIEWS_KEPT:
        _VIEWS.clear()
    _VIEWS[id(result)] = (result, view)
    return view


def _claim_view(result: ClaimResult) -> ClaimView:
    r = result
    units = units_of(r)
    comparative = r.kind == "comparative"
    show = units.diff if comparative else units.value
    adaptive = None
    if r.adaptive:
        saved = r.adaptive.get("saved")
        adaptive = AdaptiveSeeds(
            used=f"{r.adaptive['used']}",
            most=f"{r.adaptive['max']}",
            stages=f"{r.adaptive['stages']}",
            saved=None if saved is None else f"{saved}",
        )
    return ClaimView(
        result=r,
        meaning=meaning(r.verdict, expected=r.expected),
        name=f"{r.paper_id}::{r.id}",
        where=f"{r.path}:{r.line}",
        at=at_text(r.at),
        paper=paper_text(r),
        paper_given=r.paper is not None or comparative or bool(r.claimed),
        tolerance=(
            f"±{units.magnitude(r.tolerance)}"
            + (
                f" ({r.tolerance_relative * 100:g}% of the paper's value)"
                if r.tolerance_relative
                else ""
            )
            if r.tolerance
            else ""
        ),
        arms=(r.variants[0], r.variants[1]) if comparative and len(r.variants) >= 2 else None,
        config=(
            ""
            if comparative
            else f"a sweep of {len(r.variants)} points: {'; '.join(r.variants)}"
            if r.sweep or r.claimed
            else (r.variants[0] if r.variants else "defaults")
        ),
        measured=measured_text(r),
        has_estimate=r.estimate is not None,
        interval=shown_interval(r) if r.shown_interval else "",
        interval_level=f"{round((r.shown_confidence or 0.95) * 100):g}%",
        method=r.method or "",
        per_seed=tuple(
            SeedValue(seed=s, value=show(v)) for s, v in zip(r.seeds, r.values, strict=False)
        ),
        per_seed_what="Improvement of A over B per seed" if comparative else "Per seed",
        delta=units.diff(delta_value(r)) if delta_value(r) is not None else "",
        delta_size=(
            units.magnitude(r.delta)
            if r.delta is not None and r.kind in ("absolute", "comparative")
            else ""
        ),
        delta_reference=delta_reference(r),
        seeds_needed=advice_text(r),
        anytime=anytime_text(r),
        adaptive=adaptive,
        notes=(*r.notes, *r.warnings),
        points=swept_points(r),
        substitutions=tuple(
            Substitution(original=s["original"], used=s["used"], why=s["why"])
            for s in r.substitutions
        ),
        expected=r.expected,
    )


def verdict_counts(results: Iterable[ClaimResult]) -> str:
    """``3 matched, 2 gap (1 expected)``: how many claims have each verdict, in the summary
    order, and how many of them the spec expects."""
    counts: dict[str, int] = {}
    expected: dict[str, int] = {}
    for r in results:
        counts[r.verdict] = counts.get(r.verdict, 0) + 1
        if r.expected:
            expected[r.verdict] = expected.get(r.verdict, 0) + 1
    parts = []
    for v in SUMMARY_ORDER:
        if v not in counts:
            continue
        known = expected.get(v, 0)
        note = "" if not known else " (expected)" if known == counts[v] else f" ({known} expected)"
        parts.append(f"{counts[v]} {v}{note}")
    return ", ".join(parts)


# -- extra seeds that stay valid (anytime check) and the paper-level view ------------------
def power_input(r: ClaimResult) -> PowerInput | None:
    """The claim as the power calculation sees it (:func:`~pytest_repro.stats.power.claim_input`);
    None for a claim without the paper's value and tolerance, unpaired, or not measured."""
    from pytest_repro.stats.bounded import claim_bounds
    from pytest_repro.stats.power import claim_input

    unpaired = r.kind == "comparative" and len(r.values) != r.n
    if r.verdict not in MEASURED or unpaired or r.kind not in ("absolute", "comparative"):
        return None
    return claim_input(
        name=f"{r.paper_id}::{r.id}",
        kind=r.kind,
        paper=r.paper,
        tolerance=r.tolerance,
        n=r.n,
        values=r.values,
        paper_spread=r.paper_spread,
        bounds=claim_bounds(r.unit, r.paper),
        better=r.better,
        guarded="skew guard" in (r.method or ""),
    )


def anytime_check(r: ClaimResult) -> AnytimeCheck | None:
    """The anytime-valid check of a measured claim (absolute, or paired comparative)."""
    if r.verdict not in MEASURED or len(r.values) < 1 or len(r.values) != r.n:
        return None
    from pytest_repro.stats.anytime import anytime_absolute, anytime_comparative
    from pytest_repro.stats.bounded import claim_bounds

    if r.kind == "absolute" and r.paper is not None and r.tolerance is not None:
        better: Better = (
            "lower" if r.better == "lower" else "none" if r.better == "none" else "higher"
        )
        return anytime_absolute(
            r.values,
            paper=r.paper,
            tolerance=r.tolerance,
            better=better,
            bounds=claim_bounds(r.unit, r.paper),
        )
    if r.kind == "comparative":
        return anytime_comparative(
            r.values, margin=r.margin or 0.0, paper_delta=r.paper, tolerance=r.tolerance
        )
    return None


def anytime_text(r: ClaimResult) -> str:
    """``anytime check (valid however often seeds are added): inconclusive, 90% confidence
    sequence [89.1%, 90.8%] at 5 seeds`` for an undecided claim; empty for a decided one
    (its verdict stands) and where the check does not apply."""
    if (
        r.verdict != "inconclusive"
        or r.kind != "absolute"
        or (r.method or "").startswith("anytime")
    ):
        return ""  # only where adding seeds is the question, and not its own verdict again
    check = anytime_check(r)
    if check is None:
        return ""
    units = units_of(r)
    bounds = (check.low, check.high)
    shown = units.interval(bounds) if r.kind == "absolute" else units.diff_interval(bounds)
    return (
        f"anytime check (valid however often seeds are added): {check.outcome}, "
        f"{check.level:.0%} confidence sequence {shown} at {check.n} seeds"
    )


def advice_text(r: ClaimResult) -> str:
    """What to do about an undecided claim, safe to follow again and again: add seeds under
    ``interval: anytime``, with the seed count at which it decides the claim 80% of the
    time if the paper is right at the observed spread."""
    if r.verdict != "inconclusive" or r.kind != "absolute" or anytime_check(r) is None:
        return ""  # comparative claims have no anytime rule; their label says what to do
    from pytest_repro.stats.power import ASSURANCE, MAX_SEEDS, seeds_for

    head = (
        "to add seeds, decide with interval: anytime, a confidence sequence that stays valid "
        "after every added seed"
        if not (r.method or "").startswith("anytime")
        else "add seeds and run again: interval: anytime stays valid after every added seed"
    )
    c = power_input(r)
    if c is None or c.sd is None:
        return head
    need = seeds_for(c, rule="anytime", start=max(r.n + 1, 2))
    spread = f"{c.sd_source} sd {units_of(r).magnitude(c.sd)}"
    if need is None:
        return (
            f"{head}; no seed count up to {MAX_SEEDS} decides it {ASSURANCE:.0%} of the time "
            f"at this spread ({spread}): the tolerance is small next to the spread"
        )
    return (
        f"{head}; with {need} seeds it decides this claim {ASSURANCE:.0%} of the time "
        f"if the paper is right ({spread})"
    )
