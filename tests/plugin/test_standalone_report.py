"""``pytest-repro report --html``: one self-contained page from recorded runs."""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser

import pytest

from pytest_repro.cli import main

from .conftest import MakePaper, calls, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")
HOSTILE = "<script>alert(1)</script> & friends"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_the_page_has_every_claim_its_figures_and_evidence_and_trains_nothing(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    gap = claim("gap", extra="config: {base: 0.88}").replace(
        "text: accuracy reaches the paper's value", f'text: "{HOSTILE}"'
    )
    folder = make_paper(claims=claim() + gap)
    pytester.runpytest(*FAST)
    trained = calls(folder)
    monkeypatch.chdir(pytester.path)
    out = io.StringIO()
    assert main(["report", "--html", "page.html"], out=out) == 0
    assert "wrote page.html" in out.getvalue()
    assert calls(folder) == trained  # nothing ran again
    page = (pytester.path / "page.html").read_text()
    parsed = Tags()
    parsed.feed(page)
    assert "script" not in parsed.tags  # the hostile text stayed text
    assert HOSTILE in "".join(parsed.text)
    assert parsed.tags.count("svg") == 4  # a seed strip and a learning curve per claim
    assert re.search(r'<h3 id="p1-acc">acc</h3>', page)
    assert "Reproduction verdicts" in page and "Evidence" in page
    assert "**" not in page and "Summary. 1 of 2 claims reproduced" in page  # plain, not Markdown


def test_an_unwritable_page_is_one_line_and_exit_1(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_paper()
    pytester.runpytest(*FAST)
    monkeypatch.chdir(pytester.path)
    (pytester.path / "page.html").mkdir()
    out = io.StringIO()
    assert main(["report", "--html", "page.html"], out=out) == 1
    assert "page.html not written" in out.getvalue()
