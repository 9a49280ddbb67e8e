"""In-process pytest runs (pytester's ``runpytest``) collect a paper's claims whatever the
test session imported before them.

pytester forgets, after each in-process run, every module that run imported, while the
modules imported before it stay. A test module that imports part of ``pytest_repro.spec``
at collection keeps that package alive across runs; each later run must still load specs
with the current copies of the spec modules, not with the ones an earlier run left behind.
The scenario runs in a fresh interpreter, so that what this session has already imported
cannot hide it.
"""

from __future__ import annotations

import pytest

from .conftest import HEADER, TRAIN, claim

#: The test the fresh interpreter runs: it imports the spec schema at collection (as
#: tests/unit/test_environment.py does), then collects in three in-process runs. Before
#: each run a file is added to the folder of paper p0, so that the loader reads its spec
#: again and, from the second run on, takes the parsed tree the first run stored in the
#: working folder (made beforehand: a collection alone never creates it); and a new paper
#: is written, which is parsed afresh. Every paper's claim must be collected every time.
INNER = """
import pytest_repro.spec.schema  # noqa: F401  (keeps the package pytest_repro.spec imported)

HEADER = {header!r}
CLAIMS = {claims!r}
TRAIN = {train!r}


def _write_paper(folder, paper_id):
    folder.mkdir(parents=True)
    (folder / "paper.yaml").write_text(HEADER.format(paper_id=paper_id) + CLAIMS)
    (folder / "train.py").write_text(TRAIN)


def test_every_inline_run_collects_every_claim(pytester):
    (pytester.path / ".repro").mkdir()
    papers = pytester.path / "papers"
    for run in range(3):
        _write_paper(papers / f"p{{run}}", f"p{{run}}")
        (papers / "p0" / f"added-before-run-{{run}}.txt").write_text("")
        result = pytester.runpytest_inprocess("--collect-only", "-q", "-p", "no:cacheprovider")
        collected = result.stdout.str()
        for paper in range(run + 1):
            assert f"papers/p{{paper}}/paper.yaml::acc" in collected, (run, collected)
"""


def test_claims_are_collected_in_every_inline_run_after_the_spec_schema_was_imported(
    pytester: pytest.Pytester,
) -> None:
    inner = INNER.format(header=HEADER, claims="claims:\n" + claim(), train=TRAIN)
    pytester.makepyfile(test_inner=inner)
    result = pytester.runpytest_subprocess("-p", "pytester", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
