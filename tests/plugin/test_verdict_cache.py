"""A second session reuses each claim's verdict while everything that decides it is
unchanged, prints and writes exactly what the first did, and decides afresh the moment
any input differs: the claim, a run, a setting or pytest-repro's code. An entry that
does not check out is ignored, never trusted."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

import pytest_repro.verdict_cache
from pytest_repro.evaluate import Evaluator

from .conftest import MakePaper, calls, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")
CLAIMS = claim() + claim("gap", extra="config: {base: 0.88}")


@pytest.fixture
def decided(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the claims decided afresh (not taken from the cache), in order."""
    seen: list[str] = []
    decide = Evaluator._decide

    def spy(self: Evaluator, spec: object, claim: object, *args: object) -> object:
        seen.append(claim.id)  # type: ignore[attr-defined]
        return decide(self, spec, claim, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Evaluator, "_decide", spy)
    return seen


def verdicts(lines: list[str]) -> list[str]:
    """The -v lines and the verdict table of a session (timings left out)."""
    kept = [line for line in lines if "::" in line and "%]" in line]
    start = next(i for i, line in enumerate(lines) if "reproduction verdicts" in line)
    for line in lines[start + 1 :]:
        if line.startswith(("repro:", "=")):
            break
        kept.append(line)
    return kept


def cache_file(pytester: pytest.Pytester) -> Path:
    return pytester.path / ".repro" / "verdicts.sqlite"


def test_a_second_session_reuses_every_verdict_and_prints_and_writes_the_same(
    pytester: pytest.Pytester, make_paper: MakePaper, decided: list[str]
) -> None:
    folder = make_paper(claims=CLAIMS)
    first = pytester.runpytest("-v", "--repro-json=first.json", *FAST)
    first.assert_outcomes(passed=1, failed=1)
    assert decided == ["acc", "gap"]
    report = (folder / "results.md").read_bytes()
    figures = {p.name: p.read_bytes() for p in (folder / "figures").iterdir()}

    decided.clear()
    second = pytester.runpytest("-v", "--repro-json=second.json", *FAST)
    second.assert_outcomes(passed=1, failed=1)
    assert decided == []  # both verdicts came from the cache
    assert verdicts(second.outlines) == verdicts(first.outlines)
    assert "acc" in "\n".join(verdicts(second.outlines))
    assert json.loads((pytester.path / "second.json").read_text()) == json.loads(
        (pytester.path / "first.json").read_text()
    )
    assert (folder / "results.md").read_bytes() == report
    assert {p.name: p.read_bytes() for p in (folder / "figures").iterdir()} == figures
    assert calls(folder) == 6  # and nothing trained again


def _edit(old: str, new: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        spec = folder / "paper.yaml"
        text = spec.read_text()
        assert old in text
        spec.write_text(text.replace(old, new))

    return edit


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        (_edit("tolerance: 0.01", "tolerance: 0.0001"), {"failed": 1}),
        (
            _edit(
                "metric: acc\n    at: {epoch: 5}\n    paper: 0.9",
                "metric: loss\n    at: {epoch: 5}\n    paper: 0.1",
            ),
            {"passed": 1},
        ),
        (_edit("paper: 0.9", "paper: 0.95"), {"failed": 1}),
        (_edit("paper: 0.9", "paper: 0.8"), {"passed": 1}),
        (_edit("title: A paper for tests", "title: Another title"), {"passed": 1}),
    ],
    ids=["tolerance", "metric", "paper value", "exceeded", "paper title"],
)
def test_editing_the_claim_decides_it_again(
    pytester: pytest.Pytester,
    make_paper: MakePaper,
    decided: list[str],
    change: Callable[[Path], None],
    outcome: dict[str, int],
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    change(folder)
    decided.clear()
    pytester.runpytest(*FAST).assert_outcomes(**outcome)
    assert decided == ["acc"]
    assert calls(folder) == 3  # the runs were reused; only the verdict was not


@pytest.mark.parametrize(
    "options",
    [("--repro-interval=t",), ("--repro-rerun=acc",), ("--repro-inconclusive=skip",)],
    ids=["interval method", "rerun", "inconclusive policy"],
)
def test_a_setting_that_can_change_the_verdict_decides_it_again(
    pytester: pytest.Pytester, make_paper: MakePaper, decided: list[str], options: tuple[str, ...]
) -> None:
    make_paper()
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    decided.clear()
    pytester.runpytest(*options, *FAST).assert_outcomes(passed=1)
    assert decided == ["acc"]


def test_a_rerun_is_never_answered_from_the_cache(
    pytester: pytest.Pytester, make_paper: MakePaper, decided: list[str]
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    decided.clear()
    pytester.runpytest("--repro-rerun=all", *FAST).assert_outcomes(passed=1)
    assert decided == ["acc"]
    assert calls(folder) == 6


def test_a_recorded_run_whose_series_changed_decides_the_claim_again(
    pytester: pytest.Pytester, make_paper: MakePaper, decided: list[str]
) -> None:
    """The same run ids with other numbers (a run read again by a new reader): the cached
    verdict, a pass, would now be a lie."""
    make_paper()
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    with sqlite3.connect(pytester.path / ".repro" / "ledger.sqlite") as conn:
        (series,) = conn.execute("SELECT series FROM runs WHERE seed = 0").fetchone()
        points = json.loads(series)
        for point in points:
            point["acc"] = 0.5
        conn.execute("UPDATE runs SET series = ? WHERE seed = 0", (json.dumps(points),))
    decided.clear()
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    assert decided == ["acc"]


def test_changed_deciding_code_decides_every_claim_again(
    pytester: pytest.Pytester,
    make_paper: MakePaper,
    decided: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    make_paper(claims=CLAIMS)
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)
    monkeypatch.setattr(
        pytest_repro.verdict_cache, "code_fingerprint", lambda *code: "another version"
    )
    decided.clear()
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)
    assert decided == ["acc", "gap"]


def test_cache_off_decides_every_claim_and_keeps_nothing(
    pytester: pytest.Pytester, make_paper: MakePaper, decided: list[str]
) -> None:
    make_paper()
    pytester.runpytest("--repro-cache=off", *FAST).assert_outcomes(passed=1)
    pytester.runpytest("--repro-cache=off", *FAST).assert_outcomes(passed=1)
    assert decided == ["acc", "acc"]
    assert not cache_file(pytester).exists()


def test_an_entry_altered_on_disk_is_ignored_not_trusted(
    pytester: pytest.Pytester, make_paper: MakePaper, decided: list[str]
) -> None:
    make_paper(claims=CLAIMS)
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)
    with sqlite3.connect(cache_file(pytester)) as conn:
        changed = conn.execute(
            'UPDATE verdicts SET payload = replace(payload, \'"verdict": "gap"\', '
            '\'"verdict": "matched"\') WHERE payload LIKE \'%"verdict": "gap"%\''
        ).rowcount
    assert changed == 1
    decided.clear()
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)  # the gap is still a gap
    assert decided == ["gap"]  # the altered entry failed its checksum; the other held
    decided.clear()
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)
    assert decided == []  # and was replaced by a sound one


def test_a_damaged_cache_file_is_replaced_and_costs_only_time(
    pytester: pytest.Pytester, make_paper: MakePaper, decided: list[str]
) -> None:
    make_paper(claims=CLAIMS)
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)
    cache_file(pytester).write_bytes(b"\x00garbage" * 512)
    for name in ("verdicts.sqlite-wal", "verdicts.sqlite-shm"):
        (pytester.path / ".repro" / name).unlink(missing_ok=True)
    decided.clear()
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)
    assert decided == ["acc", "gap"]
    decided.clear()
    pytester.runpytest(*FAST).assert_outcomes(passed=1, failed=1)
    assert decided == []


def test_a_report_edited_or_missing_a_figure_is_written_again(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    """The writer skips rendering only while the files on disk are those it last wrote."""
    folder = make_paper(claims=CLAIMS)
    pytester.runpytest(*FAST)
    report = folder / "results.md"
    written = report.read_bytes()
    figure = next((folder / "figures").glob("*.svg"))
    drawn = figure.read_bytes()
    report.write_bytes(written + b"\nedited by hand\n")
    figure.unlink()
    pytester.runpytest(*FAST)
    assert report.read_bytes() == written
    assert figure.read_bytes() == drawn


def test_a_stray_generated_figure_beside_a_current_report_is_removed(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=CLAIMS)
    pytester.runpytest(*FAST)
    figure = next((folder / "figures").glob("*.svg"))
    stray = figure.with_name("left-over.svg")
    stray.write_bytes(figure.read_bytes())
    kept = figure.with_name("the-papers-own.svg")
    kept.write_text("<svg><title>a diagram</title></svg>")
    pytester.runpytest(*FAST)
    assert not stray.exists()
    assert kept.exists()


def test_claims_about_curves_are_reused_with_their_points(
    pytester: pytest.Pytester, make_paper: MakePaper, decided: list[str]
) -> None:
    from .test_sweeps import CURVE_HEADER, CURVE_TRAIN, curve_claim

    make_paper(
        claims=curve_claim("falls", "kind: trend\ndirection: decreasing")
        + curve_claim("follows", 'kind: curve\nformula: "1 / sqrt(width)"\ntolerance: 5%'),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    first = pytester.runpytest("-v", "--repro-json=first.json", *FAST)
    first.assert_outcomes(passed=2)
    decided.clear()
    second = pytester.runpytest("-v", "--repro-json=second.json", *FAST)
    second.assert_outcomes(passed=2)
    assert decided == []
    assert verdicts(second.outlines) == verdicts(first.outlines)
    assert json.loads((pytester.path / "second.json").read_text()) == json.loads(
        (pytester.path / "first.json").read_text()
    )
