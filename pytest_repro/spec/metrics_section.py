"""``run.metrics:``: how a ``command:`` run's metric series is read.

One format per paper: a file the run writes (``jsonl``, ``csv``, ``json``), a folder a
logging library writes (``tensorboard``, ``wandb``), one or several regular expressions
over its output (``regex``), a reader in the paper folder (``python: module:function``),
or a format a plugin's metric reader adds. The reader itself runs after the run
(:mod:`pytest_repro.execution.readers`); here the spec is checked.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.entrypoint import check_paper_code
from pytest_repro.spec.fields import MISSING, MapReader, describe, join
from pytest_repro.spec.keys import ENTRYPOINT_PATTERN
from pytest_repro.spec.schema import MetricsSource
from pytest_repro.spec.ynode import YNode
from pytest_repro.vocab import METRICS_FORMATS

#: The keys of ``metrics: {tensorboard: {...}}``.
TENSORBOARD_KEYS = ("path", "tags")
#: What a file name in a fix looks like, per format.
_EXAMPLE_FILE = {
    "jsonl": "metrics.jsonl",
    "csv": "metrics.csv",
    "json": "results.json",
    "tensorboard": "tb",
    "wandb": "wandb",
}


def build_metrics(ctx: SpecContext, m: MapReader) -> Any:
    """The ``metrics`` of the run section ``m``: a :class:`MetricsSource`, None or MISSING."""
    node = m.mapping("metrics")
    if node is None or node is MISSING:
        return node
    given_keys = [str(k) for k in node.value] if isinstance(node.value, dict) else []
    plugins = ctx.metric_formats
    if plugins is None:  # any plugin's format: a name whose reader is not known here
        plugins = tuple(k for k in given_keys if k not in METRICS_FORMATS and k.isidentifier())
    formats = (*METRICS_FORMATS, *plugins)
    r = MapReader(ctx.ck, node, "run.metrics", allowed=formats)
    given = [k for k in formats if r.has(k)]
    if len(given) != 1:
        named = ", ".join(f"{k}:" for k in formats[:-1]) + f" or {formats[-1]}:"
        return ctx.ck.problem(
            node.line,
            "run.metrics",
            f"needs exactly one of {named}",
            'e.g. metrics: {jsonl: "{run_dir}/metrics.jsonl"}',
        )
    fmt = given[0]
    raw = r.raw(fmt)
    if fmt == "regex" and raw is not None and raw.kind == "seq":
        return _patterns(ctx, r, raw)
    if fmt == "tensorboard" and raw is not None and raw.kind == "map":
        return _tensorboard(ctx, r.field(fmt), raw)
    text = r.string(fmt)
    if text is MISSING or text is None:
        return MISSING
    if fmt == "regex":
        if not _pattern_ok(ctx, r.line(fmt) if raw is None else raw.line, r.field(fmt), text):
            return MISSING
        return MetricsSource(format="regex", pattern=text, loc=ctx.loc(node.line))
    if fmt == "python":
        return _python(ctx, r, text, node)
    path = _path(ctx, r.field(fmt), raw.line if raw is not None else node.line, fmt, text)
    if path is MISSING:
        return MISSING
    return MetricsSource(format=fmt, path=path, loc=ctx.loc(node.line))


def _path(ctx: SpecContext, field: str, line: int, fmt: str, text: str) -> Any:
    """``text``, a path template, or MISSING when it does not lead into the run's folder."""
    if "{run_dir}" not in text:
        example = _EXAMPLE_FILE.get(fmt, f"metrics.{fmt}")
        return ctx.ck.problem(
            line,
            field,
            f"{text!r} does not contain {{run_dir}}: seeds running in parallel would share one file",
            f'write the file into the run\'s folder, e.g. {fmt}: "{{run_dir}}/{example}"',
        )
    return text


def _pattern_ok(ctx: SpecContext, line: int, field: str, text: str) -> bool:
    """Whether ``text`` compiles and names an axis and at least one metric; a problem if not."""
    try:
        pattern = re.compile(text)
    except re.error as exc:
        ctx.ck.problem(line, field, f"does not compile: {exc}", "fix the regular expression")
        return False
    groups = set(pattern.groupindex)
    if not groups & {"epoch", "step"}:
        ctx.ck.problem(
            line,
            field,
            "needs a named group (?P<epoch>...) or (?P<step>...)",
            "add one so claims can find their point",
        )
        return False
    if not groups - {"epoch", "step"}:
        ctx.ck.problem(
            line,
            field,
            "needs a named group per metric, e.g. (?P<test_acc>[0-9.]+)",
            "add the metric's group",
        )
        return False
    return True


def _patterns(ctx: SpecContext, r: MapReader, raw: YNode) -> Any:
    """``regex: [PAT1, PAT2]``: each pattern checked, its index in the field name."""
    field = r.field("regex")
    if not raw.value:
        return ctx.ck.problem(
            raw.line,
            field,
            "is an empty list",
            'give at least one pattern, e.g. regex: ["epoch (?P<epoch>\\\\d+) acc (?P<acc>[0-9.]+)"]',
        )
    patterns: list[str] = []
    ok = True
    for i, child in enumerate(raw.value):
        if child.kind != "scalar" or not isinstance(child.value, str) or not child.value.strip():
            ctx.ck.problem(
                child.line,
                join(field, i),
                f"must be a regular expression (text), got {describe(child)}",
                "quote it: '...'",
            )
            ok = False
            continue
        ok = _pattern_ok(ctx, child.line, join(field, i), child.value) and ok
        patterns.append(child.value)
    if not ok:
        return MISSING
    return MetricsSource(format="regex", patterns=tuple(patterns), loc=ctx.loc(raw.line))


def _tensorboard(ctx: SpecContext, field: str, raw: YNode) -> Any:
    """``tensorboard: {path: "{run_dir}/tb", tags: [val/acc]}``."""
    t = MapReader(ctx.ck, raw, field, allowed=TENSORBOARD_KEYS, required=("path",))
    text = t.string("path")
    tags = t.strings("tags")
    if text is MISSING or text is None or tags is MISSING:
        return MISSING
    path = _path(ctx, t.field("path"), t.line("path"), "tensorboard", text)
    if path is MISSING:
        return MISSING
    options = {"tags": list(tags)} if t.has("tags") else {}
    return MetricsSource(format="tensorboard", path=path, options=options, loc=ctx.loc(raw.line))


def _python(ctx: SpecContext, r: MapReader, target: str, node: YNode) -> Any:
    """``python: module:function``: a function of a module in the paper folder."""
    if not ENTRYPOINT_PATTERN.match(target):
        return r.bad(
            "python",
            f"{target!r} is not module:function",
            "write e.g. python: read_logs:points (read_logs.py in the paper folder)",
        )
    if not check_paper_code(
        ctx, r, "python", target, example="def {function}(where): return [...]"
    ):
        return MISSING
    return MetricsSource(format="python", target=target, loc=ctx.loc(node.line))


__all__ = ["TENSORBOARD_KEYS", "build_metrics"]
