"""``--repro-shard=I/N``: a CI matrix covers a suite once, claims sharing runs together."""

from __future__ import annotations

import re

import pytest

from .conftest import MakePaper, calls, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider", "-v")


def four_claims(make_paper: MakePaper) -> None:
    # a and b share the default variant's runs; c and d have their own configs
    claims = (
        claim("a")
        + claim("b", tolerance=0.02)
        + claim("c", extra="config: {base: 0.9001}")
        + claim("d", extra="config: {base: 0.9002}")
    )
    make_paper(claims=claims, top="sanity:\n  - finite\n")


def ran(outlines: list[str]) -> set[str]:
    return {m.group(1) for line in outlines if (m := re.search(r"paper\.yaml::(\w+) ", line))}


def test_the_shards_together_run_every_claim_once_and_keep_shared_runs_together(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    four_claims(make_paper)
    seen: list[set[str]] = []
    for k in (1, 2, 3):
        result = pytester.runpytest(f"--repro-shard={k}/3", f"--repro-dir=shard{k}", *FAST)
        assert result.ret == 0, result.stdout.str()
        seen.append(ran(result.outlines) - {"sanity"})
    claims = seen
    assert sorted(c for s in claims for c in s) == ["a", "b", "c", "d"]
    assert any({"a", "b"} <= s for s in claims)  # one shard trains the shared runs
    folder = pytester.path / "papers" / "p1"
    # 3 configs x 3 seeds, none trained twice, and the sanity check's own run once in each
    # of the 3 shards (it gates the claims of every shard)
    assert calls(folder) == 9 + 3


def test_a_paper_s_sanity_checks_run_in_every_shard_holding_its_claims(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    four_claims(make_paper)
    result = pytester.runpytest("--repro-shard=2/2", *FAST)
    result.stdout.fnmatch_lines(["*::sanity[[]finite[]] *PASSED*"])
    result.stdout.fnmatch_lines(["*deselected*"])


@pytest.mark.parametrize("value", ["3/2", "0/2", "2", "a/b", "1/0"])
def test_a_malformed_shard_is_a_usage_error_that_shows_the_form(
    pytester: pytest.Pytester, make_paper: MakePaper, value: str
) -> None:
    make_paper()
    result = pytester.runpytest(f"--repro-shard={value}", *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--repro-shard='{value}': expected I/N with 1 <= I <= N*"])
