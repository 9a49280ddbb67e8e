"""Pinned environments: drift warns or fails, and isolate runs a paper in its own venv."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import sys
import zipfile
from pathlib import Path

import pytest

from .conftest import MakePaper

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")
DRIFT = 'environment: {requires: ["numpy<1.0", "not-a-real-package>=1"]}\n'


def test_drift_annotates_verdicts_by_default(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(top=DRIFT)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1)
    text = (folder / "results.md").read_text()
    assert "environment drift: numpy <1.0 expected" in text
    assert "environment drift: not-a-real-package >=1 expected, not installed" in text
    result.stdout.fnmatch_lines(
        [
            "repro: environment drift: not-a-real-package >=1 expected, not installed "
            "(papers/p1/paper.yaml:*); --repro-env=strict makes it an error",
            "repro: environment drift: numpy <1.0 expected, * installed (papers/p1/paper.yaml:*)*",
        ]
    )


def test_strict_drift_fails_the_papers_claims_with_an_expected_versus_installed_table(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(top=DRIFT)
    result = pytester.runpytest("--repro-env=strict", *FAST)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*papers/p1/paper.yaml: the installed environment differs from what the paper pins (--repro-env=strict):",
            "*numpy*<1.0*",
            "*not-a-real-package*>=1*",
            "*fix: install the pinned versions, or use --repro-env=isolate*",
        ]
    )


def test_the_ci_profile_is_strict(pytester: pytest.Pytester, make_paper: MakePaper) -> None:
    make_paper(top=DRIFT)
    pytester.runpytest("--repro-profile=ci", *FAST).assert_outcomes(errors=1)


def wheel(folder: Path, name: str, version: str, body: str) -> Path:
    """A minimal pure-python wheel: a zip holding the module and its dist-info."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": body,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = (
            base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        )
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name_, text in files.items():
            archive.writestr(name_, text)
    return path


ISOLATED_TRAIN = """\
import sys
import tinypin

def run(ctx):
    ctx.log(epoch=5, acc=tinypin.VALUE + 0.001 * (ctx.seed - 1))
    print("prefix", sys.prefix)
"""


def test_isolate_runs_a_paper_in_a_venv_built_from_its_lockfile(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("uv")
    wheels = pytester.path / "wheels"
    wheel(wheels, "tinypin", "1.0", "VALUE = 0.9\n")
    monkeypatch.setenv("UV_FIND_LINKS", str(wheels))
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_OFFLINE", "1")
    monkeypatch.setenv("UV_CACHE_DIR", str(pytester.path / "uv-cache"))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    folder = make_paper(train=ISOLATED_TRAIN, top="environment: {lockfile: requirements.lock}\n")
    (folder / "requirements.lock").write_text("tinypin==1.0\n")
    result = pytester.runpytest("-v", "--repro-env=isolate", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["*::acc [[]matched within 1.0 pp[]]*"])
    db = sqlite3.connect(pytester.path / ".repro" / "ledger.sqlite")
    evidence = json.loads(db.execute("select evidence from runs limit 1").fetchone()[0])
    db.close()
    assert evidence["python_executable"] != sys.executable
    assert "/.repro/envs/" in evidence["python_executable"]
    assert evidence["key"]["environment"]["isolated"] is True
    # The host environment does not have the package: without isolation the run fails.
    plain = pytester.runpytest("-p", "no:cacheprovider", "--repro-inprocess")
    plain.assert_outcomes(failed=1)
    plain.stdout.fnmatch_lines(["*ModuleNotFoundError: No module named 'tinypin'*"])
