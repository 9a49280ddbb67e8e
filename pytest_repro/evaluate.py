"""From a claim to its verdict: plan runs, obtain them, read the metric, decide.

The metric is read at exactly the claim's ``at`` (epoch or step). A run that
never logged it there is an error that says what the run did log — never a
silent "last value".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pytest_repro.config import ReproConfig
from pytest_repro.errors import MetricError, ReproError, StatsError
from pytest_repro.execution.metrics import examples_key, logged_names
from pytest_repro.execution.plan import Planner, RunRequest
from pytest_repro.execution.worker import OUTPUT_FILE
from pytest_repro.labels import verdict_label
from pytest_repro.metric_at import value_at
from pytest_repro.records import RunRecord
from pytest_repro.report.format import Units, plural
from pytest_repro.results import ClaimHeader, ClaimResult, Measurement, SmokeStage
from pytest_repro.spec.fields import suggest
from pytest_repro.spec.schema import Claim, PaperSpec

if TYPE_CHECKING:
    from pytest_repro.stats import Schedule, Verdict
    from pytest_repro.verdict_cache import VerdictCache

Obtain = Callable[[Sequence[RunRequest]], list[RunRecord]]


@dataclass(frozen=True, slots=True)
class Values:
    """One variant's metric per seed, with the runs they came from."""

    seeds: tuple[int, ...]
    values: tuple[float, ...]
    records: tuple[RunRecord, ...]
    examples: tuple[Sequence[float], ...] | None


class ClaimFailed(Exception):
    """The runs of a claim could not produce values (failed runs, missing metric).

    ``short`` is the gist for the one-line label; ``message`` has every detail.
    """

    def __init__(self, message: str, records: Sequence[RunRecord] = (), short: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.short = short or message.splitlines()[0]
        self.records = tuple(records)


class NotRecorded(ClaimFailed):
    """Rebuilding a report from the ledger: some runs of the claim were never recorded."""


class Evaluator:
    """Evaluates claims with a planner and a way to obtain runs."""

    def __init__(
        self,
        cfg: ReproConfig,
        planner: Planner,
        obtain: Obtain,
        verdicts: VerdictCache | None = None,
    ) -> None:
        """``verdicts``: results of earlier sessions, reused while everything that decides
        them is unchanged (:mod:`pytest_repro.verdict_cache`); None decides every claim."""
        self.cfg = cfg
        self.planner = planner
        self.obtain = obtain
        self.verdicts = verdicts

    def evaluate(
        self, spec: PaperSpec, claim: Claim, header: ClaimHeader | None = None
    ) -> ClaimResult:
        """``header``: ``ClaimHeader.of(spec, claim)``, when the caller made it already."""
        if header is None:
            header = ClaimHeader.of(spec, claim)
        force = self.cfg.reruns(spec.paper.id, claim.id)
        try:
            if self.cfg.smoke:
                return self._smoke(spec, claim, header, force)
            key = self._verdict_key(spec, claim, header, force)
            if key is not None and not force and self.verdicts is not None:
                cached = self.verdicts.get(key, header)
                if cached is not None:
                    return cached
            result = self._decide(spec, claim, header, force)
            if key is not None and self.verdicts is not None:
                self.verdicts.put(key, result)
            return result
        except NotRecorded as missing:
            return ClaimResult.skipped(header, missing.message, label="[not run: no recorded runs]")
        except ClaimFailed as failed:
            return ClaimResult.failed(
                header, failed.message, short=failed.short, runs=[r.run_id for r in failed.records]
            )
        except ReproError as exc:  # a statistics, data, environment or lockfile problem
            return ClaimResult.failed(header, str(exc), short=gist(str(exc)))

    def _decide(
        self, spec: PaperSpec, claim: Claim, header: ClaimHeader, force: bool
    ) -> ClaimResult:
        """The claim's result from its runs, decided in this session."""
        if claim.sweep is not None:
            return self._curve(spec, claim, header, force)
        if claim.seeds.adaptive:
            return self._adaptive(spec, claim, header, force)
        values = self._values(spec, claim, claim.seeds.seeds, force)
        _, verdict = self._stats(claim, values, schedule=None)
        return self._result(claim, header, values, verdict, None)

    def _verdict_key(
        self, spec: PaperSpec, claim: Claim, header: ClaimHeader, force: bool
    ) -> str | None:
        """The verdict cache's key for the claim, from the runs it reads (obtained here;
        deciding reads the same records again from the session's memo). None without a
        cache, for adaptive seeds (how many runs a verdict reads depends on the verdict),
        and when a run is not ok."""
        if self.verdicts is None or claim.seeds.adaptive:
            return None
        records = self.obtain(self._requests(spec, claim, claim.seeds.seeds, force))
        return self.verdicts.key(claim, header, records)

    # -- runs and values ------------------------------------------------------------------
    def requests(self, spec: PaperSpec, claim: Claim) -> tuple[list[RunRequest], bool]:
        """Every run evaluating ``claim`` may obtain, planned as :meth:`evaluate` plans them,
        and whether that is a maximum (adaptive seeds: every stage up to the last)."""
        force = self.cfg.reruns(spec.paper.id, claim.id)
        seeds: Sequence[int] = claim.seeds.seeds
        if self.cfg.smoke:
            return self._smoke_requests(spec, claim, force), False
        if claim.seeds.adaptive and claim.seeds.stages:
            seeds = seeds[: claim.seeds.stages[-1]]
        adaptive = bool(claim.seeds.adaptive)
        return self._requests(spec, claim, seeds, force), adaptive

    def _requests(
        self, spec: PaperSpec, claim: Claim, seeds: Sequence[int], force: bool
    ) -> list[RunRequest]:
        return self.planner.claim_requests(spec, claim.variants(), seeds, force=force, owner=claim)

    def _values(
        self, spec: PaperSpec, claim: Claim, seeds: Sequence[int], force: bool
    ) -> list[Values]:
        variants = claim.variants()
        requests = self._requests(spec, claim, seeds, force)
        records = self.obtain(requests)
        failed = [r for r in records if not r.ok]
        if failed:
            raise ClaimFailed(
                _failed_runs(failed, len(records)), records, _failed_short(failed, len(records))
            )
        out = []
        problems: list[MetricError] = []
        for i, _variant in enumerate(variants):
            chunk = records[i * len(seeds) : (i + 1) * len(seeds)]
            arm = claim if claim.arm_at is None else replace(claim, at=claim.at_of(i))
            values = []
            for record in chunk:
                try:
                    values.append(value_at(record, arm))
                except MetricError as exc:
                    problems.append(exc)
            examples = None
            if arm.at.value is not None:
                key = examples_key(arm.metric, arm.at.axis, arm.at.value)
                if all(key in r.examples for r in chunk):
                    examples = tuple(r.examples[key] for r in chunk)
            out.append(Values(tuple(seeds), tuple(values), tuple(chunk), examples))
        if problems:
            fix = f"(claim {claim.id} reads {claim.metric} at {claim.at}; {claim.where('at')})"
            short = problems[0].short + (
                f" in {len(problems)} of {len(records)} runs" if len(records) > 1 else ""
            )
            raise ClaimFailed("\n".join([*map(str, problems), fix]), records, short)
        return out

    def _adaptive(
        self, spec: PaperSpec, claim: Claim, header: ClaimHeader, force: bool
    ) -> ClaimResult:
        from pytest_repro import stats

        stages = claim.seeds.stages
        assert stages is not None  # the loader sets stages for every adaptive seed plan
        schedule = stats.schedule_for(stages)
        values: list[Values] = []
        for stage in stages:
            values = self._values(spec, claim, claim.seeds.seeds[:stage], force)
            settled, verdict = self._stats(claim, values, schedule=schedule)
            if settled:
                break
        used = len(values[0].seeds)
        adaptive = {
            "stages": list(stages),
            "used": used,
            "max": stages[-1],
            "saved": stages[-1] - used,
        }
        return self._result(claim, header, values, verdict, adaptive)

    def _curve(
        self, spec: PaperSpec, claim: Claim, header: ClaimHeader, force: bool
    ) -> ClaimResult:
        """A claim about a curve: every swept point's values, one rule over them."""
        import numpy as np

        from pytest_repro import curve_words
        from pytest_repro.seeding import derive_seed
        from pytest_repro.stats.curve_question import CurveQuestion, answer_curve

        rule, sweep = curve_words.parts(claim)
        values = self._values(spec, claim, claim.seeds.seeds, force)
        question = CurveQuestion(
            rule=rule.rule,
            xs=sweep.xs,
            direction=rule.direction,
            margin=rule.margin,
            slope=rule.slope,
            scale=rule.scale,
            base=rule.base,
            extremum=rule.extremum,
            within=rule.within,
            paper_points=rule.paper_points,
            tolerances=rule.tolerances or ((rule.slope_tolerance,) if rule.slope_tolerance else ()),
            disagreement=claim.disagreement or 3.0,
            resolution=claim.resolution,
            rng=np.random.default_rng(derive_seed("curve", claim.id, *claim.seeds.seeds)),
        )
        swept = answer_curve(curve_words.seed_rows([v.values for v in values]), question)
        verdict = swept.verdict
        units = Units(claim.unit, rule.tolerances[0] if rule.tolerances else None)
        measurement = measurement_of(verdict, values)
        result = ClaimResult.measured(
            header,
            verdict=verdict.outcome,
            label=curve_words.curve_label(claim, swept, units),
            measurement=measurement,
        )
        return replace(result, sweep=curve_words.sweep_json(claim, swept, units))

    def _stats(
        self, claim: Claim, values: list[Values], *, schedule: Schedule | None
    ) -> tuple[bool, Verdict]:
        import numpy as np

        from pytest_repro import stats
        from pytest_repro.seeding import derive_seed

        method = claim.interval or self.cfg.interval
        rng = np.random.default_rng(derive_seed("interval", claim.id, *values[0].seeds))
        seeds = tuple(values[0].seeds)
        disagreement = claim.disagreement or 3.0
        if claim.kind == "comparative":
            a, b = values
            comparative = stats.ComparativeQuestion(
                paired=a.seeds == b.seeds,
                better="lower" if claim.better == "lower" else "higher",
                paper_delta=claim.paper.value if claim.paper else None,
                tolerance=claim.tolerance,
                margin=claim.margin,
                method=method,
                disagreement=disagreement,
                seeds=seeds,
                rng=rng,
            )
            return stats.answer_comparative(a.values, b.values, comparative, schedule=schedule)
        (only,) = values
        assert claim.paper is not None  # the loader requires paper: on absolute claims
        assert claim.tolerance is not None
        if method == "hierarchical" and only.examples is None:
            raise StatsError(
                f"interval: hierarchical needs per-example outcomes, but the runs logged none for {claim.metric} at "
                f"{claim.at}; log them with ctx.log_examples({claim.metric!r}, outcomes, {claim.at.axis}=...) "
                f"or use interval: t ({claim.where('interval')})"
            )
        from pytest_repro.stats.bounded import claim_bounds

        spread = None
        paper = claim.paper
        if paper.spread is not None and paper.spread_kind is not None and paper.seeds:
            spread = stats.PaperSpread(
                value=paper.spread,
                kind=paper.spread_kind,
                seeds=paper.seeds,
                ci_method=paper.ci_method,
            )
        absolute = stats.AbsoluteQuestion(
            paper=paper.value,
            tolerance=claim.tolerance,
            better=claim.better,
            method=method,
            disagreement=disagreement,
            paper_spread=spread,
            statistic=claim.statistic,
            resolution=claim.resolution,
            examples=[list(e) for e in only.examples] if only.examples is not None else None,
            seeds=seeds,
            rng=rng,
            bounds=claim_bounds(claim.unit, paper.value),
            failed_below=claim.failed_below,
            about=claim.about,
            deterministic=claim.deterministic,
            test_examples=claim.test_examples,
            skewed_seeds=claim.skewed_seeds,
        )
        return stats.answer_absolute(only.values, absolute, schedule=schedule)

    def _result(
        self,
        claim: Claim,
        header: ClaimHeader,
        values: list[Values],
        verdict: Verdict,
        adaptive: Mapping[str, Any] | None,
    ) -> ClaimResult:
        units = Units(claim.unit, claim.tolerance)
        per_seed: tuple[float, ...] = values[0].values
        arms: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
        if claim.kind == "comparative":
            a, b = values
            sign = 1.0 if claim.better == "higher" else -1.0
            arms = (a.values, b.values)
            per_seed = (
                tuple(sign * (x - y) for x, y in zip(a.values, b.values, strict=True))
                if a.seeds == b.seeds
                else ()
            )
        measurement = replace(
            measurement_of(verdict, values),
            values=per_seed,
            values_a=arms[0],
            values_b=arms[1],
            adaptive=dict(adaptive) if adaptive else None,
        )
        return ClaimResult.measured(
            header,
            verdict=verdict.outcome,
            label=verdict_label(claim, verdict, units),
            measurement=measurement,
        )

    # -- smoke ---------------------------------------------------------------------------
    def _smoke_requests(self, spec: PaperSpec, claim: Claim, force: bool) -> list[RunRequest]:
        from pytest_repro import smoke

        seed = claim.seeds.seeds[0]
        return [
            request
            for stage in smoke.stages(spec, self.cfg.smoke_steps)
            for request in smoke.stage_requests(self.planner, spec, claim, stage, seed, force)
        ]

    def _smoke(
        self, spec: PaperSpec, claim: Claim, header: ClaimHeader, force: bool
    ) -> ClaimResult:
        """Each variant in stages of growing budget; the first stage that fails stops it."""
        from pytest_repro import smoke

        seed = claim.seeds.seeds[0]
        done: list[SmokeStage] = []
        records: list[RunRecord] = []
        for stage in smoke.stages(spec, self.cfg.smoke_steps):
            requests = smoke.stage_requests(self.planner, spec, claim, stage, seed, force)
            records = self.obtain(requests)
            results = [
                smoke.stage_result(stage, q, r) for q, r in zip(requests, records, strict=True)
            ]
            done.extend(results)
            runs = [s.run for s in done if s.run]
            broken = [(s, r) for s, r in zip(results, records, strict=True) if s.error is not None]
            if broken:
                first = broken[0][0]
                short = f"smoke failed at stage {stage.name!r}: {first.error}"
                failed = [r for _, r in broken if not r.ok]
                message = short + ("\n" + _failed_runs(failed, len(records)) if failed else "")
                result = ClaimResult.failed(header, message, short=short, runs=runs)
                return replace(result, smoke_stages=tuple(done))
        runs = [s.run for s in done if s.run]
        missing = [r for r in records if not any(claim.metric in p for p in r.series)]
        if missing:
            names = logged_names(missing[0].series)
            message = (
                f"the smoke run of seed {seed} never logged {claim.metric!r}{suggest(claim.metric, names)}"
                + (f"; it logged: {', '.join(names)}" if names else "; it logged nothing")
            )
            result = ClaimResult.failed(
                header, message, short=f"{claim.metric} was never logged", runs=runs
            )
            return replace(result, smoke_stages=tuple(done))
        steps = sorted(
            {int(p["step"]) for r in records for p in r.series if isinstance(p.get("step"), int)}
        )
        where = f" (up to step {steps[-1]})" if steps else ""
        result = ClaimResult.smoke_ok(
            header,
            label=f"[smoke ok: {claim.metric} logged{where}; {smoke.stages_label(done)}]",
            seed=seed,
            runs=runs,
        )
        return replace(result, smoke_stages=tuple(done))


def measurement_of(verdict: Verdict, values: Sequence[Values]) -> Measurement:
    """The numbers a verdict gives a result: estimate, intervals, delta, method, notes, and
    the runs of ``values`` (per-seed values are the caller's: they differ by kind)."""
    return Measurement(
        n=verdict.n,
        seeds=values[0].seeds,
        estimate=verdict.estimate,
        interval=(verdict.interval.low, verdict.interval.high),
        confidence=verdict.interval.level,
        shown_interval=(verdict.shown.low, verdict.shown.high),
        shown_confidence=verdict.shown.level,
        delta=verdict.delta,
        method=verdict.method,
        seeds_needed=verdict.seeds_needed,
        deviation_in_tol=verdict.deviation_in_tol,
        notes=tuple(verdict.notes),
        warnings=tuple(verdict.warnings),
        runs=tuple(r.run_id for v in values for r in v.records),
    )


def gist(message: str) -> str:
    """The first line of an error without its ``file:line: field:`` prefix (the label is short)."""
    first = message.splitlines()[0] if message else "error"
    located = re.match(r"^\S+\.ya?ml:\d+: [\w.\[\]-]+: (.+)$", first)
    if located:
        return located.group(1)
    return re.sub(r"^\S+\.ya?ml: ", "", first)


def _failed_short(failed: Sequence[RunRecord], total: int) -> str:
    statuses = sorted({r.status for r in failed})
    verb = "was" if len(failed) == 1 else "were"
    return f"{len(failed)} of {plural(total, 'run')} {verb} not ok ({', '.join(statuses)})"


def _failed_runs(failed: Sequence[RunRecord], total: int) -> str:
    lines = [f"{len(failed)} of {plural(total, 'run')} did not finish:"]
    for record in failed:
        lines.append(
            f"  seed {record.seed} ({record.run_id}): {record.status}: {record.error or 'no error message'}"
        )
        tail = [ln for ln in record.output_tail.splitlines() if ln.strip()][-12:]
        if tail:
            lines.append("    last output:")
            lines.extend(f"      {ln}" for ln in tail)
        if record.run_dir:
            lines.append(f"    output: {record.run_dir}/{OUTPUT_FILE}")
    return "\n".join(lines)
