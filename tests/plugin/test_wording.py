"""Every output words a claim the way the claim does, from one source (``claim_view``).

A ``better: lower`` comparison reads ``A lower than B by ≥ 0.050`` in the paper column of
the summary table, results.md, the JSON document and the HTML report; its delta is the
measured difference with the margin beside it, never improvement minus margin. A gap the
spec expects (``expect: gap`` with a hypothesis) has its own colour and says it is
expected, with its hypothesis, where an unexpected one says how to record it.
"""

from __future__ import annotations

import html
import json
import re

import pytest

from pytest_repro.vocab import EXPECTED_COLOUR, EXPECTED_TERMINAL, VERDICTS

from .conftest import MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")
VARIANTS = "strong: {base: 0.9}"


def lower_loss(cid: str, margin: float) -> str:
    """A's loss is 0.1, B's 0.2 on every seed: A is lower than B by 0.1."""
    return f"""\
  - id: {cid}
    text: A has the lower loss
    source: Figure 2
    metric: loss
    better: lower
    at: {{epoch: 5}}
    compare: {{a: strong, b: {{config: {{base: 0.8}}}}}}
    margin: {margin}
"""


MATCHED = lower_loss("lower-loss", 0.05)  # beats the margin: matched
SHORT = lower_loss("lower-by-less", 0.5)  # lower, but by less than the margin: a gap
KNOWN_GAP = claim(
    "known-gap",
    extra="config: {base: 0.88}\nexpect: gap\nhypothesis: harder data. The paper used more.",
)
OPEN_GAP = claim("open-gap", extra="config: {base: 0.88}")

#: pytest's terminal writer's escape codes for the colours the vocabulary uses.
ANSI = {"green": "\x1b[32m", "red": "\x1b[31m", "yellow": "\x1b[33m", "blue": "\x1b[34m"}


def line_of(text: str, needle: str) -> str:
    (line,) = [line for line in text.splitlines() if needle in line]
    return line


# -- better: lower with a margin ----------------------------------------------------------------
def test_the_summary_table_words_a_lower_is_better_comparison_as_the_claim_does(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=MATCHED, variants=VARIANTS)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1)
    row = line_of(result.stdout.str(), "p1::lower-loss")
    cells = re.split(r"\s{2,}", row)
    assert cells[:2] == ["p1::lower-loss", "A lower than B by ≥ 0.050"]
    assert cells[2].startswith("+0.100 90% CI [")
    assert cells[3:] == [
        "+0.100 (margin 0.050)",  # the measured difference, not +0.050 (minus the margin)
        "3",
        "[matched: A lower than B by 0.100 (margin 0.050)]",
    ]
    assert "A > B" not in result.stdout.str()


def test_the_v_line_says_which_arm_is_lower_and_by_how_much(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=MATCHED + SHORT, variants=VARIANTS)
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "papers/p1/paper.yaml::lower-loss [[]matched: A lower than B by 0.100 (margin 0.050)[]]*",
            "papers/p1/paper.yaml::lower-by-less [[]gap: A lower than B by 0.100, "
            "below the margin 0.500, no hypothesis stated[]]*",
        ]
    )


def test_the_failure_block_of_a_comparison_short_of_its_margin_shows_the_difference_and_the_margin(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=SHORT, variants=VARIANTS)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "papers/p1/paper.yaml:*: claim lower-by-less",
            "  paper      A lower than B by ≥ 0.500   (loss at epoch 5)",
            "  arms       A = strong; B = base=0.8",
            "  measured   +0.100 90% CI [[]*[]]",
            "*",
            "  delta      +0.100 (margin 0.500)",
            "  verdict    [[]gap: A lower than B by 0.100, below the margin 0.500, no hypothesis stated[]]",
        ]
    )
    result.stdout.fnmatch_lines(["fix: if the gap is understood, record it in the claim*"])


def test_results_md_words_the_comparison_and_its_delta_like_the_terminal(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=MATCHED, variants=VARIANTS)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    text = (folder / "results.md").read_text()
    row = line_of(text, "| [lower-loss](#lower-loss) |")
    paper, measured, delta = row.split(" | ")[3:6]
    assert (paper, delta) == ("A lower than B by ≥ 0.050", "+0.100 (margin 0.050)")
    assert measured.startswith("+0.100 90% CI [")
    assert "- Paper: A lower than B by ≥ 0.050." in text
    assert "- Delta: +0.100 (margin 0.050)." in text
    assert "- Verdict: [matched: A lower than B by 0.100 (margin 0.050)]." in text
    assert "A better" not in text


def test_the_json_document_carries_the_words_beside_the_numbers_it_always_had(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=MATCHED, variants=VARIANTS)
    pytester.runpytest("--repro-json=r.json", *FAST).assert_outcomes(passed=1)
    (entry,) = json.loads((pytester.path / "r.json").read_text())["papers"][0]["claims"]
    assert entry["paper_text"] == "A lower than B by ≥ 0.050"
    assert entry["delta_text"] == "+0.100 (margin 0.050)"
    assert entry["label"] == "[matched: A lower than B by 0.100 (margin 0.050)]"
    assert entry["expected"] is False
    # the contract's numbers are unchanged: the estimate, and delta = estimate - margin
    assert entry["estimate"] == pytest.approx(0.1)
    assert entry["delta"] == pytest.approx(0.05)


def test_the_html_report_words_the_comparison_like_the_terminal(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    pytest.importorskip("pytest_html")
    make_paper(claims=MATCHED, variants=VARIANTS)
    pytester.runpytest("--html=report.html", "--self-contained-html", *FAST)
    page = html.unescape((pytester.path / "report.html").read_text(encoding="utf-8"))
    summary = page[page.index("<h2>Reproduction verdicts</h2>") :]
    assert "<td>A lower than B by ≥ 0.050</td>" in summary
    assert "<td>+0.100 (margin 0.050)</td>" in summary
    assert "[matched: A lower than B by 0.100 (margin 0.050)]" in summary
    assert "A &gt; B" not in page and "A > B" not in page


# -- an expected gap -----------------------------------------------------------------------------
def test_an_expected_gap_has_its_own_colour_in_the_v_line_and_the_table(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=KNOWN_GAP + OPEN_GAP)
    result = pytester.runpytest("-v", "--color=yes", *FAST)
    result.assert_outcomes(xfailed=1, failed=1)
    out = result.stdout.str()
    expected, unexpected = ANSI[EXPECTED_TERMINAL], ANSI[VERDICTS["gap"].terminal]
    assert expected != unexpected
    assert f"{expected}XFAIL [gap of 2.0 pp, hypothesis: harder data]" in line_of(
        out, "paper.yaml::known-gap "
    )
    assert f"{unexpected}[gap of 2.0 pp" in line_of(out, "paper.yaml::open-gap ")
    assert line_of(out, "p1::known-gap ").startswith(expected)
    assert line_of(out, "p1::open-gap ").startswith(unexpected)
    assert "2 gap (1 expected)" in out


def test_an_expected_gaps_failure_block_says_it_is_expected_instead_of_how_to_record_it(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=KNOWN_GAP + OPEN_GAP)
    result = pytester.runpytest("--runxfail", *FAST)  # shows the block xfail would hide
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    known, other = out.split("claim open-gap", 1)[0], out.split("claim open-gap", 1)[1]
    assert "expected: the claim records this gap (expect: gap); hypothesis: harder data" in known
    assert "fix:" not in known.split("claim known-gap", 1)[1]
    assert "fix: if the gap is understood, record it in the claim: expect: gap" in other


def test_results_md_and_the_json_say_a_gap_is_expected_with_its_hypothesis(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=KNOWN_GAP + OPEN_GAP)
    pytester.runpytest("--repro-json=r.json", *FAST).assert_outcomes(xfailed=1, failed=1)
    text = (folder / "results.md").read_text()
    details = text.split("### known-gap", 1)[1].split("### open-gap", 1)[0]
    assert (
        "- Expected: the claim records this gap (expect: gap); hypothesis: harder data." in details
    )
    assert "Expected:" not in text.split("### open-gap", 1)[1]
    assert "- **known-gap** — gap of 2.0 pp (expected): harder data. The paper used more." in text
    known, other = json.loads((pytester.path / "r.json").read_text())["papers"][0]["claims"]
    assert (known["id"], known["expected"], other["expected"]) == ("known-gap", True, False)


def test_the_html_report_draws_an_expected_gap_in_its_own_colour_with_its_hypothesis(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    pytest.importorskip("pytest_html")
    make_paper(claims=KNOWN_GAP + OPEN_GAP)
    pytester.runpytest("--html=report.html", "--self-contained-html", *FAST)
    page = html.unescape((pytester.path / "report.html").read_text(encoding="utf-8"))
    assert EXPECTED_COLOUR not in (VERDICTS[v].colour for v in VERDICTS)
    assert f'<td style="color:{EXPECTED_COLOUR}">[gap of 2.0 pp, hypothesis: harder data]' in page
    assert f'<td style="color:{VERDICTS["gap"].colour}">[gap of 2.0 pp, no hypothesis' in page
    assert "the claim records this gap (expect: gap); hypothesis: harder data" in page
