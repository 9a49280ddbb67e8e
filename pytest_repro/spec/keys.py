"""The words ``paper.yaml`` may use: the keys of each mapping, and the limits its values keep.

Each table is the closed set of keys one mapping accepts, in the order messages list
them (``valid keys: ...``). The kinds, directions and methods a value may name come from
:mod:`pytest_repro.vocab`; what is here belongs to the file's structure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pytest_repro.vocab import DATA_KINDS, SPREAD_KINDS

__all__ = [
    "ABOUT_CHOICES",
    "BUDGET_PLACEHOLDERS",
    "CHECKPOINT_KEYS",
    "CI_METHODS",
    "CLAIM_KEYS",
    "CODE_RELEASE_KEYS",
    "COMPARE_KEYS",
    "CONFIG_VALUE_KEYS",
    "CURVE_CLAIM_KEYS",
    "DATA_KEYS",
    "DEFAULT_SEEDS",
    "ENTRYPOINT_PATTERN",
    "ENVIRONMENT_KEYS",
    "FILE_KEYS",
    "GENERATOR_KEYS",
    "HF_KEYS",
    "ID_PATTERN",
    "INVENTORY_KEYS",
    "KIT_CHECKS",
    "MAX_SEEDS",
    "MAX_SEED_VALUE",
    "MAX_SWEEP_POINTS",
    "MULTIPLICITY_CHOICES",
    "NOT_FOR_CURVES",
    "PAPER_KEYS",
    "PAPER_VALUE_KEYS",
    "REQUIRED_CLAIM_KEYS",
    "REQUIRED_TOP_KEYS",
    "RESERVED_PLACEHOLDERS",
    "RESOURCES_KEYS",
    "RUN_CWDS",
    "RUN_KEYS",
    "SANITY_ARGS",
    "SANITY_ARG_KINDS",
    "SANITY_CHECKS",
    "SEED_RANGE_KEYS",
    "SHA256_PATTERN",
    "SLOPE_KEYS",
    "SPACINGS",
    "SUBSTITUTION_KEYS",
    "TOP_KEYS",
    "UPSTREAM_KEYS",
    "VARIANT_REF_KEYS",
    "in_claim_order",
]

# -- the blocks of the file ---------------------------------------------------------------
TOP_KEYS = (
    "paper",
    "trusted",
    "upstream",
    "run",
    "environment",
    "data",
    "substitutions",
    "inventory",
    "sanity",
    "variants",
    "sweeps",
    "claims",
    "notes",
)
#: The blocks a spec cannot do without.
REQUIRED_TOP_KEYS = ("paper", "run", "claims")
PAPER_KEYS = ("id", "title", "authors", "year", "url", "venue", "multiplicity")
#: ``paper.multiplicity``: Holm (default), Benjamini–Hochberg, or no correction.
MULTIPLICITY_CHOICES = ("holm", "bh", "none")

# -- upstream -----------------------------------------------------------------------------
#: ``upstream.<name>``: an installed package at an exact version, or a checkout at a path.
UPSTREAM_KEYS = ("package", "version", "path", "repo", "commit", "license")

# -- inventory ----------------------------------------------------------------------------
#: ``inventory:``: the official code, released checkpoints, what is missing.
INVENTORY_KEYS = ("code", "checkpoints", "missing", "notes")
#: ``inventory.code[i]``: where a release of the code is and what it is.
CODE_RELEASE_KEYS = ("url", "commit", "license", "official", "upstream", "notes")
#: ``inventory.checkpoints[i]``: released weights.
CHECKPOINT_KEYS = ("name", "url", "sha256", "notes")

# -- run ----------------------------------------------------------------------------------
RUN_KEYS = (
    "entrypoint",
    "command",
    "metrics",
    "config",
    "timeout",
    "resources",
    "env",
    "kit",
    "cwd",
    "seed_startup",
    "seedless",
)
#: ``run.cwd``: where a run starts, the paper folder (default) or its own run folder.
RUN_CWDS = ("paper", "run_dir")
#: ``run.config.<name>: {value: ..., source: ..., why: ...}``.
CONFIG_VALUE_KEYS = ("value", "source", "why", "alternatives")
RESOURCES_KEYS = ("gpus", "threads", "memory", "gpu_memory")
#: Placeholders every ``command:`` may use besides the ``run.config`` names.
RESERVED_PLACEHOLDERS = ("seed", "run_dir", "paper_dir", "max_steps", "max_epochs", "smoke")
#: Budget placeholders: the smoke budget in smoke mode, the ``run.config`` value otherwise.
BUDGET_PLACEHOLDERS = ("max_steps", "max_epochs")

# -- environment and data -----------------------------------------------------------------
ENVIRONMENT_KEYS = ("python", "requires", "lockfile", "cuda", "deterministic")
DATA_KEYS = (*DATA_KINDS, "args", "fingerprint")
FILE_KEYS = ("path", "sha256")
HF_KEYS = ("path", "name", "revision", "split", "data_files", "from_disk")

# -- claims and what they refer to --------------------------------------------------------
CLAIM_KEYS = (
    "id",
    "text",
    "source",
    "kind",
    "metric",
    "at",
    "paper",
    "tolerance",
    "seeds",
    "variant",
    "config",
    "compare",
    "better",
    "margin",
    "expect",
    "hypothesis",
    "see",
    "interval",
    "statistic",
    "resolution",
    "unit",
    "disagreement",
    "notes",
    "failed_below",
    "about",
    "deterministic",
    "test_examples",
    "skewed_seeds",
    "sweep",
    "over",
    "direction",
    "slope",
    "extremum",
    "within",
    "formula",
)
_CLAIM_KEY_ORDER = {key: i for i, key in enumerate(CLAIM_KEYS)}


def in_claim_order(keys: Iterable[str]) -> list[str]:
    """The claim keys among ``keys``, in the order of :data:`CLAIM_KEYS`."""
    return sorted((k for k in keys if k in _CLAIM_KEY_ORDER), key=_CLAIM_KEY_ORDER.__getitem__)


#: Keys of a claim about a curve (``kind: trend | peak | curve``) beyond the common ones.
CURVE_CLAIM_KEYS = ("sweep", "over", "direction", "slope", "extremum", "within", "formula")
#: Claim keys that do not apply to a claim about a curve (each point is a mean over seeds).
NOT_FOR_CURVES = (
    "compare",
    "interval",
    "statistic",
    "failed_below",
    "about",
    "deterministic",
    "test_examples",
    "skewed_seeds",
)
#: ``slope: {paper, tolerance, scale, base}`` of a trend claim.
SLOPE_KEYS = ("paper", "tolerance", "scale", "base")
#: A generated sweep axis: ``{from, to}`` with one of ``step``, ``times`` or ``num``.
GENERATOR_KEYS = ("from", "to", "step", "times", "num", "spacing")
SPACINGS = ("linear", "log")
#: The most points one grid may generate.
MAX_SWEEP_POINTS = 1000
#: ``about:``: the mean over all seeds, or over the seeds that did not fail.
ABOUT_CHOICES = ("mean", "successful")
#: ``paper: {ci95: {value, method}}``: how the paper's 95% interval was computed.
CI_METHODS = ("t", "normal")
#: The keys every claim must give.
REQUIRED_CLAIM_KEYS = ("id", "text", "source", "metric", "at")
PAPER_VALUE_KEYS = ("value", *SPREAD_KINDS, "seeds")
SEED_RANGE_KEYS = ("min", "max", "stages")
COMPARE_KEYS = ("a", "b")
VARIANT_REF_KEYS = ("variant", "config")
SUBSTITUTION_KEYS = ("original", "used", "why", "claims")
#: Sanity checks this version can run. Others are rejected rather than silently ignored.
SANITY_CHECKS = (
    "determinism",
    "finite",
    "train_test_overlap",
    "overfit_tiny_batch",
    "loss_at_init",
    "params_update",
    "label_shuffle",
)
#: The checks that train the model themselves, through the paper's ``run.kit``.
KIT_CHECKS = ("overfit_tiny_batch", "loss_at_init", "params_update", "label_shuffle")
#: Each check's arguments and their defaults (docs/paper-yaml.md says why each default).
#: None means "not set": the kit's ``classes``, no fixed ``value``, the only data source.
SANITY_ARGS: Mapping[str, Mapping[str, object]] = {
    "determinism": {},
    "finite": {"examples": 8, "steps": 5},
    "train_test_overlap": {"data": None, "train": "train", "test": "test", "max": 0},
    "overfit_tiny_batch": {"examples": 8, "steps": 300, "below": 0.05},
    "loss_at_init": {"examples": 64, "classes": None, "value": None, "tolerance": 0.25},
    "params_update": {"examples": 8, "frozen": []},
    "label_shuffle": {
        "examples": 256,
        "steps": 100,
        "heldout": 512,
        "classes": None,
        "margin": 0.1,
    },
}
#: What each argument holds: ``count`` (whole, >= 1), ``whole`` (>= 0), ``positive`` (> 0),
#: ``classes`` (whole, >= 2), ``number``, ``text``, ``key`` (text or whole), ``texts`` (a list).
SANITY_ARG_KINDS: Mapping[str, str] = {
    "examples": "count",
    "steps": "count",
    "heldout": "count",
    "max": "whole",
    "below": "positive",
    "tolerance": "positive",
    "margin": "positive",
    "classes": "classes",
    "value": "number",
    "data": "text",
    "train": "key",
    "test": "key",
    "frozen": "texts",
}

# -- limits -------------------------------------------------------------------------------
DEFAULT_SEEDS = 3
MAX_SEEDS = 1000
MAX_SEED_VALUE = 2**32 - 1

# -- patterns -----------------------------------------------------------------------------
#: A paper, claim or variant id: it becomes part of a pytest node id.
ID_PATTERN = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._-]*\Z")
#: ``module.path:function``.
ENTRYPOINT_PATTERN = re.compile(r"\A[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*:[A-Za-z_]\w*\Z")
SHA256_PATTERN = re.compile(r"\A[0-9a-f]{64}\Z")
