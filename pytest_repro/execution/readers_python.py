"""``metrics: {python: module:function}``: a reader the paper writes itself.

For logs no built-in reader knows. ``module`` is a ``.py`` file of the paper folder
(checked when ``paper.yaml`` is loaded); ``function`` is called with the run's
:class:`~pytest_repro.execution.readers_base.MetricsInput` and returns the run's points::

    # papers/x/read_logs.py; paper.yaml: metrics: {python: read_logs:points}
    def points(where):
        rows = (where.run_dir / "log.txt").read_text().split()
        return [{"step": i, "loss": float(v)} for i, v in enumerate(rows)]

The module is imported from its file (not through ``sys.path``), afresh for each run.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

from pytest_repro.execution.readers_base import MetricsInput, MetricsReadError, Point, as_point
from pytest_repro.spec.entrypoint import paper_module


def _load(target: str, paper_dir: Path | None) -> ModuleType:
    module, _ = target.split(":")
    source, outside = paper_module(paper_dir, module) if paper_dir is not None else (None, None)
    if outside is not None:
        raise MetricsReadError(
            f"{outside} of {target!r} leads outside the paper folder", path=outside
        )
    if source is None:  # not paper code: accepted at load only when trusted: lists it
        return importlib.import_module(module)
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    name = f"_repro_metrics_{digest}_{module.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(name, source)
    if spec is None or spec.loader is None:
        raise MetricsReadError(f"{source} cannot be imported as a module", path=source)
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded  # dataclasses and pickling look their module up here
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return loaded


class PythonReader:
    """Calls the paper's ``module:function`` with the run's :class:`MetricsInput`."""

    format = "python"

    def read(self, where: MetricsInput) -> list[Point]:
        target = where.target
        if target is None or ":" not in target:
            raise MetricsReadError(f"the python reader needs module:function, got {target!r}")
        function = getattr(_load(target, where.paper_dir), target.split(":")[1], None)
        if not callable(function):
            raise MetricsReadError(
                f"{target} is not a function; define def {target.split(':')[1]}(where): ..."
            )
        result = function(where)
        if not isinstance(result, (list, tuple)):
            raise MetricsReadError(
                f"{target} returned {type(result).__name__}, not a list of points; "
                'return e.g. [{"step": 100, "loss": 0.3}, ...] (an empty list when there are none)'
            )
        for i, point in enumerate(result):
            if not isinstance(point, Mapping) or not all(isinstance(k, str) for k in point):
                raise MetricsReadError(
                    f"{target} returned {type(point).__name__} {point!r:.80} as item {i}, not a "
                    'point: each item must be a dict with text keys, e.g. {"step": 100, "loss": 0.3}'
                )
        return [as_point(point) for point in result]


__all__ = ["PythonReader"]
