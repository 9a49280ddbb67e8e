"""A seed that fails to train, through a whole session: named, counted, and set aside only
when the claim is about the runs that train."""

from __future__ import annotations

import json

import pytest

from .conftest import MakePaper, claim

TRAIN = """\
def run(ctx):
    value = 0.31 if ctx.seed == 2 else 0.92 + 0.001 * (ctx.seed % 3 - 1)
    for epoch in range(1, 6):
        ctx.log(epoch=epoch, acc=value)
"""
FAST = ("--repro-inprocess", "-p", "no:cacheprovider", "--repro-json=out.json")


def verdicts(pytester: pytest.Pytester) -> dict[str, dict[str, object]]:
    data = json.loads((pytester.path / "out.json").read_text())
    return {c["id"]: c for p in data["papers"] for c in p["claims"]}


def test_a_claim_about_successful_runs_sets_the_failed_seed_aside_and_reports_the_rate(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    seeds = "seeds: [0, 1, 2, 3, 4]"
    make_paper(
        train=TRAIN,
        claims=claim("ok", paper=0.92, extra=f"{seeds}\nabout: successful")
        + claim("all", paper=0.92, extra=seeds),
    )
    pytester.runpytest(*FAST)
    by_id = verdicts(pytester)
    ok, every = by_id["ok"], by_id["all"]
    assert ok["verdict"] == "matched"
    assert any("success rate: 4 of 5 seeds" in n for n in ok["notes"])  # type: ignore[attr-defined]
    assert any("failed seed: seed 2 (index 2) gave 0.31" in n for n in ok["notes"])  # type: ignore[attr-defined]
    assert every["verdict"] != "matched"  # the mean over all seeds counts the failure
    assert any("counted in the mean" in n for n in every["notes"])  # type: ignore[attr-defined]
    md = (pytester.path / "papers" / "p1" / "results.md").read_text()
    assert "success rate: 4 of 5 seeds" in md
