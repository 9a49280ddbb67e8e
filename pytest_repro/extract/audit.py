"""The gap audit: a spec held against the paper's extract.

Findings, each with its severity (a ``gap`` fails ``--repro-audit=strict``; a ``note`` is
a documented guess and never fails):

- ``assumed``: a ``run.config`` value marked ``source: assumed`` (a note with its
  ``why``, a gap without one);
- ``no source``: a ``run.config`` value with no ``source``;
- ``open``: a hyperparameter kind the paper never states and the spec does not settle
  with an assumed value of that kind;
- ``differs``: a config value of a kind the paper states, whose value is none of the
  paper's; a claim whose paper value is not in the table it cites;
- ``uncovered``: a reported result no claim's paper value equals.

Config keys are matched to kinds by their names (``lr``, ``batch_size``,
``warmup_steps``, ``n_layers`` …, see :func:`~pytest_repro.extract.hyperparameters.label_kind`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pytest_repro.extract.hyperparameters import label_kind
from pytest_repro.extract.model import KIND_WORDS, Extract, Fact, Result
from pytest_repro.extract.numbers import number_text
from pytest_repro.extract.paper_md import open_questions
from pytest_repro.report.escape import md_code, md_text, utf8_text
from pytest_repro.spec.schema import ConfigValue, PaperSpec

Severity = Literal["gap", "note"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    kind: Literal["assumed", "no source", "open", "differs", "uncovered"]
    severity: Severity
    subject: str  # ``run.config.lr``, ``warmup``, ``Table 1: Dense baseline``
    detail: str
    where: str = ""  # the spec's line, ``papers/p/paper.yaml:12``


@dataclass(frozen=True, slots=True, kw_only=True)
class Row:
    """One line of gaps_filled.md: a hyperparameter and where its value comes from."""

    name: str
    kind: str
    value: str
    source: str
    paper: str
    status: str
    why: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Audit:
    paper: str
    findings: tuple[Finding, ...]
    rows: tuple[Row, ...]
    partial: bool

    @property
    def gaps(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "gap")


def config_kind(name: str) -> str | None:
    """The hyperparameter kind a ``run.config`` key names (``warmup_steps`` → warmup)."""
    return label_kind(name.replace("_", " ").replace("-", " "))


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


def _as_number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _stated(extract: Extract, kind: str) -> list[Fact]:
    return [f for f in extract.hyperparameters if f.kind == kind and f.value != "none"]


def _agrees(value: object, facts: Sequence[Fact]) -> bool | None:
    """Whether ``value`` is one of the paper's; None when the facts cannot say."""
    number = _as_number(value)
    numbers = [f.number for f in facts if f.number is not None]
    if number is not None and numbers:
        return any(_close(number, n) for n in numbers)
    if isinstance(value, str) and facts:
        low = value.lower()
        return any(low in f.value.lower() or f.value.lower() in low for f in facts)
    return None


def _paper_says(facts: Sequence[Fact]) -> str:
    seen = dict.fromkeys(f"{f.value} ({f.where}{', ' + f.scope if f.scope else ''})" for f in facts)
    return "; ".join(list(seen)[:4])


def audit(spec: PaperSpec, extract: Extract) -> Audit:
    findings: list[Finding] = []
    rows: list[Row] = []
    settled: set[str] = set()  # kinds the spec gives a value for
    for name, cv in spec.run.config.items():
        kind = config_kind(name)
        facts = _stated(extract, kind) if kind else []
        status, why = _provenance(name, cv, findings)
        if kind:
            settled.add(kind)
        agrees = _agrees(cv.value, facts) if kind else None
        if agrees is False:
            status = "differs from the paper"
            findings.append(
                Finding(
                    kind="differs",
                    severity="gap",
                    subject=f"run.config.{name}",
                    detail=f"{_show(cv.value)} here; the paper says {_paper_says(facts)}",
                    where=str(cv.loc),
                )
            )
        rows.append(
            Row(
                name=name,
                kind=KIND_WORDS.get(kind or "", ""),
                value=_show(cv.value),
                source=cv.source or "",
                paper=_paper_says(facts),
                status=status,
                why=why,
            )
        )
    for kind in dict.fromkeys(f.kind for f in extract.hyperparameters):
        if kind not in settled:
            facts = _stated(extract, kind)
            if facts:
                rows.append(
                    Row(
                        name="",
                        kind=KIND_WORDS.get(kind, kind),
                        value="",
                        source="",
                        paper=_paper_says(facts),
                        status="stated by the paper, not in run.config",
                        why="",
                    )
                )
    for question in open_questions(extract):
        kind = next((k for k, w in KIND_WORDS.items() if question == f"no {w} stated"), None)
        if kind is not None and kind in settled:
            continue  # the spec settles it; its provenance is audited above
        findings.append(
            Finding(
                kind="open", severity="gap", subject=question.removeprefix("no "), detail=question
            )
        )
    findings.extend(_claims_against_tables(spec, extract))
    for result in extract.results:
        if not any(_covers(c.paper.value, result) for c in spec.claims if c.paper is not None):
            findings.append(
                Finding(
                    kind="uncovered",
                    severity="gap",
                    subject=f"{result.table}: {result.model}",
                    detail=f"{result.metric or 'value'} {result.text}"
                    + (f" on {result.dataset}" if result.dataset else "")
                    + " has no claim",
                )
            )
    return Audit(
        paper=spec.display, findings=tuple(findings), rows=tuple(rows), partial=extract.partial
    )


def _provenance(name: str, cv: ConfigValue, findings: list[Finding]) -> tuple[str, str]:
    if cv.assumed:
        findings.append(
            Finding(
                kind="assumed",
                severity="note" if cv.why else "gap",
                subject=f"run.config.{name}",
                detail=f"{_show(cv.value)} is assumed"
                + (f": {cv.why}" if cv.why else ", with no why: say why this value"),
                where=str(cv.loc),
            )
        )
        return "assumed", cv.why or ""
    if not cv.source:
        findings.append(
            Finding(
                kind="no source",
                severity="gap",
                subject=f"run.config.{name}",
                detail=f"{_show(cv.value)} has no source: cite the paper ({{value: ..., "
                'source: "Sec. 4.1"}) or mark it source: assumed with a why',
                where=str(cv.loc),
            )
        )
        return "no source", ""
    return "stated", cv.why or ""


def _covers(value: float, result: Result) -> bool:
    return _close(value, result.value) or (result.percent and _close(value * 100, result.value))


def _claims_against_tables(spec: PaperSpec, extract: Extract) -> list[Finding]:
    out: list[Finding] = []
    tables = {t.ref for t in extract.tables}
    for claim in spec.claims:
        if claim.paper is None:
            continue
        cited = [ref for ref in tables if ref.lower() in claim.source.lower()]
        if not cited:
            continue
        values = [r for r in extract.results if r.table in cited]
        if values and not any(_covers(claim.paper.value, r) for r in values):
            shown = ", ".join(dict.fromkeys(r.text for r in values[:8]))
            out.append(
                Finding(
                    kind="differs",
                    severity="gap",
                    subject=f"claim {claim.id}",
                    detail=f"paper: {claim.paper.value:g} is not in {', '.join(cited)} "
                    f"(it holds {shown})",
                    where=str(claim.loc),
                )
            )
    return out


def _show(value: object) -> str:
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def table_lines(result: Audit) -> list[str]:
    """The findings as a terminal table."""
    if not result.findings:
        return [f"{result.paper}: no gaps: every config value is sourced and every result claimed"]
    width = max(len(f.subject) for f in result.findings)
    lines = [
        f"{result.paper}: {len(result.gaps)} gaps, {len(result.findings) - len(result.gaps)} notes"
    ]
    lines.append(f"  {'what':<10} {'subject':<{width}}  detail")
    for f in result.findings:
        mark = f.kind if f.severity == "gap" else f"{f.kind} (note)"
        where = f"  [{f.where}]" if f.where else ""
        lines.append(f"  {mark:<10} {f.subject:<{width}}  {f.detail}{where}")
    if result.partial:
        lines.append("  the extract is partial (see paper.md): a fact it missed is not a gap")
    return lines


def gaps_filled_md(result: Audit, title: str) -> str:
    """The text of gaps_filled.md: every hyperparameter with its provenance, then the gaps."""
    out = [
        f"# Hyperparameters and their provenance: {md_text(title)}",
        "",
        f"From {md_code(result.paper)} held against paper.md by `pytest-repro audit`.",
        "",
        "| Config key | Kind | Value | Source in spec | The paper says | Status | Why |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in result.rows:
        out.append(
            f"| {md_code(r.name, cell=True) if r.name else ''} | {md_text(r.kind)} "
            f"| {md_text(r.value)} | {md_text(r.source)} | {md_text(r.paper)} "
            f"| {md_text(r.status)} | {md_text(r.why)} |"
        )
    out.append("")
    groups = (
        ("Open questions", "open"),
        ("Values that differ from the paper", "differs"),
        ("Values without a source", "no source"),
        ("Assumed values", "assumed"),
        ("Reported results no claim covers", "uncovered"),
    )
    for heading, kind in groups:
        items = [f for f in result.findings if f.kind == kind]
        if not items:
            continue
        out += [f"## {heading}", ""]
        out += [f"- {md_text(f.subject)}: {md_text(f.detail)}" for f in items]
        out.append("")
    if result.partial:
        out += [
            "The extract is partial (see paper.md): a fact it could not read is not listed.",
            "",
        ]
    return utf8_text("\n".join(out))
