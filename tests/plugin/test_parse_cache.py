"""A session takes the parsed ``paper.yaml`` the last one kept in ``.repro/parsed`` only for
the very same text: an edited spec is collected and decided from what it says now."""

from __future__ import annotations

import pytest

from pytest_repro.spec import loader

from .conftest import MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each pytester session loads specs as a new process would (the in-process memo of
    loaded specs is emptied), so what it reads comes from the file or from .repro/parsed."""
    monkeypatch.setattr(loader, "_LOADED", {})


def test_an_edited_spec_is_collected_from_its_new_text_not_the_kept_tree(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_paper(claims=claim())
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    monkeypatch.setattr(loader, "_LOADED", {})
    pytester.runpytest(*FAST).assert_outcomes(passed=1)  # the tree is kept from now on
    kept = list((pytester.path / ".repro" / "parsed").iterdir())
    assert len(kept) == 1

    spec = folder / "paper.yaml"
    # the same claim now expects more than it reaches, and a second claim is added
    spec.write_text(spec.read_text().replace("paper: 0.9", "paper: 0.99") + claim("more"))
    monkeypatch.setattr(loader, "_LOADED", {})
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*paper.yaml::acc *disagreement*", "*paper.yaml::more *matched*"])
    assert list((pytester.path / ".repro" / "parsed").iterdir()) == kept  # replaced in place


def test_a_damaged_tree_is_ignored_and_the_spec_collected_as_written(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_paper(claims=claim() + claim("more"))
    pytester.runpytest(*FAST).assert_outcomes(passed=2)
    monkeypatch.setattr(loader, "_LOADED", {})
    pytester.runpytest(*FAST).assert_outcomes(passed=2)
    (kept,) = (pytester.path / ".repro" / "parsed").iterdir()
    kept.write_bytes(kept.read_bytes()[:-200] + b"\0" * 200)
    monkeypatch.setattr(loader, "_LOADED", {})
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*paper.yaml::acc *matched*", "*paper.yaml::more *matched*"])


def test_collecting_creates_no_working_folder_and_cache_off_keeps_no_tree(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_paper(claims=claim())
    pytester.runpytest("--co", *FAST).assert_outcomes()
    assert not (pytester.path / ".repro").exists()
    pytester.runpytest("--repro-cache=off", *FAST).assert_outcomes(passed=1)
    monkeypatch.setattr(loader, "_LOADED", {})
    pytester.runpytest("--repro-cache=off", *FAST).assert_outcomes(passed=1)
    assert not (pytester.path / ".repro" / "parsed").exists()
