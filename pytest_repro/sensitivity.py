"""``--repro-sensitivity``: how much each guess moves a claim's verdict.

A ``run.config`` value the paper never states is marked ``source: assumed``; it may list
other guesses, ``alternatives: [...]``. With ``--repro-sensitivity`` each claim is also
evaluated once per alternative of every assumed value it reads (a value its variants all
override is not read), with everything else unchanged — the same seeds, the same rule —
and its result records what each guess gives::

    sensitivity: lr = 0.1 instead of the assumed 0.01: [gap of 2.1 pp, ...] (the verdict moves from matched)

The claim's own verdict, and so its pytest outcome, is never changed: the alternatives are
evidence about the guess, not a second chance to pass. Their runs are ordinary runs of
another config, recorded and reused like any other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from pytest_repro.results import ClaimResult
from pytest_repro.spec.claim_nodes import Claim
from pytest_repro.spec.schema import PaperSpec

#: The verdicts whose result is worth comparing with an alternative's.
DECIDED = ("matched", "gap", "exceeded", "disagreement", "inconclusive")

Evaluate = Callable[[PaperSpec, Claim], ClaimResult]


def guesses(spec: PaperSpec, claim: Claim) -> list[tuple[str, Any, Any]]:
    """``(key, assumed value, alternative)`` for every alternative the claim would read."""
    out: list[tuple[str, Any, Any]] = []
    for key, value in spec.run.config.items():
        if not value.assumed or not value.alternatives:
            continue
        if all(key in variant.overrides for variant in claim.variants()):
            continue  # every config the claim runs sets this key itself
        out.extend((key, value.value, alternative) for alternative in value.alternatives)
    return out


def with_value(spec: PaperSpec, key: str, value: Any) -> PaperSpec:
    """``spec`` with ``run.config[key]`` set to ``value`` (its provenance kept)."""
    config = dict(spec.run.config)
    config[key] = dataclasses.replace(config[key], value=value, alternatives=())
    return dataclasses.replace(spec, run=dataclasses.replace(spec.run, config=config))


def _text(value: Any) -> str:
    return (
        f"{value:g}"
        if isinstance(value, float)
        else repr(value)
        if isinstance(value, str)
        else str(value)
    )


def with_sensitivity(
    spec: PaperSpec, claim: Claim, result: ClaimResult, evaluate: Evaluate
) -> ClaimResult:
    """``result`` with one note and one ``sensitivity`` entry per alternative guess."""
    if result.verdict not in DECIDED:
        return result
    notes: list[str] = []
    entries: list[dict[str, Any]] = []
    for key, assumed, alternative in guesses(spec, claim):
        other = evaluate(with_value(spec, key, alternative), claim)
        moved = other.verdict != result.verdict
        change = f"the verdict moves from {result.verdict}" if moved else "the verdict stands"
        if (
            not moved
            and other.estimate is not None
            and result.estimate is not None
            and other.verdict in DECIDED
        ):
            change += f", the estimate moves by {other.estimate - result.estimate:+.4g}"
        notes.append(
            f"sensitivity: {key} = {_text(alternative)} instead of the assumed "
            f"{_text(assumed)}: {other.label} ({change})"
        )
        entries.append(
            {
                "key": key,
                "assumed": assumed,
                "value": alternative,
                "verdict": other.verdict,
                "label": other.label,
                "estimate": other.estimate,
                "interval": list(other.interval) if other.interval else None,
                "runs": list(other.runs),
            }
        )
    if not entries:
        return result
    return dataclasses.replace(result, notes=(*result.notes, *notes), sensitivity=tuple(entries))


__all__ = ["guesses", "with_sensitivity", "with_value"]
