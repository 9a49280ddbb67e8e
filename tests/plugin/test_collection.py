"""Collection: one test per claim, pytest's selection habits, and bad specs reported at their line."""

from __future__ import annotations

import pytest

from .conftest import HEADER, TRAIN, MakePaper, claim

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")


def test_help_lists_the_repro_options(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "pytest-repro: paper reproductions as tests:",
            "*--repro-profile=*",
            "*--repro-json=PATH*",
            "*--repro-rerun=WHAT*",
            "*--repro-cache=*",
            "*repro_files (args):*",
        ]
    )


def test_every_claim_is_a_test_named_by_its_id(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=claim("first") + claim("second"))
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        ["papers/p1/paper.yaml::first", "papers/p1/paper.yaml::second", "2 tests collected*"]
    )
    assert not (pytester.path / ".repro").exists()  # collecting runs nothing and opens no ledger


def test_sanity_checks_are_collected_before_claims(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(top="sanity: [determinism, finite]\n")
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(
        [
            "papers/p1/paper.yaml::sanity[[]determinism[]]",
            "papers/p1/paper.yaml::sanity[[]finite[]]",
            "papers/p1/paper.yaml::acc",
        ]
    )


def test_k_selects_claims_by_id(pytester: pytest.Pytester, make_paper: MakePaper) -> None:
    make_paper(claims=claim("alpha") + claim("beta", paper=0.5))
    result = pytester.runpytest("-k", "alpha", *FAST)
    result.assert_outcomes(passed=1, deselected=1)


def test_lf_reruns_only_the_failed_claim(pytester: pytest.Pytester, make_paper: MakePaper) -> None:
    make_paper(claims=claim("good") + claim("bad", paper=0.99))
    first = pytester.runpytest("--repro-inprocess")
    first.assert_outcomes(passed=1, failed=1)
    again = pytester.runpytest("--repro-inprocess", "--lf", "-v")
    again.assert_outcomes(failed=1)
    again.stdout.fnmatch_lines(["*rerun previous 1 failure*", "*::bad *"])
    assert "::good" not in again.stdout.str()


def test_a_claim_reports_its_yaml_line(pytester: pytest.Pytester, make_paper: MakePaper) -> None:
    make_paper(claims=claim("first") + claim("second"))
    items, _ = pytester.inline_genitems("-p", "no:cacheprovider")
    second = next(i for i in items if i.name == "second")
    path, line, description = second.reportinfo()
    assert path == pytester.path / "papers/p1/paper.yaml"
    text = path.read_text().splitlines()
    assert text[line].strip() == "- id: second"
    assert description == "claim second"


def test_a_malformed_spec_fails_with_file_and_line_and_other_papers_still_run(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper("good")
    make_paper("bad", claims=claim(tolerance=-0.5).replace("metric: acc", "metirc: acc"))
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "papers/bad/paper.yaml has 3 problems; none of its claims can run:",
            "papers/bad/paper.yaml:13: claims[[]acc[]].metric: is required but missing",
            "papers/bad/paper.yaml:16: claims[[]acc[]].metirc: unknown key (did you mean 'metric'?)",
            "*fix: valid keys of a claim: id, text, source*",
            "papers/bad/paper.yaml:19: claims[[]acc[]].tolerance: '-0.5' must be greater than 0*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "pytest_repro/" not in result.stdout.str()


def test_yaml_syntax_errors_name_their_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    text = (
        (folder / "paper.yaml").read_text().replace("title: A paper for tests", "title: [unclosed")
    )
    (folder / "paper.yaml").write_text(text)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["papers/p1/paper.yaml:*: is not valid YAML*"])


def test_a_missing_entrypoint_is_reported_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    (folder / "train.py").write_text("def train(ctx):\n    pass\n")
    result = pytester.runpytest(*FAST)
    result.stdout.fnmatch_lines(
        [
            "papers/p1/paper.yaml:5: run.entrypoint: train.py has no top-level 'run'*",
            "*fix: define def run(ctx): in train.py (it defines: train)",
        ]
    )


def test_the_files_collected_can_be_renamed_with_an_ini_option(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    (folder / "paper.yaml").rename(folder / "claims.yaml")
    pytester.makeini("[pytest]\nrepro_files = claims.yaml\n")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1)


def test_bad_option_values_are_usage_errors_naming_the_flag(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--repro-workers=zero")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--repro-workers='zero': expected a whole number >= 1*"])
    env = pytester.runpytest("-p", "no:cacheprovider", "--co")
    assert env.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_settings_come_from_cli_env_and_ini_in_that_order(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pytest_repro.keys import CONFIG_KEY

    pytester.makeini("[pytest]\nrepro_cache = read\nrepro_threads = 2\n")
    monkeypatch.setenv("PYTEST_REPRO_CACHE", "write")
    config = pytester.parseconfigure("--repro-cache=off")
    assert config.stash[CONFIG_KEY].cache == "off"
    config = pytester.parseconfigure()
    cfg = config.stash[CONFIG_KEY]
    assert cfg.cache == "write"
    assert cfg.threads == 2
    monkeypatch.delenv("PYTEST_REPRO_CACHE")
    assert pytester.parseconfigure().stash[CONFIG_KEY].cache == "read"


def test_the_header_says_what_is_needed_to_rerun(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    result = pytester.runpytest(*FAST)
    result.stdout.fnmatch_lines(
        [
            "repro: profile=full, cache=on, workers=1x1 thread, env=warn, interval=auto, in-process",
            "repro: ledger .repro/ledger.sqlite; python *",
        ]
    )


def test_importing_the_plugin_imports_no_heavy_library(pytester: pytest.Pytester) -> None:
    code = (
        "import sys, pytest_repro, pytest_repro.plugin\n"
        "heavy = [m for m in ('torch', 'scipy', 'datasets', 'sklearn', 'pandas') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    result = pytester.run(__import__("sys").executable, "-c", code)
    assert result.ret == 0, result.stderr.str()


def test_train_file_is_the_papers_own_even_when_two_papers_use_the_same_name(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper("one")
    make_paper("two", train=TRAIN.replace('c["base"] +', 'c["base"] - 0.3 +'))
    result = pytester.runpytest("-v", "-p", "no:cacheprovider", "--repro-workers=1")
    result.stdout.fnmatch_lines(
        ["*one/paper.yaml::acc [[]matched*", "*two/paper.yaml::acc [[]fundamental disagreement*"]
    )


def test_a_skipped_claim_is_summarised_at_its_yaml_line_not_inside_the_plugin(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    make_paper(header=HEADER + "  resources: {{gpus: 1}}\n")
    result = pytester.runpytest("--repro-inprocess", "-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(skipped=1)
    line = next(
        i + 1
        for i, text in enumerate((pytester.path / "papers/p1/paper.yaml").read_text().splitlines())
        if "- id: acc" in text
    )
    result.stdout.fnmatch_lines([f"*[[]1[]] papers/p1/paper.yaml:{line}: needs 1 GPU(s)*"])
    result.stdout.no_fnmatch_line("*pytest_repro*collect.py*")


def test_a_papers_figures_folder_is_not_walked_unless_it_holds_python(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(claims=claim("first"))
    figures = folder / "figures"
    figures.mkdir()
    (figures / "first.svg").write_text("<svg/>")
    seen = pytester.inline_genitems("-p", "no:cacheprovider")[0]
    assert [item.nodeid for item in seen] == ["papers/p1/paper.yaml::first"]
    visited: list[str] = []

    class Spy:
        @pytest.hookimpl(tryfirst=True)
        def pytest_collect_file(self, file_path: object) -> None:
            visited.append(str(file_path))

    pytester.inline_run("--co", "-p", "no:cacheprovider", plugins=[Spy()])
    assert visited
    assert not [p for p in visited if p.endswith(".svg")]  # the pictures are not even looked at
    pytester.makepyfile(**{"papers/p1/figures/test_own": "def test_mine():\n    pass\n"})
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines(["papers/p1/figures/test_own.py::test_mine"])
