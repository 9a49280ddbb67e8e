"""Upstream code: the authors' checkout or release is part of what a run is."""

from __future__ import annotations

import json
import subprocess
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from pytest_repro import cli

FAST = ("-p", "no:cacheprovider")

#: The authors' code, in the style of a research repository: a module with a training
#: function that takes a seed, and a helper package reached through a symlink.
AUTHORS_MODEL = """\
import random
from helpers.scale import SCALE

def train(seed, epochs):
    rng = random.Random(seed)
    return [0.9 + SCALE * (rng.random() - 0.5) for _ in range(epochs)]
"""

ADAPTER = """\
import json, pathlib
from model import train   # the authors' code, from the upstream checkout

def run(ctx):
    with open(pathlib.Path(ctx.paper_dir) / "calls.log", "a") as f:
        f.write(json.dumps({"seed": ctx.seed}) + "\\n")
    for epoch, acc in enumerate(train(ctx.seed, 3), start=1):
        ctx.log(epoch=epoch, acc=acc)
"""


def git(folder: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


@pytest.fixture
def checkout(pytester: pytest.Pytester) -> Path:
    """A git checkout of the authors' code beside the papers; its helpers behind a symlink."""
    root = pytester.path / "vendor" / "authors"
    real = pytester.path / "vendor" / "shared-helpers"
    real.mkdir(parents=True)
    (real / "__init__.py").write_text("")
    (real / "scale.py").write_text("SCALE = 0.002\n")
    root.mkdir(parents=True)
    (root / "model.py").write_text(AUTHORS_MODEL)
    (root / "LICENSE").write_text("MIT License\n\nCopyright (c) the authors\n")
    (root / "helpers").symlink_to(real, target_is_directory=True)
    git(root, "init", "-q")
    git(root, "-c", "user.email=a@b", "-c", "user.name=a", "add", ".")
    git(root, "-c", "user.email=a@b", "-c", "user.name=a", "commit", "-qm", "release")
    git(root, "remote", "add", "origin", "https://example.org/authors/code")
    return root


def paper(pytester: pytest.Pytester, upstream: str, *, train: str = ADAPTER) -> Path:
    folder = pytester.path / "papers" / "up"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(train)
    (folder / "paper.yaml").write_text(
        "paper: {id: up, title: The authors' own code}\n"
        + upstream
        + textwrap.dedent(
            """\
            run: {entrypoint: train:run}
            claims:
              - {id: acc, text: accuracy, source: Table 1, metric: acc, at: {epoch: 3},
                 paper: 0.9, tolerance: 0.01}
            """
        )
    )
    return folder


def calls(folder: Path) -> int:
    log = folder / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


def checkout_block(commit: str | None = None) -> str:
    block = "upstream:\n  authors:\n    path: ../../vendor/authors\n"
    block += "    repo: https://example.org/authors/code\n    license: MIT\n"
    return block + (f"    commit: {commit}\n" if commit else "")


def test_a_checkout_runs_unmodified_and_its_identity_is_recorded(
    pytester: pytest.Pytester, checkout: Path
) -> None:
    head = git(checkout, "rev-parse", "HEAD")
    paper(pytester, checkout_block(head[:10]))
    result = pytester.runpytest("-v", "--repro-json=r.json", *FAST)
    result.stdout.fnmatch_lines(["*up/paper.yaml::acc [[]matched within 0.010[]]*"])
    ledger = pytester.path / ".repro" / "ledger.sqlite"
    import sqlite3

    with sqlite3.connect(ledger) as conn:
        evidence = [json.loads(row[0]) for row in conn.execute("SELECT evidence FROM runs")]
    (identity,) = {json.dumps(e["upstream"]["authors"], sort_keys=True) for e in evidence}
    recorded = json.loads(identity)
    assert recorded["head"] == head
    assert recorded["dirty"] is False
    assert recorded["kind"] == "checkout"
    assert len(recorded["files_sha256"]) == 64


def test_editing_the_checkout_invalidates_its_runs_also_behind_a_symlink(
    pytester: pytest.Pytester, checkout: Path
) -> None:
    folder = paper(pytester, checkout_block())
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert calls(folder) == 3  # the second session reused every run
    (checkout / "model.py").write_text(AUTHORS_MODEL + "\n# a fix by the authors\n")
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert calls(folder) == 6
    # the helpers live outside the checkout, reached through its symlink
    (pytester.path / "vendor" / "shared-helpers" / "scale.py").write_text("SCALE = 0.0021\n")
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(passed=1)
    assert calls(folder) == 9


def test_paper_code_behind_a_symlink_is_part_of_the_cache_key(
    pytester: pytest.Pytester,
) -> None:
    shared = pytester.path / "shared"
    shared.mkdir()
    (shared / "numbers.py").write_text("BASE = 0.9\n")
    train = ADAPTER.replace("from model import train", "from lib.numbers import BASE").replace(
        "enumerate(train(ctx.seed, 3), start=1)",
        "enumerate([BASE + 0.001 * (ctx.seed - 1)] * 3, start=1)",
    )
    folder = paper(pytester, "", train=train)
    (folder / "lib").symlink_to(shared, target_is_directory=True)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    (shared / "numbers.py").write_text("BASE = 0.9005\n")
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert calls(folder) == 6


def test_a_checkout_at_another_commit_than_declared_is_an_error_with_the_fix(
    pytester: pytest.Pytester, checkout: Path
) -> None:
    folder = paper(pytester, checkout_block("deadbeef00"))
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*upstream.authors: the checkout at * is at commit *, but the paper names deadbeef00*"]
    )
    assert "bug in pytest-repro" not in result.stdout.str()
    assert calls(folder) == 0


def test_a_missing_checkout_is_refused_at_its_line_with_how_to_get_it(
    pytester: pytest.Pytester,
) -> None:
    paper(pytester, checkout_block("abcdef1"))
    result = pytester.runpytest(*FAST)
    result.stdout.fnmatch_lines(
        [
            "*paper.yaml:4: upstream.authors.path: no checkout at papers/up/../../vendor/authors",
            "*fix: git clone https://example.org/authors/code * && git -C * checkout abcdef1",
        ]
    )


def test_a_pinned_package_enters_the_key_and_a_different_version_is_an_error(
    pytester: pytest.Pytester,
) -> None:
    version = metadata.version("filelock")
    block = f'upstream:\n  locks:\n    package: filelock\n    version: "{version}"\n'
    train = ADAPTER.replace("from model import train", "import filelock").replace(
        "enumerate(train(ctx.seed, 3), start=1)",
        "enumerate([0.9 + 0.001 * (ctx.seed - 1)] * 3, start=1)",
    )
    folder = paper(pytester, block, train=train)
    pytester.runpytest(*FAST).assert_outcomes(passed=1)
    assert calls(folder) == 3
    spec = folder / "paper.yaml"
    spec.write_text(spec.read_text().replace(version, "0.0.1"))
    result = pytester.runpytest(*FAST)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"*upstream.locks: filelock {version} is installed, but the paper runs 0.0.1; "
            "pip install filelock==0.0.1*"
        ]
    )
    assert calls(folder) == 3


def test_an_entrypoint_may_live_in_the_checkout(pytester: pytest.Pytester, checkout: Path) -> None:
    (checkout / "entry.py").write_text(
        "from model import train\n\n"
        "def run(ctx):\n"
        "    for epoch, acc in enumerate(train(ctx.seed, 3), start=1):\n"
        "        ctx.log(epoch=epoch, acc=acc)\n"
    )
    folder = paper(pytester, checkout_block())
    spec = folder / "paper.yaml"
    spec.write_text(spec.read_text().replace("train:run", "entry:run"))
    (folder / "train.py").unlink()
    result = pytester.runpytest("-v", *FAST)
    result.stdout.fnmatch_lines(["*up/paper.yaml::acc [[]matched within 0.010[]]*"])


def test_new_with_upstream_scaffolds_the_block_and_an_adapter(
    pytester: pytest.Pytester, checkout: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    papers = pytester.path / "papers"
    assert cli.main(["new", "2101.00001", "--dir", str(papers), "--upstream", str(checkout)]) == 0
    spec = (papers / "2101.00001" / "paper.yaml").read_text()
    assert 'upstream:\n  authors:\n    path: "../../vendor/authors"' in spec
    assert f'commit: "{git(checkout, "rev-parse", "HEAD")}"' in spec
    assert 'repo: "https://example.org/authors/code"' in spec
    assert 'license: "MIT"' in spec
    adapter = (papers / "2101.00001" / "train.py").read_text()
    assert "#   model: train" in adapter
    from pytest_repro.spec import load_spec

    loaded = load_spec(papers / "2101.00001" / "paper.yaml")  # the scaffold is a valid spec
    assert [u.name for u in loaded.upstream] == ["authors"]
