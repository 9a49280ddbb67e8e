"""Under pytest-xdist the controller's summary is the serial session's: spec order, and the
run counts of every worker."""

from __future__ import annotations

import re

import pytest

from .conftest import MakePaper, claim

pytest.importorskip("xdist")


def summary(lines: list[str]) -> list[str]:
    """The verdict table and the run-count line, run time left out (it differs)."""
    start = next(i for i, line in enumerate(lines) if "reproduction verdicts" in line)
    out = []
    for line in lines[start + 1 :]:
        if line.startswith(("repro: wrote", "=")):
            break
        out.append(re.sub(r"\([0-9.]+ s of run time", "(… s of run time", line))
    return out


def test_the_xdist_summary_is_the_serial_one(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    claims = "".join(
        claim(f"c{i}", extra=f"config: {{base: {0.9 + i * 0.0001:.4f}}}") for i in (3, 1, 2, 0)
    )
    make_paper(claims=claims)
    serial = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--repro-dir=serial")
    parallel = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--repro-dir=parallel", "-n", "2"
    )
    serial.assert_outcomes(passed=4)
    parallel.assert_outcomes(passed=4)
    expected = summary(serial.outlines)
    assert any(line.startswith("repro: 12 run(s) executed") for line in expected)
    assert summary(parallel.outlines) == expected
