"""From a claim to its verdict: plan runs, obtain them, read the metric, decide.

The metric is read at exactly the claim's ``at`` (epoch or step). A run that
never logged it there is an error that says what the run did log — never a
silent "last value".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_repro.config import ReproConfig
from pytest_repro.errors import MetricError, ReproError, StatsError
from pytest_repro.execution.metrics import examples_key, logged_names
from pytest_repro.execution.plan import Planner, RunRequest
from pytest_repro.execution.worker import OUTPUT_FILE
from pytest_repro.records import RunRecord
from pytest_repro.report.format import Units, first_sentence, plural
from pytest_repro.results import ClaimResult
from pytest_repro.spec.fields import suggest
from pytest_repro.spec.schema import Claim, PaperSpec

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


def value_at(record: RunRecord, claim: Claim, metric: str | None = None) -> float:
    """The claim's metric in ``record`` at the claim's epoch/step; :class:`MetricError` if absent."""
    metric = metric or claim.metric
    axis, at = claim.at.axis, claim.at.value
    where = f"seed {record.seed} (run {record.run_id})"
    with_metric = [p for p in record.series if metric in p]
    hits = [p for p in with_metric if p.get(axis) == at]
    if hits:
        value = hits[-1][metric]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MetricError(
                f"{where}: {metric} at {axis} {at} is {value!r}, not a number",
                f"{metric} is not a number",
            )
        if not math.isfinite(value):
            raise MetricError(
                f"{where}: {metric} is {value} at {axis} {at}: the run diverged or logged an invalid value",
                f"{metric} is {value} at {axis} {at}",
            )
        return float(value)
    if not record.series:
        raise MetricError(
            f"{where}: the run logged no metrics at all; call ctx.log({axis}=..., {metric}=...) in the entrypoint",
            "the runs logged no metrics",
        )
    if not with_metric:
        names = logged_names(record.series)
        raise MetricError(
            f"{where}: {metric!r} was never logged{suggest(metric, names)}; the run logged: {', '.join(names)}",
            f"{metric} was never logged{suggest(metric, names)}",
        )
    reached = [p[axis] for p in with_metric if isinstance(p.get(axis), int)]
    if not reached:
        other = "step" if axis == "epoch" else "epoch"
        raise MetricError(
            f"{where}: {metric} was logged with {other}= only, but the claim reads it at {axis} {at}; "
            f"log {axis}= too, or write at: {{{other}: N}}",
            f"{metric} was logged by {other}, not by {axis}",
        )
    last = max(reached)
    if last < at:
        raise MetricError(
            f"{where}: the run logged {metric} up to {axis} {last} but never reached {axis} {at}, "
            "where the claim reads it (did it stop early or time out?)",
            f"{metric} never reached {axis} {at} (last: {last})",
        )
    near = sorted(reached, key=lambda v: abs(v - at))[:3]
    raise MetricError(
        f"{where}: {metric} was logged at {axis}s {', '.join(map(str, sorted(near)))} but not at {axis} {at}, "
        f"where the claim reads it; log at {axis} {at} or fix at:",
        f"{metric} not logged at {axis} {at}",
    )


class Evaluator:
    """Evaluates claims with a planner and a way to obtain runs."""

    def __init__(self, cfg: ReproConfig, planner: Planner, obtain: Obtain) -> None:
        self.cfg = cfg
        self.planner = planner
        self.obtain = obtain

    def evaluate(self, spec: PaperSpec, claim: Claim) -> ClaimResult:
        base = _base(spec, claim)
        force = self.cfg.reruns(spec.paper.id, claim.id)
        try:
            if self.cfg.smoke:
                return self._smoke(spec, claim, base, force)
            if claim.seeds.adaptive:
                return self._adaptive(spec, claim, base, force)
            values = self._values(spec, claim, claim.seeds.seeds, force)
            return self._decide(spec, claim, base, values, None)
        except NotRecorded as missing:
            return ClaimResult(
                **dict(
                    base,
                    verdict="skipped",
                    label="[not run: no recorded runs]",
                    error=missing.message,
                )
            )
        except ClaimFailed as failed:
            return _error(base, failed.message, failed.records, failed.short)
        except ReproError as exc:  # a statistics, data, environment or lockfile problem
            return _error(base, str(exc), (), _gist(str(exc)))

    # -- runs and values ------------------------------------------------------------------
    def _values(
        self, spec: PaperSpec, claim: Claim, seeds: Sequence[int], force: bool
    ) -> list[Values]:
        variants = claim.variants()
        requests = [self.planner.request(spec, v, s, force=force) for v in variants for s in seeds]
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
            values = []
            for record in chunk:
                try:
                    values.append(value_at(record, claim))
                except MetricError as exc:
                    problems.append(exc)
            examples = None
            key = examples_key(claim.metric, claim.at.axis, claim.at.value)
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
        self, spec: PaperSpec, claim: Claim, base: dict[str, Any], force: bool
    ) -> ClaimResult:
        from pytest_repro import stats

        stages = claim.seeds.stages
        assert stages is not None
        schedule = stats.schedule_for(stages)
        values: list[Values] = []
        for stage in stages:
            values = self._values(spec, claim, claim.seeds.seeds[:stage], force)
            settled, verdict = self._stats(claim, values, schedule=schedule)
            if settled:
                break
        adaptive = {
            "stages": list(stages),
            "used": len(values[0].seeds),
            "max": stages[-1],
            "saved": stages[-1] - len(values[0].seeds),
        }
        return self._result(claim, base, values, verdict, adaptive)

    def _decide(
        self,
        spec: PaperSpec,
        claim: Claim,
        base: dict[str, Any],
        values: list[Values],
        adaptive: Mapping[str, Any] | None,
    ) -> ClaimResult:
        _, verdict = self._stats(claim, values, schedule=None)
        return self._result(claim, base, values, verdict, adaptive)

    def _stats(self, claim: Claim, values: list[Values], *, schedule: Any) -> tuple[bool, Any]:
        import numpy as np

        from pytest_repro import stats
        from pytest_repro.seeding import derive_seed

        method = claim.interval or self.cfg.interval
        rng = np.random.default_rng(derive_seed("interval", claim.id, *values[0].seeds))
        common: dict[str, Any] = {
            "method": method,
            "disagreement": claim.disagreement or 3.0,
            "rng": rng,
            "seeds": list(values[0].seeds),
        }
        if claim.kind == "comparative":
            a, b = values
            kwargs = dict(
                common,
                paired=a.seeds == b.seeds,
                better=claim.better,
                paper_delta=claim.paper.value if claim.paper else None,
                tolerance=claim.tolerance,
                margin=claim.margin,
            )
            if schedule is not None:
                return stats.decide_sequential_comparative(
                    list(a.values), list(b.values), schedule=schedule, **kwargs
                )
            return True, stats.decide_comparative(list(a.values), list(b.values), **kwargs)
        (only,) = values
        assert claim.paper is not None
        assert claim.tolerance is not None
        spread = None
        if (
            claim.paper.spread is not None
            and claim.paper.spread_kind is not None
            and claim.paper.seeds
        ):
            spread = stats.PaperSpread(
                value=claim.paper.spread, kind=claim.paper.spread_kind, seeds=claim.paper.seeds
            )
        kwargs = dict(
            common,
            paper=claim.paper.value,
            tolerance=claim.tolerance,
            better=claim.better,
            paper_spread=spread,
            statistic=claim.statistic,
            resolution=claim.resolution,
            examples=[list(e) for e in only.examples] if only.examples is not None else None,
        )
        if method == "hierarchical" and only.examples is None:
            raise StatsError(
                f"interval: hierarchical needs per-example outcomes, but the runs logged none for {claim.metric} at "
                f"{claim.at}; log them with ctx.log_examples({claim.metric!r}, outcomes, {claim.at.axis}=...) "
                f"or use interval: t ({claim.where('interval')})"
            )
        if schedule is not None:
            return stats.decide_sequential(list(only.values), schedule=schedule, **kwargs)
        return True, stats.decide_absolute(list(only.values), **kwargs)

    def _result(
        self,
        claim: Claim,
        base: dict[str, Any],
        values: list[Values],
        verdict: Any,
        adaptive: Mapping[str, Any] | None,
    ) -> ClaimResult:
        units = Units(claim.unit, claim.tolerance if claim.tolerance is not None else None)
        records = [r for v in values for r in v.records]
        fields: dict[str, Any] = dict(
            base,
            verdict=verdict.outcome,
            label=label(claim, verdict.outcome, verdict, units),
            n=verdict.n,
            seeds=list(values[0].seeds),
            estimate=verdict.estimate,
            interval=[verdict.interval.low, verdict.interval.high],
            confidence=verdict.interval.level,
            shown_interval=[verdict.shown.low, verdict.shown.high],
            shown_confidence=verdict.shown.level,
            delta=verdict.delta,
            method=verdict.method,
            seeds_needed=verdict.seeds_needed,
            deviation_in_tol=verdict.deviation_in_tol,
            notes=list(verdict.notes),
            warnings=list(verdict.warnings),
            runs=[r.run_id for r in records],
            adaptive=dict(adaptive) if adaptive else None,
        )
        if claim.kind == "comparative":
            a, b = values
            sign = 1.0 if claim.better == "higher" else -1.0
            fields["values_a"] = list(a.values)
            fields["values_b"] = list(b.values)
            if a.seeds == b.seeds:
                fields["values"] = [sign * (x - y) for x, y in zip(a.values, b.values, strict=True)]
        else:
            fields["values"] = list(values[0].values)
        return ClaimResult(**fields)

    # -- smoke ---------------------------------------------------------------------------
    def _smoke(
        self, spec: PaperSpec, claim: Claim, base: dict[str, Any], force: bool
    ) -> ClaimResult:
        seed = claim.seeds.seeds[0]
        requests = [self.planner.request(spec, v, seed, force=force) for v in claim.variants()]
        records = self.obtain(requests)
        failed = [r for r in records if not r.ok]
        if failed:
            return _error(
                base,
                _failed_runs(failed, len(records)),
                records,
                _failed_short(failed, len(records)),
            )
        missing = [r for r in records if not any(claim.metric in p for p in r.series)]
        if missing:
            names = logged_names(missing[0].series)
            message = (
                f"the smoke run of seed {seed} never logged {claim.metric!r}{suggest(claim.metric, names)}"
                + (f"; it logged: {', '.join(names)}" if names else "; it logged nothing")
            )
            return _error(base, message, records, f"{claim.metric} was never logged")
        steps = sorted(
            {int(p["step"]) for r in records for p in r.series if isinstance(p.get("step"), int)}
        )
        where = f" (up to step {steps[-1]})" if steps else ""
        return ClaimResult(
            **dict(
                base,
                verdict="smoke",
                label=f"[smoke ok: {claim.metric} logged{where}, {plural(len(records), 'run')}]",
                n=1,
                seeds=[seed],
                runs=[r.run_id for r in records],
                smoke=True,
            )
        )


def _base(spec: PaperSpec, claim: Claim) -> dict[str, Any]:
    paper_spread = None
    if claim.paper is not None and claim.paper.spread is not None:
        paper_spread = {
            "value": claim.paper.spread,
            "kind": claim.paper.spread_kind,
            "seeds": claim.paper.seeds,
        }
    return {
        "paper_id": spec.paper.id,
        "paper_title": spec.paper.title,
        "path": spec.display,
        "id": claim.id,
        "line": claim.loc.line,
        "kind": claim.kind,
        "text": claim.text,
        "source": claim.source,
        "metric": claim.metric,
        "at": {claim.at.axis: claim.at.value},
        "paper": claim.paper.value if claim.paper else None,
        "paper_spread": paper_spread,
        "tolerance": claim.tolerance,
        "better": claim.better,
        "unit": claim.unit,
        "hypothesis": claim.hypothesis,
        "expect": claim.expect,
        "see": claim.see,
        "margin": claim.margin if claim.kind == "comparative" else None,
        "variants": [v.describe() for v in claim.variants()],
        "substitutions": [
            {"original": s.original, "used": s.used, "why": s.why}
            for s in spec.substitutions_for(claim.id)
        ],
    }


def _error(
    base: dict[str, Any], message: str, records: Sequence[RunRecord], short: str
) -> ClaimResult:
    short = short if len(short) <= 100 else short[:97] + "..."
    return ClaimResult(
        **dict(
            base,
            verdict="error",
            label=f"[error: {short}]",
            error=message,
            runs=[r.run_id for r in records],
        )
    )


def _gist(message: str) -> str:
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


def label(claim: Claim, outcome: str, verdict: Any, units: Units) -> str:
    """The verdict as a reproduction report writes it: ``[matched within 0.5 pp]``."""
    delta = verdict.delta
    if claim.kind == "comparative" and claim.paper is None:
        if outcome == "matched":
            margin = f" (margin {units.magnitude(claim.margin)})" if claim.margin else ""
            return f"[matched: A better by {units.magnitude(verdict.estimate)}{margin}]"
        if outcome == "gap":
            improvement = units.diff(verdict.estimate)
            margin = units.magnitude(claim.margin)
            return f"[gap: improvement of A over B {improvement}, below the margin {margin}{_hyp(claim)}]"
        if outcome == "disagreement":
            return f"[fundamental disagreement: B better by {units.magnitude(verdict.estimate)}, see {_see(claim)}]"
    if outcome == "matched":
        return f"[matched within {units.magnitude(claim.tolerance or 0.0)}]"
    if outcome == "gap":
        return f"[gap of {units.magnitude(delta)}" + _hyp(claim) + "]"
    if outcome == "exceeded":
        return f"[exceeded by {units.magnitude(delta)}]"
    if outcome == "disagreement":
        return f"[fundamental disagreement, see {_see(claim)}]"
    if verdict.n <= 1 and verdict.deviation_in_tol is not None:
        return f"[inconclusive: 1 seed, {verdict.deviation_in_tol:.1f} tolerances from the paper]"
    if verdict.seeds_needed:
        return f"[inconclusive: ~{verdict.seeds_needed} seeds would decide]"
    return "[inconclusive: the interval is too wide to decide]"


def _hyp(claim: Claim) -> str:
    if claim.hypothesis:
        return f", hypothesis: {first_sentence(claim.hypothesis)}"
    return ", no hypothesis stated"


def _see(claim: Claim) -> str:
    return claim.see or f"results.md#{claim.id}"
