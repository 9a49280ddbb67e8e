"""Fixtures for tests next to a paper, data sources as runs see them, and the HTML report."""

from __future__ import annotations

import hashlib
import textwrap

import pytest

from .conftest import TRAIN, MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


def test_repro_seed_seeds_restores_global_state_and_prints_the_seed_on_failure(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    (folder / "test_model.py").write_text(
        textwrap.dedent(
            """\
            import random
            import numpy as np

            def test_draws_are_seeded(repro_seed):
                a = np.random.random()
                assert repro_seed.numpy is not None
                np.random.seed(repro_seed.seed)
                assert np.random.random() == a

            def test_global_state_is_restored(repro_seed):
                random.random()

            def test_fails(repro_seed):
                assert False
            """
        )
    )
    pytester.makeconftest(
        "import random\nimport pytest\nSTATE = {}\n"
        "def pytest_runtest_setup(item):\n    random.seed(7)\n    STATE['before'] = random.getstate()\n"
        "@pytest.hookimpl(trylast=True)\n"
        "def pytest_runtest_teardown(item):\n    assert random.getstate() == STATE['before']\n"
    )
    result = pytester.runpytest(str(folder / "test_model.py"), *FAST)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*repro_seed*",
            "this test ran with seed *; rerun it with:",
            '*pytest "*test_fails" --repro-seed=*',
        ]
    )
    fixed = pytester.runpytest(
        str(folder / "test_model.py"), "--repro-seed=123", "-k", "fails", *FAST
    )
    fixed.stdout.fnmatch_lines(["*--repro-seed=123"])


def test_repro_data_loads_the_nearest_papers_sources(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(top="data:\n  digits: {sklearn: load_digits}\n")
    (folder / "test_data.py").write_text(
        "def test_digits(repro_data):\n"
        "    digits = repro_data('digits')\n"
        "    assert digits['data'].shape == (1797, 64)\n"
        "def test_unknown(repro_data):\n"
        "    repro_data('mnist')\n"
    )
    result = pytester.runpytest(str(folder / "test_data.py"), "--junitxml=junit.xml", *FAST)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*no data source 'mnist' (it has: digits)*"])
    assert 'name="repro.data.digits"' in (pytester.path / "junit.xml").read_text()


def test_pinned_env_reports_drift(pytester: pytest.Pytester, make_paper: MakePaper) -> None:
    folder = make_paper(top='environment: {requires: ["numpy<1.0"]}\n')
    (folder / "test_env.py").write_text("def test_env(pinned_env):\n    assert pinned_env.drift\n")
    result = pytester.runpytest(str(folder / "test_env.py"), *FAST)
    result.assert_outcomes(passed=1, warnings=1)
    strict = pytester.runpytest(str(folder / "test_env.py"), "--repro-env=strict", *FAST)
    strict.assert_outcomes(errors=1)


FILE_TRAIN = """\
def run(ctx):
    files = ctx.data("table")
    rows = files["rows.csv"].read_text().splitlines()
    for epoch in range(1, 6):
        ctx.log(epoch=epoch, acc=0.899 + 0.001 * ctx.seed + 0 * len(rows))
"""


def test_a_data_checksum_mismatch_fails_the_runs_naming_the_spec_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    content = b"a,b\n1,2\n"
    good = hashlib.sha256(content).hexdigest()
    top = f"data:\n  table: {{files: [{{path: rows.csv, sha256: {good}}}]}}\n"
    folder = make_paper(top=top, train=FILE_TRAIN)
    (folder / "rows.csv").write_bytes(content)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    (folder / "rows.csv").write_bytes(b"a,b\n1,3\n")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*DataError: papers/p1/paper.yaml:13*sha256*"])
    (folder / "rows.csv").unlink()
    missing = pytester.runpytest(*FAST)
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(
        [
            "*verdict    [[]error: rows.csv does not exist*",
            "*papers/p1/paper.yaml:13: data.table.files[[]0[]]: rows.csv does not exist*",
            "*fix: put the file there, or fix the path*",
        ]
    )


OVERLAP = """\
import numpy as np

def make(leak):
    rng = np.random.default_rng(0)
    train = rng.normal(size=(50, 4))
    test = rng.normal(size=(20, 4))
    if leak:
        test[:3] = train[:3]
    return {"train": train, "test": test}
"""


@pytest.mark.parametrize(
    ("leak", "outcome"), [(False, {"passed": 2}), (True, {"failed": 1, "skipped": 1})]
)
def test_train_test_overlap_is_a_sanity_check(
    pytester: pytest.Pytester, make_paper: MakePaper, leak: bool, outcome: dict[str, int]
) -> None:
    source = f"{{python: 'splits:make', args: {{leak: {str(leak).lower()}}}}}"
    top = f"data:\n  split: {source}\nsanity:\n  - train_test_overlap: {{data: split}}\n"
    folder = make_paper(top=top)
    (folder / "splits.py").write_text(OVERLAP)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(**outcome)
    if leak:
        result.stdout.fnmatch_lines(
            ["*sanity check train_test_overlap failed: 3 of 20 test examples also occur in train*"]
        )


def test_the_html_report_has_verdict_columns_and_a_panel_per_claim(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    pytest.importorskip("pytest_html")
    make_paper(
        claims=claim()
        + claim("gap", extra="config: {base: 0.88}\nexpect: gap\nhypothesis: harder data")
    )
    pytester.runpytest("--html=report.html", "--self-contained-html", *FAST)
    page = (pytester.path / "report.html").read_text()
    assert "Reproduction verdicts" in page
    assert "Measured (interval)" in page
    assert "[matched within 1.0 pp]" in page
    assert "[gap of 2.0 pp, hypothesis: harder data]" in page
    assert "seeds of acc: values, interval and the paper" in page  # the seed strip
    assert "learning curve of acc (acc)" in page
    assert "GPUs" in page and "none visible (nvidia-smi)" in page  # the Environment table
    assert '"torch"' in page or "torch" in page.split("Environment", 1)[-1][:20000]


DIGITS_TRAIN = TRAIN.replace(
    "    c = ctx.config\n", "    c = ctx.config\n    ctx.data('digits')\n", 1
)


def test_a_pin_written_after_the_runs_is_held_against_the_recorded_data(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(top="data:\n  digits: {sklearn: load_digits}\n", train=DIGITS_TRAIN)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    wrong = "data:\n  digits: {sklearn: load_digits, fingerprint: '00000000'}\n"
    make_paper(top=wrong, train=DIGITS_TRAIN)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*data.digits.fingerprint: the fingerprint of the data run * loaded does not match the pin*"
        ]
    )
    assert len((folder / "calls.log").read_text().splitlines()) == 3  # nothing trained again
