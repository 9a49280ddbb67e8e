"""pytest-repro as a GitHub Actions gate: annotations within GitHub's limits, the step
summary, JUnit properties, and the example workflow of docs/ci.md."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .conftest import MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")
ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / "docs" / "examples" / "reproduce.yml"
CI_DOC = ROOT / "docs" / "ci.md"


def twenty_five_failures() -> str:
    """20 gaps (paper 92%, measured 90%), then 5 disagreements (paper 95%), in that order."""
    gaps = "".join(claim(f"gap-{i:02d}", paper=0.92) for i in range(20))
    return gaps + "".join(claim(f"far-{i}", paper=0.95) for i in range(5))


def commands(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.startswith("::")]


def titles(lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines if (m := re.search(r",title=claim ([\w-]+)::", line))]


def test_twenty_five_failing_claims_give_ten_error_annotations_most_severe_first_and_one_more(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_paper(claims=twenty_five_failures())
    summary = pytester.path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=25)
    lines = commands(result.stdout.str())
    errors = [line for line in lines if line.startswith("::error ")]
    assert len(errors) == 10
    assert titles(errors) == [f"far-{i}" for i in range(5)] + [f"gap-{i:02d}" for i in range(5)]
    assert errors[0].startswith("::error file=papers/p1/paper.yaml,line=")
    (notice,) = [line for line in lines if not line.startswith("::error ")]
    assert notice.startswith("::notice title=pytest-repro::and 15 more failing claims ")
    assert "every claim is in the step summary" in notice
    assert lines[-1] == notice

    # the step summary: every claim, the disagreements first
    text = summary.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `p1::")]
    assert len(rows) == 25
    assert [row.split("`")[1] for row in rows[:6]] == [f"p1::far-{i}" for i in range(5)] + [
        "p1::gap-00"
    ]
    assert "25 claims: 20 gap, 5 disagreement" in text
    assert "not shown" not in text


def test_ten_failures_or_fewer_give_no_notice(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_paper(claims=claim("a") + claim("b", paper=0.92) + claim("c", paper=0.95))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1, failed=2)
    lines = commands(result.stdout.str())
    assert titles(lines) == ["c", "b"]
    assert len(lines) == 2


# -- JUnit ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", ["xunit1", "xunit2"])
def test_junit_xml_carries_paper_line_verdict_and_numbers_as_properties(
    pytester: pytest.Pytester, make_paper: MakePaper, family: str
) -> None:
    make_paper(claims=claim("a") + claim("b", paper=0.92))
    result = pytester.runpytest("--junitxml=junit.xml", "-o", f"junit_family={family}", *FAST)
    result.assert_outcomes(passed=1, failed=1)
    tree = ET.parse(pytester.path / "junit.xml")
    cases = {case.get("name"): case for case in tree.iter("testcase")}
    props = {
        name: {p.get("name"): p.get("value") for p in case.iter("property")}
        for name, case in cases.items()
    }
    assert set(props) == {"a", "b"}
    a, b = props["a"], props["b"]
    assert a["repro.paper"] == "p1"
    assert a["repro.line"] == "papers/p1/paper.yaml:13"
    assert b["repro.line"] == "papers/p1/paper.yaml:21"
    assert (a["repro.verdict"], b["repro.verdict"]) == ("matched", "gap")
    assert a["repro.method"] == "student-t (skew guard)"
    assert a["repro.n"] == "3"
    assert float(a["repro.estimate"]) == pytest.approx(0.9)
    assert float(b["repro.delta"]) == pytest.approx(-0.02)
    low, high = (float(x) for x in a["repro.interval"].strip("[]").split(","))
    assert low < 0.9 < high
    text = (pytester.path / "papers" / "p1" / "paper.yaml").read_text().splitlines()
    assert text[12] == "  - id: a" and text[20] == "  - id: b"  # the lines named


# -- the example workflow ----------------------------------------------------------------------
def check_jsonschema() -> str:
    """The check-jsonschema installed next to this Python (the dev extra installs it)."""
    found = Path(sys.executable).parent / "check-jsonschema"
    if found.is_file():
        return str(found)
    on_path = shutil.which("check-jsonschema")
    if on_path is None:
        pytest.skip(
            "check-jsonschema is not installed (it is in the dev extra: "
            "pip install -c requirements/constraints.txt -e '.[dev]')"
        )
    return on_path


def test_the_example_workflow_is_valid_against_githubs_workflow_schema() -> None:
    done = subprocess.run(
        [check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_the_workflow_schema_check_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "run-on: x", 1))
    done = subprocess.run(
        [check_jsonschema(), "--builtin-schema", "vendor.github-workflows", str(broken)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr


def yaml_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```yaml\n(.*?)^```$", markdown, flags=re.S | re.M)


def test_docs_ci_shows_the_example_workflow_exactly_as_the_file_has_it() -> None:
    workflow = WORKFLOW.read_text(encoding="utf-8")
    blocks = [b for b in yaml_blocks(CI_DOC.read_text(encoding="utf-8")) if "jobs:" in b]
    assert blocks == [workflow]


def test_the_example_workflow_smokes_on_hosted_runners_and_runs_in_full_on_a_gpu_runner() -> None:
    import yaml

    flow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    smoke, full = flow["jobs"]["smoke"], flow["jobs"]["full"]
    assert smoke["runs-on"] == "ubuntu-latest"
    assert full["runs-on"] == ["self-hosted", "gpu"]
    assert "pull_request" in full["if"]

    def runs(job: dict[str, object]) -> str:
        return "\n".join(str(s.get("run", "")) for s in job["steps"])  # type: ignore[attr-defined]

    def uses(job: dict[str, object]) -> list[str]:
        return [str(s.get("uses", "")) for s in job["steps"]]  # type: ignore[attr-defined]

    assert "pytest papers --repro-smoke" in runs(smoke)
    assert "--html=reports/report.html --self-contained-html" in runs(full)
    assert "pytest-repro ledger export -o reports/runs.jsonl" in runs(full)
    for job in (smoke, full):
        cache = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/cache")]
        assert {s["with"]["path"] for s in cache} == {".repro"}
        assert any(u.startswith("actions/cache/save@") for u in uses(job))
    (upload,) = [s for s in full["steps"] if str(s.get("uses", "")).startswith("actions/upload")]
    assert "reports/" in upload["with"]["path"]
