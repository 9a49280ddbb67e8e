"""What a user sees of the figures and the summary: results.md's opening sentences and the
learning curve and seed strip in each claim's panel of the pytest-html report."""

from __future__ import annotations

import html

import pytest

from .conftest import MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


def test_results_md_opens_with_a_summary_of_what_was_reproduced(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=claim() + claim("gap", extra="config: {base: 0.88}"))
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)
    lines = (folder / "results.md").read_text().splitlines()
    summary = next(i for i, line in enumerate(lines) if line.startswith("**Summary.**"))
    assert lines[summary] == (
        "**Summary.** 1 of 2 claims reproduced (1 matched). 1 gap (none expected by the spec); "
        "the largest unexpected one is `gap`, gap with Δ -2.0 pp."
    )
    assert summary < lines.index("## Claims")
    assert lines[summary - 2].startswith("Every number below is computed from the recorded runs")


def test_each_claim_panel_of_the_html_report_shows_its_learning_curve_and_seeds(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    pytest.importorskip("pytest_html")
    make_paper()
    pytester.runpytest("--html=report.html", *FAST).assert_outcomes(passed=1)
    page = html.unescape((pytester.path / "report.html").read_text()).replace('\\"', '"')
    assert page.count('<polyline class="seed"') == 3  # one per seed
    assert '<line class="marker"' in page  # the claim's epoch
    assert "<title>learning curve of acc (acc)</title>" in page
    assert "<title>seeds of acc: values, interval and the paper" in page


def test_figures_are_written_beside_results_md_linked_and_never_retrain(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=claim("acc") + claim("gone", extra="config: {base: 0.95}"))
    pytester.runpytest("--repro-inprocess", "-p", "no:cacheprovider").assert_outcomes(passed=2)
    figure = folder / "figures" / "acc.svg"
    assert "<svg" in figure.read_text() and "<polyline" in figure.read_text()
    md = (folder / "results.md").read_text()
    assert "![learning curve of acc](figures/acc.svg)" in md
    stamp = figure.stat().st_mtime_ns
    text = (folder / "paper.yaml").read_text()
    (folder / "paper.yaml").write_text(text[: text.index("  - id: gone")])
    again = pytester.runpytest("--repro-inprocess", "-p", "no:cacheprovider")
    again.assert_outcomes(passed=1)
    again.stdout.fnmatch_lines(["repro: 0 run(s) executed*"])  # the figures are not code
    assert figure.stat().st_mtime_ns == stamp  # unchanged bytes are not rewritten
    assert not (folder / "figures" / "gone.svg").exists()  # a claim that left takes its figure
    own = folder / "figures" / "architecture.svg"  # a figure the paper keeps there itself
    own.write_text("<svg><title>the model</title></svg>")
    pytester.runpytest("--repro-inprocess", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert own.exists()
