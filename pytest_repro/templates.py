"""The files ``pytest-repro new`` writes into a fresh paper folder, as format strings."""

from __future__ import annotations

PAPER_TEMPLATE = """\
# The claims of one paper, checked by `pytest {folder}`.
# Reference: docs/paper-yaml.md. Every hyperparameter carries where the paper states it
# (source: "Sec. 3"), or `source: assumed` with why.
paper:
  id: "{id}"
  title: "{title}"
  authors: [FIRST AUTHOR]
  url: https://arxiv.org/abs/{id}

run:
  entrypoint: train:run
  config:
    lr: {{value: 0.01, source: "Sec. 3"}}
    epochs: {{value: 10, source: assumed, why: "the paper does not say; enough to converge here"}}
  timeout: 30m

environment:
  requires: ["numpy>=1.24"]
  deterministic: true

data:
  digits: {{sklearn: load_digits}}

claims:
  - id: test-accuracy
    text: The model reaches 95% test accuracy
    source: Table 1
    metric: test_acc
    at: {{epoch: 10}}
    paper: 0.95
    tolerance: 0.02
    seeds: 3
    unit: fraction
"""

TRAIN_TEMPLATE = '''\
"""Training and evaluation for {id}, as pytest-repro runs it: one call per (config, seed)."""


def run(ctx):
    """``ctx.config`` holds the resolved config, ``ctx.seed`` is already applied to
    python/numpy/torch, and ``ctx.log`` records metrics at an epoch or step."""
    data = ctx.data("digits")
    x, y = data["data"], data["target"]
    for epoch in range(1, ctx.config["epochs"] + 1):
        # ... train one epoch, evaluate ...
        test_acc = 0.0
        ctx.log(epoch=epoch, test_acc=test_acc)
        if ctx.budget_spent(epoch):
            break
'''

README_TEMPLATE = """\
# {title}

Reproduction of arXiv:{id} with pytest-repro.

    pytest {folder}            # run the claims; writes results.md here
    pytest {folder} --repro-smoke   # prove the pipeline with a tiny budget first

What was substituted and why is in `paper.yaml` (`substitutions:`); the verdicts and
their evidence are in `results.md`.
"""

__all__ = ["PAPER_TEMPLATE", "README_TEMPLATE", "TRAIN_TEMPLATE"]
