"""``pytest-repro extract PAPER --into papers/<id>/paper.yaml``: a draft of the spec.

Where ``paper.yaml`` does not exist, the draft is written there (a whole spec: paper,
run with the proposed ``run.config``, claim stubs). Where it exists, it is never
changed: the proposals are written beside it to ``paper.proposed.yaml``, holding only
what the spec does not have yet (config kinds it lacks, results no claim covers), for
the user to copy what they keep. A user's file keeps its comments, order and choices;
rerunning the extract replaces the proposal and nothing else.

Every value comes from the paper with its ``source:`` (``Sec. 3.1``, ``Table 3``); text
from the paper is written as JSON strings (valid YAML, any character escaped) and in
comments on one line.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence

from pytest_repro.extract.model import KIND_WORDS, Extract, Fact, Result
from pytest_repro.extract.numbers import number_text
from pytest_repro.report.escape import one_line

#: The ``run.config`` key each kind is proposed under.
CONFIG_NAMES = {
    "learning_rate": "lr",
    "batch_size": "batch_size",
    "epochs": "epochs",
    "steps": "steps",
    "optimizer": "optimizer",
    "betas": "betas",
    "momentum": "momentum",
    "weight_decay": "weight_decay",
    "schedule": "lr_schedule",
    "warmup": "warmup",
    "dropout": "dropout",
    "width": "width",
    "depth": "depth",
    "init": "init",
    "augmentation": "augmentation",
    "seeds": "seeds",
}


def _q(text: str) -> str:
    return json.dumps(one_line(text), ensure_ascii=True)


def _comment(text: str) -> str:
    return one_line(text).replace("\t", " ")


def _value(fact: Fact) -> str:
    if fact.kind == "betas":
        parts = [p.strip() for p in fact.value.split(",")]
        if all(re.fullmatch(r"\d+(?:\.\d+)?", p) for p in parts):
            return "[" + ", ".join(parts) + "]"
    if fact.number is not None and fact.value != "none":
        return number_text(fact.number)
    return _q(fact.value)


def choose(facts: Sequence[Fact]) -> Fact:
    """The fact a default is proposed from: unscoped first, then the value said most."""
    unscoped = [f for f in facts if not f.scope] or list(facts)
    counts = Counter(f.number if f.number is not None else f.value for f in unscoped)
    return max(unscoped, key=lambda f: counts[f.number if f.number is not None else f.value])


def config_lines(extract: Extract, skip_kinds: set[str]) -> list[str]:
    """``run.config`` entries, one per stated kind, with the alternatives as comments."""
    lines: list[str] = []
    kinds = dict.fromkeys(f.kind for f in extract.hyperparameters if f.kind != "seeds")
    for kind in kinds:
        if kind in skip_kinds:
            continue
        facts = [f for f in extract.hyperparameters if f.kind == kind]
        best = choose(facts)
        name = CONFIG_NAMES.get(kind, kind)
        lines.append(
            f"    {name}: {{value: {_value(best)}, source: {_q(best.where)}}}"
            f"  # {_comment(KIND_WORDS.get(kind, kind))}"
        )
        others = dict.fromkeys(
            f"{f.value} ({f.where}{', for ' + f.scope if f.scope else ''})"
            for f in facts
            if f is not best and (f.number != best.number or f.value != best.value)
        )
        for other in list(others)[:3]:
            lines.append(f"    #   also stated: {_comment(other)}")
    return lines


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return (slug or "result")[:60].strip("-")


def claim_lines(extract: Extract, results: Sequence[Result]) -> list[str]:
    """A claim stub per reported result: metric, the paper's value and ±, its table."""
    epochs = [f for f in extract.hyperparameters if f.kind == "epochs" and f.number and not f.scope]
    steps = [f for f in extract.hyperparameters if f.kind == "steps" and f.number and not f.scope]
    if epochs:
        at = f"{{epoch: {number_text(choose(epochs).number or 1)}}}"
    elif steps:
        at = f"{{step: {number_text(choose(steps).number or 1)}}}"
    else:
        at = "{epoch: 1}  # TODO: where the paper reports it"
    lines: list[str] = []
    used: set[str] = set()
    for r in results:
        base = _slug(f"{r.table} {r.model} {r.dataset}")
        cid, n = base, 2
        while cid in used:
            cid, n = f"{base}-{n}", n + 1
        used.add(cid)
        metric = _slug(r.metric).replace("-", "_") or "metric"
        said = f"{r.model} reaches {r.text}" + (f" {r.metric}" if r.metric else "")
        said += f" on {r.dataset}" if r.dataset else ""
        paper = number_text(r.value)
        if r.pm is not None and r.spread in ("sd", "se", "ci95"):
            paper = f"{{value: {paper}, {r.spread}: {number_text(r.pm)}"
            paper += f", seeds: {r.seeds}}}" if r.seeds else "}"
        tolerance = (
            number_text(round(2 * r.pm, 10)) if r.pm else number_text(abs(r.value) * 0.01 or 0.01)
        )
        lines += [
            f"  - id: {cid}",
            f"    text: {_q(said)}",
            f"    source: {_q(r.table)}",
            f"    metric: {metric}  # TODO: the name your run logs"
            + ("; the paper writes percent" if r.percent else ""),
            f"    at: {at}",
            f"    paper: {paper}"
            + (
                f"  # ± {number_text(r.pm)} in the paper, its meaning unstated"
                if r.pm and r.spread == "unspecified"
                else ""
            ),
            f"    tolerance: {tolerance}  # proposed: twice the paper's ±, or 1% of its value; decide",
        ]
    return lines


def full_draft(extract: Extract, paper_id: str) -> str:
    """A whole paper.yaml from the extract."""
    config = config_lines(extract, set()) or ["    {}  # the paper states no hyperparameter"]
    claims = claim_lines(extract, extract.results)
    lines = [
        f"# Drafted by `pytest-repro extract` from {_comment(extract.source)}.",
        "# Every value is a candidate read from the paper's text: check each against the paper.",
        "paper:",
        f"  id: {_q(paper_id)}",
        f"  title: {_q(extract.title or 'TITLE OF THE PAPER')}",
    ]
    if extract.authors:
        lines.append("  authors: [" + ", ".join(_q(a) for a in extract.authors) + "]")
    lines += ["run:", "  entrypoint: train:run", "  config:", *config]
    if claims:
        lines += ["claims:", *claims]
    else:
        lines += [
            "claims: []  # no results table was read: write the claims by hand",
        ]
    return "\n".join(lines) + "\n"


def proposal(extract: Extract, have_kinds: set[str], uncovered: Sequence[Result], spec: str) -> str:
    """paper.proposed.yaml: what ``spec`` does not have yet, for the user to copy."""
    lines = [
        f"# Proposals for {_comment(spec)} from `pytest-repro extract` ({_comment(extract.source)}).",
        "# paper.yaml was not changed. Copy what you keep into it; this file is not collected",
        "# and is replaced by the next extract.",
    ]
    config = config_lines(extract, have_kinds)
    if config:
        lines += ["run:", "  config:", *config]
    claims = claim_lines(extract, uncovered)
    if claims:
        lines += ["claims:", *claims]
    if not config and not claims:
        lines.append("# nothing to propose: the spec has every stated kind and every result")
    return "\n".join(lines) + "\n"
