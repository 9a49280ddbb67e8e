"""Comparative claims whose arms are read at different points (``compare.a.at``)."""

from __future__ import annotations

import json

import pytest

from .conftest import MakePaper, calls

FAST = ("--repro-inprocess", "-p", "no:cacheprovider", "-v", "--repro-json=out.json")
LATER_BEATS_EARLIER = """\
  - id: later
    text: accuracy at epoch 5 beats accuracy at epoch 1
    source: Fig. 1
    metric: acc
    at: {epoch: 5}
    margin: 0.01
    compare:
      a: {config: {slope: 0.01}}
      b: {config: {slope: 0.01}, at: {epoch: 1}}
"""


def test_one_config_read_at_two_epochs_runs_once_and_compares_the_points(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=LATER_BEATS_EARLIER)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1)
    assert calls(folder) == 3  # both arms read the same three runs
    (claim,) = json.loads((pytester.path / "out.json").read_text())["papers"][0]["claims"]
    assert claim["at"] == {"arms": [{"epoch": 5}, {"epoch": 1}]}
    assert claim["estimate"] == pytest.approx(0.04)  # 4 epochs of slope 0.01
    md = (folder / "results.md").read_text()
    assert "A at epoch 5, B at epoch 1" in md


def test_an_arm_read_at_no_point_is_an_error_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=LATER_BEATS_EARLIER.replace("at: {epoch: 1}", "at: final"))
    result = pytester.runpytest(*FAST)
    result.stdout.fnmatch_lines(["*compare.b.at: an arm is read at one epoch or step*"])
