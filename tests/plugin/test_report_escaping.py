"""Text from a spec or a run is hostile: every report shows it as text, never as markup.

A claim text with pipes, tags, backticks and newlines must not break the results.md
table, open a tag in the HTML report, add lines to the terminal, or forge a GitHub
workflow command; a claim id or path with ``:`` and ``,`` must not end an annotation's
property early.
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from pytest_repro.cli import main
from pytest_repro.report import html, markdown, terminal, writers
from pytest_repro.report.escape import (
    anchor,
    md_code,
    md_fence,
    md_line,
    md_text,
    plain,
    terminal_line,
    workflow_message,
    workflow_property,
)
from pytest_repro.report.model import claim_view
from pytest_repro.results import ClaimResult

from .conftest import HEADER, TRAIN, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")

HOSTILE = (
    "a | b \\| c <script>alert(1)</script> `x` ``y`` **bold** [link](http://evil) "
    "![img](http://evil/t.png) <!-- c --> &amp; $x$\n# heading\r\n- item\x1b[31m ::error::forged"
)


def gfm_cells(row: str) -> list[str]:
    """The cells of a GFM table row, split as cmark-gfm splits them: a backslash escapes
    the next character, any other pipe ends a cell."""
    cells, current, i = [], "", 0
    body = row.strip()[1:-1] if row.strip().startswith("|") else row
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            current += body[i : i + 2]
            i += 2
            continue
        if body[i] == "|":
            cells.append(current)
            current = ""
        else:
            current += body[i]
        i += 1
    return [*cells, current]


def unescaped(text: str, token: str) -> bool:
    """Whether ``token`` occurs in ``text`` not preceded by a backslash."""
    return re.search(r"(?<!\\)" + re.escape(token), text) is not None


def outside_code_blocks(text: str) -> str:
    """``text`` without its fenced code blocks, whose content Markdown shows literally."""
    kept, fence = [], ""
    for line in text.splitlines():
        if fence:
            fence = "" if line == fence else fence
        elif line.startswith("```"):
            fence = line
        else:
            kept.append(line)
    return "\n".join(kept)


def hostile_result(**changes: object) -> ClaimResult:
    base = ClaimResult(
        paper_id="p1",
        paper_title="A <b>paper</b> | title",
        path="papers/a:b,c/paper.yaml",
        id="ev:il,id",
        line=14,
        kind="absolute",
        text=HOSTILE,
        source=HOSTILE,
        metric="m|`x`",
        at={"epoch": 5},
        verdict="gap",
        label="[gap of 2.0 pp, hypothesis: " + HOSTILE + "]",
        paper=0.9,
        tolerance=0.01,
        unit="<i>u</i>",
        n=1,
        seeds=(0,),
        values=(0.88,),
        estimate=0.88,
        delta=-0.02,
        method="student-t",
        hypothesis=HOSTILE,
        notes=(HOSTILE,),
        error=HOSTILE + "\n```\n::warning::inside the error\n",
        runs=("run|1", "run`2"),
        substitutions=({"original": HOSTILE, "used": "<u>", "why": "`why`"},),
    )
    return replace(base, **changes)


# -- Markdown -------------------------------------------------------------------------------------
def test_markdown_text_keeps_pipes_tags_links_and_line_breaks_from_taking_effect() -> None:
    text = md_text(HOSTILE)
    assert "\n" not in text and "\r" not in text
    assert len(gfm_cells(f"| {text} |")) == 1
    for token in ("<script", "</script", "<!--", "](", "`", "**", "$x", "&amp;"):
        assert not unescaped(text, token), token
    assert "\\x1b" in text  # the escape character is shown, not sent


@pytest.mark.parametrize(
    ("start", "shown"),
    [
        ("# h", "\\# h"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("> quote", "\\> quote"),
        ("1. first", "1\\. first"),
        ("2) second", "2\\) second"),
        ("===", "\\==="),
        ("    indented code", "indented code"),
        ("[ref]: http://evil", "[ref\\]: http://evil"),
        ("plain words", "plain words"),
    ],
)
def test_a_line_that_starts_with_hostile_text_cannot_become_a_block(start: str, shown: str) -> None:
    assert md_line(start) == shown


def test_a_code_span_is_fenced_longer_than_the_backticks_inside_it() -> None:
    assert md_code("a``b") == "```a``b```"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("a|b", cell=True) == "a\\|b"  # a pipe ends a cell even inside a code span
    assert md_fence("x\n````\ny") == ["`````", "x", "````", "y", "`````"]


def test_an_anchor_is_the_claim_id_or_its_percent_encoding() -> None:
    assert anchor("acc") == "acc"
    assert anchor("b-beats-a.v2") == "b-beats-a.v2"
    assert anchor('x" onclick="y') == "x%22%20onclick%3D%22y"
    assert anchor("ev:il,id\n") == "ev%3Ail%2Cid%0A"


def test_results_md_escapes_every_text_of_the_spec_and_the_runs(tmp_path: Path) -> None:
    folder = tmp_path / "papers" / "p1"
    folder.mkdir(parents=True)
    (folder / "paper.yaml").write_text(
        'paper: {id: p1, title: "T <script>x</script> | y"}\n'
        "run:\n  entrypoint: train:run\n  config:\n"
        '    lr: {value: "a|b`c", source: "Sec. <b>3</b>", why: "x | y"}\n'
        "claims:\n" + claim()
    )
    (folder / "train.py").write_text("def run(ctx):\n    pass\n")
    from pytest_repro.spec import load_spec

    spec = load_spec(folder / "paper.yaml", display="papers/p1/paper.yaml")
    text = markdown.render(spec, [hostile_result()], {}, version="0", settings="s")
    shown = outside_code_blocks(text)
    for token in ("<script", "<b>", "<i>u", "](http", "<!--"):
        assert not unescaped(shown, token), token
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    header = {len(gfm_cells(row)) for row in rows if row.startswith("| Claim |")}
    claims = [row for row in rows if row.startswith("| [")]
    assert header == {8}
    assert [len(gfm_cells(row)) for row in claims] == [8]
    assert claims[0].startswith("| [ev:il,id](#ev%3Ail%2Cid) |")
    assert '<a id="ev%3Ail%2Cid"></a>' in text
    config = [row for row in rows if row.startswith(("| `lr`", "| lr"))]
    assert [len(gfm_cells(row)) for row in config] == [4]
    # the run output is a fenced block that the output's own fence cannot close
    fence = next(line for line in text.splitlines() if set(line) == {"`"})
    assert len(fence) > 3
    assert text.count(fence) == 2


def test_the_step_summary_keeps_one_row_per_claim(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    writers.write_github(summary, [hostile_result()])
    rows = [line for line in summary.read_text().splitlines() if line.startswith("| ")]
    assert [len(gfm_cells(row)) for row in rows[2:]] == [4]
    assert not unescaped(rows[2], "<script")


# -- HTML ----------------------------------------------------------------------------------------
def test_the_html_panel_and_summary_show_hostile_text_as_text() -> None:
    r = hostile_result()
    for page in (html.panel(r), html.summary_html([r])):
        assert "<script" not in page
        assert "<i>u</i>" not in page
        assert "&lt;script&gt;" in page
    assert "<code>run|1</code>" in html.panel(r)


def test_html_attributes_cannot_be_closed_by_a_verdict_or_colour() -> None:
    r = hostile_result(verdict="not-a-verdict", label='" onmouseover="alert(1)')
    page = html.panel(r)
    assert 'onmouseover="alert' not in page
    assert "&quot; onmouseover=&quot;alert(1)" in page


# -- terminal ------------------------------------------------------------------------------------
def test_the_terminal_block_keeps_hostile_text_on_its_line_and_forges_no_command() -> None:
    block = terminal.claim_block(hostile_result(), rerun="pytest x")
    lines = block.splitlines()
    assert lines[1].startswith("  a | b")
    assert "\\n# heading\\r\\n- item\\x1b[31m ::error::forged" in lines[1]
    assert "\x1b" not in block
    assert not any(line.lstrip().startswith("::") for line in lines)
    assert "  \\::warning::inside the error" in lines
    assert "  # heading" in lines  # the run's output keeps its own lines


def test_the_summary_table_has_one_line_per_claim() -> None:
    table = terminal.summary_table([hostile_result(), hostile_result(id="other")])
    assert len(table) == 4
    assert "\x1b" not in "\n".join(table)


def test_plain_and_terminal_line_show_control_characters_and_guard_workflow_commands() -> None:
    assert plain("a\tb\x1b[2J\u202e\x00") == "a\tb\\x1b[2J\\u202e\\x00"
    assert terminal_line("  ::add-mask::x") == "  \\::add-mask::x"
    assert terminal_line("p1::acc  90.0%") == "p1::acc  90.0%"


# -- GitHub workflow commands --------------------------------------------------------------------
def test_workflow_properties_escape_colons_and_commas_and_messages_line_breaks() -> None:
    assert workflow_property("a:b,c%\r\n") == "a%3Ab%2Cc%25%0D%0A"
    assert workflow_message("a:b,c%\r\n") == "a:b,c%25%0D%0A"


def test_an_annotation_for_a_claim_id_and_path_with_colons_and_commas_has_three_properties() -> (
    None
):
    (line,) = writers.github_annotations([hostile_result()])
    command, _, message = line.partition("::")[2].partition("::")
    assert command == "error file=papers/a%3Ab%2Cc/paper.yaml,line=14,title=claim ev%3Ail%2Cid"
    assert "\n" not in message and "%0A" in message
    assert message.startswith("[gap of 2.0 pp, hypothesis: a | b")


def test_a_pytest_session_annotates_a_paper_in_a_folder_with_a_colon_and_a_comma(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    hostile = (
        "    text: |-\n"
        "      the model | beats <script>alert(1)</script> `all`\n"
        "      ::error::forged\n"
        '    hypothesis: "harder data <img src=x> | `y`"\n'
    )
    folder = pytester.path / "papers" / "a:b,c"
    folder.mkdir(parents=True)
    claims = claim("gap", extra="config: {base: 0.88}").replace(
        "    text: accuracy reaches the paper's value\n", hostile
    )
    (folder / "paper.yaml").write_text(HEADER.format(paper_id="p1") + "claims:\n" + claims)
    (folder / "train.py").write_text(TRAIN)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = pytester.runpytest("--repro-json=out.json", *FAST)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "::error file=papers/a%3Ab%2Cc/paper.yaml,line=13,title=claim gap::" in out
    assert "[gap of 2.0 pp, hypothesis: harder data <img src=x> | `y`]" in out
    assert not any(line.lstrip().startswith("::error::") for line in out.splitlines())
    assert "the model | beats <script>alert(1)</script> `all`\\n::error::forged (Table 1)" in out
    text = (folder / "results.md").read_text()
    assert not unescaped(text, "<script")
    assert not unescaped(text, "<img")
    row = next(line for line in text.splitlines() if line.startswith("| [gap]"))
    assert len(gfm_cells(row)) == 8
    doc = json.loads((pytester.path / "out.json").read_text())
    assert doc["papers"][0]["claims"][0]["text"].endswith("::error::forged")  # JSON keeps it
    monkeypatch.chdir(pytester.path)
    report = io.StringIO()
    assert main(["report"], out=report) == 0
    assert "p1::gap" in report.getvalue()


def test_claim_view_is_plain_text_that_formatters_escape() -> None:
    v = claim_view(hostile_result())
    assert v.text == HOSTILE  # the model keeps the text as it is; escaping is per format
    assert "<i>u</i>" in v.paper
