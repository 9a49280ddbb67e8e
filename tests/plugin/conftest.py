"""Helpers to build small papers inside a pytester directory."""

from __future__ import annotations

import contextlib
import importlib
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

for _name in (
    "numpy",
    "torch",
    "torch._dynamo",
    "sklearn.datasets",
    "pandas",
    "scipy.stats",
    "yaml._yaml",  # libyaml's extension keeps the classes of the first `import yaml`
):
    # In-process runs import these (seeding imports torch, which pulls torch._dynamo in lazily;
    # scikit-learn's loaders import pandas). pytester forgets the modules an inline run
    # imported, and extension modules do not survive a second import: load them once here.
    with contextlib.suppress(ImportError):  # optional extras
        importlib.import_module(_name)

#: An entrypoint whose metric is fully controlled by its config: seed s logs
#: base + spread * (s - 1) at every epoch, so seeds 0, 1, 2 have mean `base` and sd `spread`.
TRAIN = """\
import json, os, pathlib

def run(ctx):
    c = ctx.config
    calls = pathlib.Path(ctx.paper_dir) / "calls.log"
    with calls.open("a") as f:
        f.write(json.dumps({"seed": ctx.seed, "config": dict(c)}) + "\\n")
    for epoch in range(1, c["epochs"] + 1):
        if c.get("fail_seed") == ctx.seed:
            print("about to fail on purpose")
            raise RuntimeError("seed %d failed on purpose" % ctx.seed)
        value = c["base"] + c["spread"] * (ctx.seed - 1) + c["slope"] * epoch
        ctx.log(epoch=epoch, acc=value, loss=1 - value)
"""

HEADER = """\
paper:
  id: "{paper_id}"
  title: A paper for tests
run:
  entrypoint: train:run
  config:
    epochs: 5
    base: 0.9
    spread: 0.001
    slope: 0.0
    fail_seed: -1
"""


def claim(cid: str = "acc", *, paper: float = 0.9, tolerance: float = 0.01, extra: str = "") -> str:
    body = f"""\
  - id: {cid}
    text: accuracy reaches the paper's value
    source: Table 1
    metric: acc
    at: {{epoch: 5}}
    paper: {paper}
    tolerance: {tolerance}
    unit: fraction
"""
    if extra:
        body += textwrap.indent(textwrap.dedent(extra).strip("\n"), "    ") + "\n"
    return body


MakePaper = Callable[..., Path]


@pytest.fixture
def make_paper(pytester: pytest.Pytester) -> MakePaper:
    """``make_paper("p1", claims, variants="...", train=TRAIN)`` writes papers/p1/{paper.yaml,train.py}."""

    def make(
        paper_id: str = "p1",
        claims: str | None = None,
        *,
        variants: str = "",
        train: str = TRAIN,
        header: str = HEADER,
        top: str = "",
    ) -> Path:
        folder = pytester.path / "papers" / paper_id
        folder.mkdir(parents=True, exist_ok=True)
        text = header.format(paper_id=paper_id) + top
        if variants:
            text += (
                "variants:\n" + textwrap.indent(textwrap.dedent(variants).strip("\n"), "  ") + "\n"
            )
        text += "claims:\n" + (claims if claims is not None else claim())
        (folder / "paper.yaml").write_text(text)
        (folder / "train.py").write_text(train)
        return folder

    return make


def calls(folder: Path) -> int:
    log = folder / "calls.log"
    return len(log.read_text().splitlines()) if log.exists() else 0
