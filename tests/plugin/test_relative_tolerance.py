"""A relative tolerance reads as such in the label and in results.md."""

from __future__ import annotations

import pytest

from .conftest import MakePaper, claim


def test_the_label_and_the_report_say_the_share_and_its_size(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim().replace("tolerance: 0.01", "tolerance: 5%"))
    result = pytester.runpytest("--repro-inprocess", "-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::acc [[]matched within 5% of the paper (4.5 pp)[]]*"])
    md = (pytester.path / "papers" / "p1" / "results.md").read_text()
    assert "tolerance ±4.5 pp (5% of the paper's value)" in md
