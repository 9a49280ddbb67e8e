"""Runs: command entrypoints, the ledger cache, reruns, isolation of failures, smoke and sanity."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from .conftest import MakePaper, calls, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")

SCRIPT = """\
import argparse, csv, json, pathlib
p = argparse.ArgumentParser()
p.add_argument("--seed", type=int)
p.add_argument("--base", type=float)
p.add_argument("--out")
p.add_argument("--format", default="jsonl")
a = p.parse_args()
value = a.base + 0.001 * (a.seed - 1)
out = pathlib.Path(a.out)
if a.format == "jsonl":
    with (out / "metrics.jsonl").open("w") as f:
        for epoch in (1, 2):
            f.write(json.dumps({"epoch": epoch, "acc": value}) + "\\n")
elif a.format == "csv":
    with (out / "metrics.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "acc"])
        w.writerow([2, value])
else:
    print(f"epoch 2 | acc {value:.6f}")
if a.base < 0:
    raise SystemExit(3)
"""


def command_paper(pytester: pytest.Pytester, fmt: str, metrics: str, base: float = 0.9) -> Path:
    folder = pytester.path / "papers" / "cmd"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text(SCRIPT)
    (folder / "paper.yaml").write_text(
        textwrap.dedent(
            f"""\
            paper: {{id: cmd, title: A script paper}}
            run:
              command: [python, train.py, --seed, "{{seed}}", --base, "{{base}}", --out, "{{run_dir}}", --format, {fmt}]
              metrics: {metrics}
              config:
                base: {base}
            claims:
              - id: acc
                text: accuracy
                source: Table 1
                metric: acc
                at: {{epoch: 2}}
                paper: 0.9
                tolerance: 0.01
            """
        )
    )
    return folder


@pytest.mark.parametrize(
    ("fmt", "metrics"),
    [
        ("jsonl", '{jsonl: "{run_dir}/metrics.jsonl"}'),
        ("csv", '{csv: "{run_dir}/metrics.csv"}'),
        ("regex", "{regex: 'epoch (?P<epoch>\\d+) \\| acc (?P<acc>[0-9.]+)'}"),
    ],
)
def test_an_unmodified_script_runs_as_a_command_and_its_metrics_are_read(
    pytester: pytest.Pytester, fmt: str, metrics: str
) -> None:
    command_paper(pytester, fmt, metrics)
    result = pytester.runpytest("-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*cmd/paper.yaml::acc [[]matched within 0.010[]]*"])


def test_a_command_that_exits_non_zero_is_an_error_with_its_status(
    pytester: pytest.Pytester,
) -> None:
    command_paper(pytester, "jsonl", '{jsonl: "{run_dir}/metrics.jsonl"}', base=-1.0)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*seed 0 (cmd-*): failed: RuntimeError: command python exited with status 3"]
    )


def test_a_second_session_reuses_every_run_and_trains_nothing(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert calls(folder) == 3
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert calls(folder) == 3


def test_changing_one_claims_config_reruns_only_that_variant(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=claim("a") + claim("b", extra="config: {base: 0.9}"))
    pytester.runpytest(*FAST)
    assert calls(folder) == 3  # both claims resolve to the same config
    text = (
        (folder / "paper.yaml").read_text().replace("config: {base: 0.9}", "config: {base: 0.905}")
    )
    (folder / "paper.yaml").write_text(text)
    pytester.runpytest(*FAST).assert_outcomes(passed=2)
    assert calls(folder) == 6


def test_editing_a_claims_tolerance_never_retrains(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST)
    (folder / "paper.yaml").write_text(
        (folder / "paper.yaml").read_text().replace("tolerance: 0.01", "tolerance: 0.02")
    )
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert calls(folder) == 3


def test_changing_the_code_retrains(pytester: pytest.Pytester, make_paper: MakePaper) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST)
    (folder / "train.py").write_text((folder / "train.py").read_text() + "\n# a change\n")
    pytester.runpytest(*FAST)
    assert calls(folder) == 6


@pytest.mark.parametrize("what", ["all", "p1", "acc"])
def test_rerun_trains_again(pytester: pytest.Pytester, make_paper: MakePaper, what: str) -> None:
    folder = make_paper()
    pytester.runpytest(*FAST)
    pytester.runpytest(f"--repro-rerun={what}", *FAST).assert_outcomes(passed=1)
    assert calls(folder) == 6


def test_cache_off_neither_reuses_nor_records(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    pytester.runpytest("--repro-cache=off", *FAST).assert_outcomes(passed=1)
    pytester.runpytest("--repro-cache=off", *FAST).assert_outcomes(passed=1)
    assert calls(folder) == 6
    assert not (pytester.path / ".repro" / "ledger.sqlite").exists()


def test_every_run_is_in_the_ledger_with_its_evidence(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    pytester.runpytest(*FAST)
    db = sqlite3.connect(pytester.path / ".repro" / "ledger.sqlite")
    rows = db.execute("select seed, status, evidence from runs order by seed").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(0, "ok"), (1, "ok"), (2, "ok")]
    evidence = json.loads(rows[0][2])
    assert evidence["key"]["seed"] == 0
    assert evidence["key"]["config"]["base"] == 0.9
    assert evidence["seeding"]["seed"] == 0
    assert "python" in evidence["environment"]
    assert len(evidence["key"]["code"]) == 64


def test_the_json_report_follows_the_contract(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(
        claims=claim()
        + claim("gap", extra="config: {base: 0.88}\nexpect: gap\nhypothesis: harder data")
    )
    pytester.runpytest("--repro-json=out/results.json", *FAST)
    doc = json.loads((pytester.path / "out/results.json").read_text())
    assert doc["version"] == 1
    (paper,) = doc["papers"]
    assert paper["id"] == "p1"
    assert paper["path"] == "papers/p1/paper.yaml"
    acc, gap = paper["claims"]
    expected_keys = {
        "id",
        "kind",
        "metric",
        "at",
        "paper",
        "tolerance",
        "n",
        "seeds",
        "values",
        "estimate",
        "interval",
        "confidence",
        "delta",
        "verdict",
        "label",
        "method",
        "hypothesis",
        "runs",
    }
    assert expected_keys <= set(acc)
    assert acc["at"] == {"epoch": 5}
    assert acc["seeds"] == [0, 1, 2]
    assert acc["values"] == pytest.approx([0.899, 0.9, 0.901])
    assert acc["estimate"] == pytest.approx(0.9)
    assert acc["interval"][0] < 0.9 < acc["interval"][1]
    assert acc["confidence"] == 0.9
    assert acc["verdict"] == "matched"
    assert acc["label"] == "[matched within 1.0 pp]"
    assert acc["method"] == "student-t (skew guard)"
    assert len(acc["runs"]) == 3
    assert gap["verdict"] == "gap"
    assert gap["hypothesis"] == "harder data"
    assert gap["delta"] == pytest.approx(-0.02)


def test_results_md_is_written_next_to_the_paper(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(
        claims=claim() + claim("gap", extra="config: {base: 0.88}\nhypothesis: harder data")
    )
    pytester.runpytest(*FAST)
    text = (folder / "results.md").read_text()
    row = "| [acc](#acc) | Table 1 | acc @ epoch 5 | 90.0% | 90.0% 90% CI [89.5%, 90.2%] | 0.0 pp | 3 |"
    assert f"{row} [matched within 1.0 pp] |" in text
    assert "- **gap** — gap of 2.0 pp: harder data" in text
    assert "## Appendix: evidence" in text
    assert text.count("| ok |") == 6


def test_results_md_keeps_claims_not_selected_this_session_from_the_ledger(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=claim("a") + claim("b", extra="config: {base: 0.95}", paper=0.95))
    pytester.runpytest(*FAST)
    pytester.runpytest("-k", "a", *FAST)
    text = (folder / "results.md").read_text()
    assert "| [b](#b) |" in text
    assert "[not run" not in text


def test_junitxml_carries_the_verdict_as_properties(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    pytester.runpytest("--junitxml=junit.xml", *FAST)
    xml = (pytester.path / "junit.xml").read_text()
    assert '<property name="repro.verdict" value="matched"' in xml
    assert '<property name="repro.method" value="student-t (skew guard)"' in xml


def test_smoke_mode_runs_one_seed_with_a_tiny_budget_and_writes_no_results(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    train = """\
def run(ctx):
    for step in range(1, 1001):
        ctx.log(step=step, acc=0.5)
        if ctx.budget_spent(step):
            break
"""
    folder = make_paper(claims=claim().replace("at: {epoch: 5}", "at: {step: 1000}"), train=train)
    result = pytester.runpytest("-v", "--repro-smoke", "--repro-smoke-steps=7", *FAST)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*::acc [[]smoke ok: acc logged (up to step 7); one step * s; 7 steps * s[]]*"]
    )
    assert not (folder / "results.md").exists()


def test_in_smoke_mode_an_expected_gap_is_smoke_ok_not_xpass(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim(paper=0.99, extra="expect: gap\nhypothesis: a smaller model"))
    result = pytester.runpytest("-v", "--repro-smoke", *FAST)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::acc [[]smoke ok: acc logged*"])
    result.stdout.no_fnmatch_line("*XPASS*")


def test_a_failed_sanity_check_skips_the_papers_claims_with_the_reason(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    train = """\
import random, time
def run(ctx):
    for epoch in range(1, 6):
        ctx.log(epoch=epoch, acc=0.9 + 1e-9 * (time.perf_counter_ns() % 997))
"""
    make_paper(train=train, top="sanity: [determinism]\n")
    result = pytester.runpytest("-v", *FAST)
    result.assert_outcomes(failed=1, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "*::sanity[[]determinism[]] FAILED*",
            "*::acc [[]skipped: sanity check determinism failed*",
            "*sanity check determinism failed: seed 0 run twice gave different metrics at point 1*",
        ]
    )


def test_passing_sanity_checks_let_claims_run(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(top="sanity: [determinism, finite]\n")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=3)


def test_results_from_xdist_workers_reach_the_controller(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper("one", claims=claim("a") + claim("b", paper=0.95))
    make_paper("two")
    result = pytester.runpytest("-n", "2", "--repro-json=out.json", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*reproduction verdicts*"])
    doc = json.loads((pytester.path / "out.json").read_text())
    assert sorted(c["id"] for p in doc["papers"] for c in p["claims"]) == ["a", "acc", "b"]


def test_xdist_workers_sharing_variants_compute_each_run_exactly_once(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    claims = "".join(
        claim(f"c{i}", extra=f"config: {{base: {0.9 + 0.001 * (i % 4)}}}") for i in range(16)
    )
    folder = make_paper(claims=claims)
    result = pytester.runpytest("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=16)
    assert calls(folder) == 4 * 3  # 4 variants x 3 seeds, however the claims were spread
    db = sqlite3.connect(pytester.path / ".repro" / "ledger.sqlite")
    assert db.execute("select count(*) from runs where status = 'ok'").fetchone()[0] == 12
    db.close()


def test_an_unusable_working_folder_is_a_usage_error(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    (pytester.path / "blocked").write_text("a file, not a folder")
    result = pytester.runpytest("--repro-dir=blocked/sub", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*cannot write its working folder*blocked/sub*use --repro-dir=PATH*"]
    )


def test_under_github_actions_failures_are_annotated_and_the_summary_gets_a_table(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_paper(claims=claim() + claim("gap", extra="config: {base: 0.88}"))
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest(*FAST)
    result.stdout.fnmatch_lines(
        [
            "::error file=papers/p1/paper.yaml,line=21,title=claim gap::[[]gap of 2.0 pp, no hypothesis stated[]]"
        ]
    )
    assert (
        "::error file=papers/p1/paper.yaml,line=14" not in result.stdout.str()
    )  # the matched claim
    text = summary.read_text()
    assert "## Reproduction verdicts" in text
    assert "| `p1::acc` | 90.0% | 90.0% 90% CI [89.5%, 90.2%] | [matched within 1.0 pp] |" in text
