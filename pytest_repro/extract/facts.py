"""A :class:`~pytest_repro.extract.model.Document` → its candidate facts.

Deterministic text processing: prose is split into sentences, and each sentence is read
for hyperparameters (:mod:`~pytest_repro.extract.hyperparameters`) and datasets
(:mod:`~pytest_repro.extract.datasets`). Tables are classified from their cells: a table
whose first column names hyperparameters gives hyperparameter facts; any other table with
numbers gives reported results (:mod:`~pytest_repro.extract.result_tables`).

The readers' public names (:func:`prose_facts`, :func:`to_number`, :func:`label_kind` …)
stay importable from here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pytest_repro.extract.datasets import dataset_facts, dataset_name
from pytest_repro.extract.hyperparameters import (
    is_hyperparameter_table,
    label_kind,
    prose_facts,
    table_facts,
)
from pytest_repro.extract.model import DatasetFact, Document, Extract, Fact, Result
from pytest_repro.extract.numbers import NUMBER, number_text, to_number
from pytest_repro.extract.result_tables import spread_meaning, table_results

# -- sentences ------------------------------------------------------------------------------
_ABBREVIATIONS = re.compile(
    r"\b(?:e\.g|i\.e|et al|Fig|Figs|Sec|Secs|Eq|Eqs|Tab|vs|cf|resp|approx|App|Ref|Refs|No)\.$",
    re.I,
)


def sentences(text: str) -> Iterator[str]:
    """The sentences of ``text``; abbreviations and decimals do not end one."""
    start = 0
    for match in re.finditer(r"[.!?;](?=\s+[A-Z(\[0-9])", text):
        candidate = text[start : match.end()]
        if _ABBREVIATIONS.search(candidate):
            continue
        if candidate.strip():
            yield candidate.strip()
        start = match.end()
    rest = text[start:].strip()
    if rest:
        yield rest


# -- the whole document ---------------------------------------------------------------------
def extract(document: Document) -> Extract:
    """Every candidate fact of ``document``."""
    hyper: list[Fact] = []
    datasets: list[DatasetFact] = []
    for section in document.sections:
        where = section.ref
        for sentence in sentences(section.text):
            hyper.extend(prose_facts(sentence, where))
            datasets.extend(dataset_facts(sentence, where))
    results: list[Result] = []
    for table in document.tables:
        if is_hyperparameter_table(table):
            hyper.extend(table_facts(table))
        else:
            results.extend(table_results(table))
    problems = list(document.problems)
    if document.sections and not document.tables:
        problems.append("no table was found: reported results could not be read")
    if not hyper and not results and not any(p.startswith("no section") for p in problems):
        problems.append(
            "no hyperparameter and no reported result was found: is this a paper's text?"
        )
    return Extract(
        source=document.source,
        format=document.format,
        title=document.title,
        authors=document.authors,
        sections=tuple((s.ref, s.title) for s in document.sections),
        hyperparameters=tuple(dict.fromkeys(hyper)),
        datasets=tuple(dict.fromkeys(datasets)),
        results=tuple(results),
        tables=document.tables,
        problems=tuple(problems),
    )


__all__ = [
    "NUMBER",
    "dataset_name",
    "extract",
    "label_kind",
    "number_text",
    "prose_facts",
    "sentences",
    "spread_meaning",
    "table_results",
    "to_number",
]
