"""``run.metrics:``: how a ``command:`` run's metric series is read.

One format per paper: a file the run writes (``jsonl``, ``csv``), a regular expression
over its output (``regex``), or a format a plugin's metric reader adds. The reader itself
runs after the run (:mod:`pytest_repro.execution.readers`); here the spec is checked.
"""

from __future__ import annotations

import re
from typing import Any

from pytest_repro.spec.context import SpecContext
from pytest_repro.spec.fields import MISSING, MapReader
from pytest_repro.spec.schema import MetricsSource
from pytest_repro.vocab import METRICS_FORMATS


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
    text = r.string(fmt)
    if text is MISSING or text is None:
        return MISSING
    if fmt == "regex":
        try:
            pattern = re.compile(text)
        except re.error as exc:
            return r.bad("regex", f"does not compile: {exc}", "fix the regular expression")
        groups = set(pattern.groupindex)
        if not groups & {"epoch", "step"}:
            return r.bad(
                "regex",
                "needs a named group (?P<epoch>...) or (?P<step>...)",
                "add one so claims can find their point",
            )
        if not groups - {"epoch", "step"}:
            return r.bad(
                "regex",
                "needs a named group per metric, e.g. (?P<test_acc>[0-9.]+)",
                "add the metric's group",
            )
        return MetricsSource(format="regex", pattern=text, loc=ctx.loc(node.line))
    if "{run_dir}" not in text:
        return r.bad(
            fmt,
            f"{text!r} does not contain {{run_dir}}: seeds running in parallel would share one file",
            f'write the file into the run\'s folder, e.g. {fmt}: "{{run_dir}}/metrics.{fmt}"',
        )
    return MetricsSource(format=fmt, path=text, loc=ctx.loc(node.line))


__all__ = ["build_metrics"]
