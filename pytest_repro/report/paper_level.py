"""The paper-level view: the chance a correct paper passes every claim, and which gap and
disagreement flags hold after the paper's correction over its claims.

Computed once per set of results (the terminal summary, results.md and the HTML report
each show it), from each claim's :func:`~pytest_repro.report.model.power_input` and
p-value::

    lines = paper_lines(results)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pytest_repro.report.model import MEASURED, power_input, units_of
from pytest_repro.results import ClaimResult


def power_lines(results: Iterable[ClaimResult]) -> list[str]:
    """Per paper, the chance of "matched" per claim if the paper is right (observed sd, or
    the paper's) and the chance a perfect reproduction passes them all."""
    from pytest_repro.stats.power import power_lines as lines_of

    out: list[str] = []
    for paper_id, group in _by_paper(results).items():
        made = [(r, power_input(r)) for r in group]
        inputs = [c for _, c in made if c is not None]
        sd_text = {c.name: units_of(r).magnitude for r, c in made if c is not None}
        if inputs:
            out.append(
                f"paper {paper_id}: the chance each claim is matched at its seeds "
                "if the paper is right"
            )
            out.extend(f"  {line}" for line in lines_of(inputs, sd_text))
    return out


def _shortfall(r: ClaimResult) -> float | None:
    from pytest_repro.stats.multiplicity import claim_p_value

    if r.verdict not in MEASURED or r.kind not in ("absolute", "comparative"):
        return None  # a claim about a curve has its own family-wise rule over its points
    return claim_p_value(
        kind=r.kind,
        values=r.values if len(r.values) == r.n else (),
        values_a=r.values_a,
        values_b=r.values_b,
        paper=r.paper,
        tolerance=r.tolerance,
        better=r.better,
        margin=r.margin,
        paper_spread=r.paper_spread,
    )


_CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def multiplicity_lines(results: Iterable[ClaimResult]) -> list[str]:
    """Per paper, whether each gap or disagreement holds after the paper's correction
    (``multiplicity:``, Holm by default) over all of its measured claims."""
    from pytest_repro.stats.multiplicity import PAPER_ALPHA, Correction, adjust

    out: list[str] = []
    for paper_id, group in _by_paper(results).items():
        tested = [(r, p) for r in group if (p := _shortfall(r)) is not None]
        flags = [(r, p) for r, p in tested if r.verdict in ("gap", "disagreement")]
        chosen = group[0].multiplicity
        correction: Correction = "bh" if chosen == "bh" else "none" if chosen == "none" else "holm"
        if not flags or correction == "none":
            continue
        name = _CORRECTION_NAMES[correction]
        adjusted = dict(
            zip((id(r) for r, _ in tested), adjust([p for _, p in tested], correction), strict=True)
        )
        over = f"{name} over {len(tested)} claims"
        out.append(f"paper {paper_id}: gap and disagreement flags after {over}")
        for r, p in flags:
            held = adjusted[id(r)] <= PAPER_ALPHA
            word = "holds" if held else "not significant"
            out.append(
                f"  {paper_id}::{r.id}: {r.verdict}, {word} after {over} "
                f"(p {p:.2g}, adjusted {adjusted[id(r)]:.2g})"
            )
    return out


#: The last view made, with the results it was made of (compared by identity).
_LAST: list[tuple[Sequence[ClaimResult], list[str]]] = []


def paper_lines(results: Iterable[ClaimResult]) -> list[str]:
    """The paper-level view: :func:`power_lines`, then :func:`multiplicity_lines`."""
    kept = list(results)
    if (
        _LAST
        and len(_LAST[0][0]) == len(kept)
        and all(a is b for a, b in zip(_LAST[0][0], kept, strict=True))
    ):
        return list(_LAST[0][1])
    lines = [*power_lines(kept), *multiplicity_lines(kept)]
    _LAST[:] = [(kept, lines)]
    return list(lines)


def _by_paper(results: Iterable[ClaimResult]) -> dict[str, list[ClaimResult]]:
    groups: dict[str, list[ClaimResult]] = {}
    for r in results:
        groups.setdefault(r.paper_id, []).append(r)
    return groups


__all__ = ["multiplicity_lines", "paper_lines", "power_lines"]
