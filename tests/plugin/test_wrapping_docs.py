"""docs/wrapping.md is a tested document: each of its examples runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "wrapping.md"
#: A fenced block that is a file of an example: ```python file=papers/x/train.py
BLOCK = re.compile(r"^```(?:\w+) file=(?P<path>\S+)\n(?P<body>.*?)^```$", re.M | re.S)


def files() -> dict[str, str]:
    return {m["path"]: m["body"] for m in BLOCK.finditer(DOC.read_text(encoding="utf-8"))}


def write_all(root: Path) -> None:
    for path, body in files().items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")


def test_the_document_holds_its_four_examples() -> None:
    papers = sorted({p.split("/")[1] for p in files() if p.startswith("papers/")})
    assert papers == ["wrap-notebook", "wrap-script", "wrap-tensorboard", "wrap-wandb"]


NEEDS = {"wrap-wandb": "wandb", "wrap-tensorboard": "tensorboard"}


@pytest.mark.parametrize(
    "paper", ["wrap-script", "wrap-notebook", "wrap-wandb", "wrap-tensorboard"]
)
def test_each_example_yields_its_verdict_as_written(pytester: pytest.Pytester, paper: str) -> None:
    if paper in NEEDS:
        pytest.importorskip(NEEDS[paper])
    write_all(pytester.path)
    result = pytester.runpytest(f"papers/{paper}", "-v", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([f"*{paper}/paper.yaml::*[[]matched within 0.010[]]*"])
    result.assert_outcomes(passed=1)


def test_the_script_example_runs_its_smoke_budget(pytester: pytest.Pytester) -> None:
    write_all(pytester.path)
    result = pytester.runpytest(
        "papers/wrap-script", "--repro-smoke", "--repro-smoke-steps=50", "-p", "no:cacheprovider"
    )
    assert result.ret == 0, result.stdout.str()
    assert "ignored its budget" not in result.stdout.str()
