"""The object a paper's entrypoint receives: ``def run(ctx): ...``.

Example::

    def run(ctx):
        data = ctx.data("mnist1d")             # the `data:` entry of paper.yaml
        model = build(ctx.config["width"])
        for epoch in range(1, ctx.config["epochs"] + 1):
            loss = train_one_epoch(model, data, ctx.rng)
            ctx.log(epoch=epoch, train_loss=loss, test_acc=evaluate(model, data))
            if ctx.budget_spent(epoch * steps_per_epoch):
                break                           # smoke mode: a tiny budget

Metrics are appended to ``run_dir/repro-metrics.jsonl`` as they are logged, so a run
that dies half-way still leaves what it logged for the error report.
"""

from __future__ import annotations

import json
import math
import types
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any

METRICS_FILE = "repro-metrics.jsonl"
EXAMPLES_FILE = "repro-examples.jsonl"


class RunContext:
    """Everything one run needs and the two ways it reports back (``log``, ``log_examples``).

    Attributes:
        seed: the run's seed; python, numpy and torch are already seeded with it.
        config: the resolved configuration (paper defaults plus the variant's overrides), read-only.
        run_dir: a fresh folder for this run's files (checkpoints, outputs).
        paper_dir: the folder holding ``paper.yaml``.
        device: ``"cpu"`` or ``"cuda:N"``: where the run should put its tensors.
        smoke: True under ``--repro-smoke``: prove the pipeline, do not train for real.
        max_steps: the step budget in smoke mode (None: no budget).
    """

    def __init__(
        self,
        *,
        seed: int,
        config: Mapping[str, Any],
        run_dir: Path,
        paper_dir: Path,
        device: str = "cpu",
        smoke: bool = False,
        max_steps: int | None = None,
        data_loader: Callable[[str], Any] | None = None,
    ) -> None:
        self.seed = seed
        self.config: Mapping[str, Any] = types.MappingProxyType(dict(config))
        self.run_dir = run_dir
        self.paper_dir = paper_dir
        self.device = device
        self.smoke = smoke
        self.max_steps = max_steps
        self._data_loader = data_loader
        self._rng: Any = None
        self._metrics: IO[str] | None = None
        self._examples: IO[str] | None = None
        self.logged = 0

    # -- reporting -------------------------------------------------------------------------
    def log(self, *, epoch: int | None = None, step: int | None = None, **metrics: float) -> None:
        """Record metric values at an epoch and/or step.

        ``ctx.log(epoch=3, test_acc=0.91, train_loss=0.27)``. A claim reads its metric
        at exactly the epoch/step it names, so log at every point a claim may read.
        """
        if epoch is None and step is None:
            raise TypeError("ctx.log() needs epoch= or step= so a claim can find the value")
        point: dict[str, Any] = {}
        if epoch is not None:
            point["epoch"] = _as_int("epoch", epoch)
        if step is not None:
            point["step"] = _as_int("step", step)
        for name, value in metrics.items():
            point[name] = _as_number(name, value)
        if self._metrics is None:
            self._metrics = (self.run_dir / METRICS_FILE).open("a", encoding="utf-8")
        self._metrics.write(_dump_point(point) + "\n")
        self._metrics.flush()
        self.logged += 1

    def log_examples(
        self,
        metric: str,
        outcomes: Iterable[float],
        *,
        epoch: int | None = None,
        step: int | None = None,
    ) -> None:
        """Record per-example outcomes (e.g. 0/1 correctness on each test example).

        With these, ``interval: hierarchical`` resamples test examples within each
        seed, so the interval includes test-set noise, not only seed noise.
        """
        if (epoch is None) == (step is None):
            raise TypeError("ctx.log_examples() needs exactly one of epoch= or step=")
        axis, value = ("epoch", epoch) if epoch is not None else ("step", step)
        values = [float(v) for v in _tolist(outcomes)]
        record = {"metric": metric, "axis": axis, "at": _as_int(axis, value), "values": values}
        if self._examples is None:
            self._examples = (self.run_dir / EXAMPLES_FILE).open("a", encoding="utf-8")
        self._examples.write(json.dumps(record) + "\n")
        self._examples.flush()

    # -- inputs ----------------------------------------------------------------------------
    def data(self, name: str) -> Any:
        """Load the data source ``name`` from ``paper.yaml``'s ``data:`` section.

        Its fingerprint is recorded in the run's evidence.
        """
        if self._data_loader is None:
            raise RuntimeError("this run has no data sources: add a `data:` section to paper.yaml")
        return self._data_loader(name)

    @property
    def rng(self) -> Any:
        """A ``numpy.random.Generator`` seeded from the run's seed."""
        if self._rng is None:
            import numpy as np

            self._rng = np.random.default_rng(self.seed)
        return self._rng

    def budget_spent(self, step: int) -> bool:
        """True once ``step`` reaches the smoke budget; always False outside smoke mode."""
        return self.max_steps is not None and step >= self.max_steps

    def close(self) -> None:
        for handle in (self._metrics, self._examples):
            if handle is not None:
                handle.close()
        self._metrics = self._examples = None


def _dump_point(point: Mapping[str, Any]) -> str:
    return json.dumps(
        {
            k: (repr(v) if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in point.items()
        }
    )


def _as_int(name: str, value: Any) -> int:
    try:
        as_int = int(value)
    except (TypeError, ValueError):
        raise TypeError(f"ctx.log({name}={value!r}): {name} must be an integer") from None
    if as_int != value:
        raise TypeError(f"ctx.log({name}={value!r}): {name} must be an integer")
    return as_int


def _as_number(name: str, value: Any) -> float | int:
    item = getattr(value, "item", None)  # numpy scalars, 0-d tensors
    if callable(item):
        value = item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"ctx.log({name}={value!r}): metric values must be numbers")
    return value


def _tolist(values: Iterable[float]) -> Iterable[float]:
    tolist = getattr(values, "tolist", None)
    if callable(tolist):
        result: Iterable[float] = tolist()
        return result
    return values
