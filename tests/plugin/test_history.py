"""pytest-repro history: a claim's verdict per recorded code version, newest first."""

from __future__ import annotations

import io
import json

import pytest

from pytest_repro.cli import main

from .conftest import TRAIN, MakePaper

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


def run_cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_history_lists_each_code_version_with_its_verdict_newest_first(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    (folder / "train.py").write_text(TRAIN.replace('value = c["base"]', 'value = c["base"] - 0.05'))
    pytester.runpytest(*FAST).assert_outcomes(failed=1)
    monkeypatch.chdir(pytester.path)
    code, out = run_cli("history", "papers/p1::acc")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "papers/p1/paper.yaml::acc: 2 recorded code versions, newest first"
    assert lines[1].split() == ["date", "(UTC)", "commit", "code", "runs", "reproduced", "verdict"]
    assert "85.0%" in lines[2] and "[fundamental disagreement" in lines[2]
    assert "90.0%" in lines[3] and "[matched within 1.0 pp]" in lines[3]

    code, out = run_cli("history", "papers/p1/paper.yaml::acc", "--json")
    doc = json.loads(out)
    assert [v["verdict"] for v in doc["versions"]] == ["disagreement", "matched"]
    assert len({v["code"] for v in doc["versions"]}) == 2
    assert all(len(v["runs"]) == 3 for v in doc["versions"])


def test_an_unknown_claim_is_a_usage_error_naming_the_claims(
    pytester: pytest.Pytester,
    make_paper: MakePaper,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    make_paper()
    monkeypatch.chdir(pytester.path)
    assert run_cli("history", "papers/p1::accc", "--ledger", "none.sqlite")[0] == 2
    assert run_cli("history", "papers/p1")[0] == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "pytest-repro: papers/p1/paper.yaml has no claim 'accc'; its claims: acc"
    assert err[1].startswith("pytest-repro: 'papers/p1' is not PAPER::CLAIM")


def test_the_standalone_page_shows_each_claims_history(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    (folder / "train.py").write_text(TRAIN.replace('value = c["base"]', 'value = c["base"] - 0.05'))
    pytester.runpytest(*FAST).assert_outcomes(failed=1)
    monkeypatch.chdir(pytester.path)
    code, out = run_cli("report", "--html", "page.html")
    assert code == 0, out
    page = (pytester.path / "page.html").read_text()
    history = page[page.index('<div class="repro-history">') :]
    history = history[: history.index("</div>")]
    rows = history.split("<tr>")[2:]
    assert len(rows) == 2, history
    assert "fundamental disagreement" in rows[0] and "85.0%" in rows[0]
    assert "matched within 1.0 pp" in rows[1] and "90.0%" in rows[1]
