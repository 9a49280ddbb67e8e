"""``papers/<id>/paper.md``: the extract as a page people read and the audit reads back.

The page lists the title, authors, sections, every candidate hyperparameter with the
sentence that states it, the datasets, the reported results and each table as it was
read. Every piece of the paper's text is escaped (:mod:`pytest_repro.report.escape`).
The extract itself is kept at the end of the page in an HTML comment (JSON; no ``--``
inside it), which Markdown viewers do not show; ``pytest-repro audit`` reads it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pytest_repro.errors import ReproError
from pytest_repro.extract.model import HYPERPARAMETER_KINDS, KIND_WORDS, Extract
from pytest_repro.report.escape import md_heading, md_text, utf8_text

MARK = "pytest-repro extract"
_BLOCK = re.compile(r"<!-- " + MARK + r" v(?P<version>\d+)\n(?P<json>.*?)\n-->", re.S)


def open_questions(extract: Extract) -> list[str]:
    """The hyperparameter kinds the paper never states, as questions to settle."""
    stated = extract.stated_kinds()
    optimizers = " ".join(f.value.lower() for f in extract.hyperparameters if f.kind == "optimizer")
    out: list[str] = []
    for kind in HYPERPARAMETER_KINDS:
        if kind in stated:
            continue
        if kind == "betas" and "adam" not in optimizers:
            continue  # betas belong to Adam-like optimizers
        if kind == "momentum" and ("adam" in optimizers and "sgd" not in optimizers):
            continue
        if kind in ("epochs", "steps") and ({"epochs", "steps"} & stated):
            continue  # the length of training is stated one way
        out.append(f"no {KIND_WORDS[kind]} stated")
    for dataset in dict.fromkeys(d.name for d in extract.datasets):
        scoped = {f.kind for f in extract.hyperparameters if f.scope == dataset}
        unscoped = {f.kind for f in extract.hyperparameters if not f.scope}
        if scoped and "batch_size" not in scoped and "batch_size" not in unscoped:
            out.append(f"batch size not given for {dataset}")
    return out


def render(extract: Extract) -> str:
    """The text of paper.md."""
    out = [f"# Paper extract: {md_heading(extract.title or 'untitled')}", ""]
    if extract.authors:
        out += [f"Authors: {md_text(', '.join(extract.authors))}.", ""]
    out += [
        f"Read from {md_text(extract.source)} ({extract.format}) by `pytest-repro extract`. "
        "Every fact below is a candidate: check it against the paper before it goes into "
        "paper.yaml.",
        "",
    ]
    if extract.problems:
        out += ["**Partial extract.** What could not be read:", ""]
        out += [f"- {md_text(p)}" for p in extract.problems]
        out.append("")
    if extract.sections:
        out += ["## Sections", ""]
        out += [f"- {md_text(ref)}: {md_text(title)}" for ref, title in extract.sections]
        out.append("")
    out += ["## Hyperparameters", ""]
    if extract.hyperparameters:
        out += ["| Kind | Value | Where | Scope | Stated as |", "| --- | --- | --- | --- | --- |"]
        for f in extract.hyperparameters:
            out.append(
                f"| {KIND_WORDS.get(f.kind, f.kind)} | {md_text(f.value)} | {md_text(f.where)} "
                f"| {md_text(f.scope)} | {md_text(_short(f.evidence))} |"
            )
    else:
        out.append("None found.")
    out.append("")
    questions = open_questions(extract)
    if questions:
        out += ["Open questions (the paper does not say):", ""]
        out += [f"- {md_text(q)}" for q in questions]
        out.append("")
    if extract.datasets:
        out += ["## Datasets", "", "| Dataset | Split | Size | Where | Sentence |"]
        out.append("| --- | --- | --- | --- | --- |")
        for d in extract.datasets:
            size = "" if d.size is None else f"{d.size:,}"
            out.append(
                f"| {md_text(d.name)} | {md_text(d.split)} | {size} | {md_text(d.where)} "
                f"| {md_text(_short(d.evidence))} |"
            )
        out.append("")
    out += ["## Reported results", ""]
    if extract.results:
        out += [
            "| Table | Model / variant | Dataset | Metric | Value | ± | ± means | Seeds |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        for r in extract.results:
            value = f"{r.value:g}{'%' if r.percent else ''}"
            out.append(
                f"| {md_text(r.table)} | {md_text(r.model)} | {md_text(r.dataset)} "
                f"| {md_text(r.metric)} | {value} | {'' if r.pm is None else f'{r.pm:g}'} "
                f"| {r.spread if r.pm is not None else ''} | {r.seeds or ''} |"
            )
    else:
        out.append("None found.")
    out.append("")
    if extract.tables:
        out += ["## Tables as read", ""]
        for table in extract.tables:
            out += [
                f"**{md_text(table.ref)}** ({md_text(table.section)}): {md_text(table.caption)}",
                "",
            ]
            columns = table.columns()
            width = max(len(columns), *(len(r) for r in table.rows)) if table.rows else len(columns)
            if width == 0:
                continue
            head = [*columns, *[""] * (width - len(columns))]
            out.append("| " + " | ".join(md_text(c) for c in head) + " |")
            out.append("|" + " --- |" * width)
            for row in table.rows:
                cells = [*row, *[""] * (width - len(row))]
                out.append("| " + " | ".join(md_text(c) for c in cells[:width]) + " |")
            out.append("")
    data = json.dumps(extract.to_json(), ensure_ascii=True, sort_keys=True)
    out += [f"<!-- {MARK} v{extract.version}", data.replace("--", "-\\u002d"), "-->"]
    return utf8_text("\n".join(out) + "\n")


def _short(text: str, limit: int = 240) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load(path: Path) -> Extract:
    """The extract kept in ``path`` (a paper.md); :class:`ReproError` saying what to do."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ReproError(
            f"{path} cannot be read ({exc}); write it again with pytest-repro extract"
        ) from None
    match = _BLOCK.search(text)
    if match is None:
        raise ReproError(
            f"{path} holds no extract (its closing '<!-- {MARK}' block is missing); "
            "write it with: pytest-repro extract PAPER --out " + str(path.parent)
        )
    try:
        return Extract.from_json(json.loads(match.group("json")))
    except (ValueError, KeyError, TypeError) as exc:
        raise ReproError(
            f"{path}: the extract block is damaged ({type(exc).__name__}); "
            "write it again with pytest-repro extract"
        ) from None
