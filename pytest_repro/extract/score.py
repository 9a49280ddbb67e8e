"""How an extract compares with a hand-written answer key: recall and precision.

The key lists each hyperparameter once per distinct value (``{"kind": "epochs",
"number": 200}`` or ``{"kind": "optimizer", "match": "sgd"}``) and each number of a
results table (``table``, ``row``, ``column``, ``value``, ``pm``). Extracted
hyperparameters count once per (kind, value) however often the paper repeats them;
each is right when a key entry of its kind has its number (or a ``match`` its text
contains). A result is right when a key entry has its table, value and ± and its row
and column are in what the extract says of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pytest_repro.extract.model import Extract, Fact, Result


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    found: int  # key entries the extract found
    expected: int  # key entries
    right: int  # extracted items the key confirms
    extracted: int  # extracted items
    wrong: tuple[str, ...] = ()  # extracted items the key does not confirm
    missed: tuple[str, ...] = ()  # key entries not found

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def precision(self) -> float:
        return self.right / self.extracted if self.extracted else 1.0


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _fact_matches(fact: Fact, entry: Mapping[str, Any]) -> bool:
    if entry["kind"] != fact.kind:
        return False
    if "number" in entry:
        return fact.number is not None and _close(fact.number, float(entry["number"]))
    return str(entry["match"]).lower() in fact.value.lower()


def score_hyperparameters(extract: Extract, key: Sequence[Mapping[str, Any]]) -> Score:
    unique: dict[tuple[str, str], Fact] = {}
    for fact in extract.hyperparameters:
        value = repr(fact.number) if fact.number is not None else fact.value.lower()
        unique.setdefault((fact.kind, value), fact)
    facts = list(unique.values())
    right = [f for f in facts if any(_fact_matches(f, e) for e in key)]
    missed = [e for e in key if not any(_fact_matches(f, e) for f in facts)]
    return Score(
        found=len(key) - len(missed),
        expected=len(key),
        right=len(right),
        extracted=len(facts),
        wrong=tuple(f"{f.kind}={f.value} ({f.where})" for f in facts if f not in right),
        missed=tuple(str(dict(e)) for e in missed),
    )


def _result_matches(result: Result, entry: Mapping[str, Any]) -> bool:
    said = f"{result.model} {result.dataset} {result.metric}".lower()
    pm = entry.get("pm")
    return (
        result.table == entry["table"]
        and _close(result.value, float(entry["value"]))
        and _close(result.pm, None if pm is None else float(pm))
        and str(entry["row"]).lower() in result.model.lower()
        and str(entry["column"]).lower() in said
    )


def score_results(extract: Extract, key: Sequence[Mapping[str, Any]]) -> Score:
    results = list(extract.results)
    right = [r for r in results if any(_result_matches(r, e) for e in key)]
    missed = [e for e in key if not any(_result_matches(r, e) for r in results)]
    return Score(
        found=len(key) - len(missed),
        expected=len(key),
        right=len(right),
        extracted=len(results),
        wrong=tuple(f"{r.table}: {r.model} {r.text}" for r in results if r not in right),
        missed=tuple(str(dict(e)) for e in missed),
    )


__all__ = ["Score", "score_hyperparameters", "score_results"]
