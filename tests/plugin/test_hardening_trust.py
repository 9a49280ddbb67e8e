"""A pytest session over a folder holding only paper.yaml runs none of its code outside it."""

from __future__ import annotations

import os

import pytest

from .conftest import MakePaper

FAST = ("--repro-inprocess", "-p", "no:cacheprovider")

ONLY_YAML = """\
paper: {id: p1, title: A paper for tests}
run:
  entrypoint: train:run
data:
  x: {python: "os:system", args: {command: "id > pwned.txt"}}
sanity:
  - train_test_overlap: {data: x}
claims:
  - id: acc
    text: t
    source: Table 1
    metric: acc
    at: {epoch: 1}
    paper: 0.9
    tolerance: 0.1
"""

DATA_TRAIN = """\
def run(ctx):
    rows = ctx.data("rows")
    for epoch in range(1, 6):
        ctx.log(epoch=epoch, acc=0.9 + 0 * len(rows))
"""


def test_a_yaml_only_paper_naming_os_system_never_calls_it(pytester: pytest.Pytester) -> None:
    folder = pytester.path / "papers" / "p1"
    folder.mkdir(parents=True)
    (folder / "paper.yaml").write_text(ONLY_YAML)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "papers/p1/paper.yaml:5: data.x.python: 'os:system' is not code of the paper folder*",
            "*fix: list it under trusted: if you trust it (trusted: [[]os:system[]])*",
        ]
    )
    assert not list(pytester.path.rglob("pwned.txt"))


@pytest.mark.parametrize("target", ["os:system", "builtins:eval"])
def test_an_entrypoint_outside_the_folder_fails_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper, target: str
) -> None:
    folder = make_paper()
    text = (folder / "paper.yaml").read_text().replace("train:run", target)
    (folder / "paper.yaml").write_text(text)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([f"papers/p1/paper.yaml:5: run.entrypoint: '{target}' is not*"])


def test_an_entrypoint_linking_outside_the_folder_fails_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    outside = pytester.path / "elsewhere.py"
    outside.write_text((folder / "train.py").read_text())
    (folder / "train.py").unlink()
    os.symlink(outside, folder / "train.py")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["papers/p1/paper.yaml:5: run.entrypoint: train.py of 'train:run' leads outside*"]
    )
    assert not (folder / "calls.log").exists()


def test_a_trusted_installed_data_loader_runs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    top = 'trusted: [json:loads]\ndata:\n  rows: {python: "json:loads", args: {s: "[1, 2]"}}\n'
    make_paper(top=top, train=DATA_TRAIN)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)


def test_the_same_loader_untrusted_fails_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    top = 'data:\n  rows: {python: "json:loads", args: {s: "[1, 2]"}}\n'
    make_paper(top=top, train=DATA_TRAIN)
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "papers/p1/paper.yaml:13: data.rows.python: 'json:loads' is not code of the paper*",
            "*fix: list it under trusted: if you trust it*",
        ]
    )


def test_a_trusted_module_that_is_not_installed_fails_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(top="trusted: [no_such_module_xyz:make]\n")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["papers/p1/paper.yaml:12: trusted[[]0[]]: *no module 'no_such_module_xyz' is installed*"]
    )
