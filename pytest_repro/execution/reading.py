"""Reading a finished run's metrics, and reading a recorded run again.

A run's output (``repro-output.log``) and the files it wrote stay in its run folder, and
the metrics reader is not part of a run's cache key. So a changed ``run.metrics:`` (a
fixed regex, another file) re-reads the runs already recorded instead of training them
again: :func:`reread` returns the record with the series the current reader finds.

In smoke mode, :func:`budget_overrun` tells when a command ran past the smoke budget
(it logged a step beyond ``{max_steps}``): such a smoke run proves nothing about speed
and would have been a full run, so it is reported, not passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_repro.errors import ReproError
from pytest_repro.execution import metrics
from pytest_repro.execution.context import METRICS_FILE
from pytest_repro.execution.plan import RunRequest, metrics_path
from pytest_repro.execution.readers import MetricReader, MetricsInput
from pytest_repro.execution.worker import OUTPUT_FILE
from pytest_repro.records import RunRecord
from pytest_repro.report.escape import terminal_line
from pytest_repro.spec.schema import PaperSpec, placeholder_names

#: The prefix of a run's error when the run itself succeeded but its metrics were unreadable.
UNREAD = "its metrics could not be read"


def reader_json(spec: PaperSpec) -> Any:
    """The reader a paper names, as recorded in each run's evidence (``None``: ``ctx.log``)."""
    source = spec.run.metrics
    if source is None:
        return None
    reader: dict[str, Any] = {
        "format": source.format,
        "path": source.path,
        "pattern": source.pattern,
    }
    if source.patterns:
        reader["patterns"] = list(source.patterns)
    if source.target:
        reader["target"] = source.target
    if source.options:
        reader["options"] = dict(source.options)
    return reader


def read_series(
    readers: Mapping[str, MetricReader], request: RunRequest, run_dir: Path
) -> list[dict[str, Any]]:
    """The run's points as the paper's reader finds them in ``run_dir``."""
    source = request.spec.run.metrics
    if source is None:
        return metrics.read_jsonl(run_dir / METRICS_FILE)
    reader = readers.get(source.format)
    if reader is None:
        raise ReproError(
            f"{source.loc}: run.metrics: no metric reader for {source.format!r} is installed; "
            f"the readers here are {', '.join(sorted(readers))}"
        )
    where = MetricsInput(
        path=metrics_path(request, run_dir),
        pattern=source.pattern,
        output=run_dir / OUTPUT_FILE,
        run_dir=run_dir,
        paper_dir=request.spec.folder,
        patterns=source.patterns,
        target=source.target,
        options=source.options,
    )
    return reader.read(where)


def reading_evidence(request: RunRequest, run_dir: Path) -> dict[str, Any]:
    """What a run's evidence says about how its metrics were read: the reader, the file."""
    path = metrics_path(request, run_dir)
    return {"reader": reader_json(request.spec), "metrics_file": str(path) if path else None}


def _lines(path: Path, count: int) -> tuple[list[str], list[str], int]:
    """The first and last ``count`` lines of a text file, and how many lines it has."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return [], [], 0
    lines = [terminal_line(line[:300]) for line in text.splitlines()]
    if len(lines) <= 2 * count:
        return lines, [], len(lines)
    return lines[:count], lines[-count:], len(lines)


def no_points(record: RunRecord, *, lines: int = 5) -> str:
    """Why a finished run has no points, with the evidence: the reader and what it read.

    ``regex 'loss=(?P<loss>...)' matched no line of the output /runs/x/repro-output.log
    (12 lines), which begins: ... and ends: ...``
    """
    reader = record.evidence.get("reader")
    run_dir = Path(record.run_dir) if record.run_dir else None
    output = run_dir / OUTPUT_FILE if run_dir else None
    if not isinstance(reader, Mapping):
        what = "the run logged no metrics at all; call ctx.log(step=..., <metric>=...) in the entrypoint"
        target = None
    elif reader.get("pattern") is not None or reader.get("patterns"):
        patterns = [reader["pattern"]] if reader.get("pattern") else list(reader["patterns"])
        shown = "', '".join(terminal_line(p) for p in patterns)
        what = f"the {reader.get('format')} reader '{shown}' matched no line of the output"
        target = output
    elif reader.get("target"):
        what = f"the python reader {terminal_line(reader['target'])} returned no points"
        target = output
    else:
        file = record.evidence.get("metrics_file") or reader.get("path")
        target = Path(str(file)) if file else None
        if target is not None and not target.exists():
            what = (
                f"the command wrote no {reader.get('format')} file at {target}: write it "
                "there, or point run.metrics at the file the script writes"
            )
            target = output
        else:
            what = f"the {reader.get('format')} reader found no points in {target}"
    if target is None:
        return what
    head, tail, count = _lines(target, lines)
    if count == 0:
        return f"{what}; {target} is empty"
    shown = f"{what}; {target} ({count} lines) " + ("reads:" if not tail else "begins:")
    shown += "".join(f"\n    | {line}" for line in head)
    if tail:
        shown += "\n    ... and ends:" + "".join(f"\n    | {line}" for line in tail)
    if output is not None and target != output:
        shown += f"\nthe run's output is in {output}"
    return shown


def reread(
    readers: Mapping[str, MetricReader], request: RunRequest, record: RunRecord
) -> RunRecord | None:
    """``record`` as the paper's current reader reads it.

    The record itself when it was read with this reader; a new record (same run, new
    series, the change noted in its evidence) when the reader changed; None when the run
    folder is gone and the run must execute again.
    """
    reader = reader_json(request.spec)
    unread = record.status == "failed" and (record.error or "").startswith(UNREAD)
    if record.evidence.get("reader") == reader and not unread:
        return record
    if not record.run_dir or not Path(record.run_dir).is_dir():
        return None
    run_dir = Path(record.run_dir)
    status, error = "ok", None
    series: list[dict[str, Any]] = []
    try:
        series = read_series(readers, request, run_dir)
    except Exception as exc:
        status, error = "failed", f"{UNREAD}: {type(exc).__name__}: {exc}"
    if status == "ok":
        error = budget_overrun(request, series)
        status = "failed" if error else "ok"
    evidence = {
        **record.evidence,
        **reading_evidence(request, run_dir),
        "reread": {"previous_reader": record.evidence.get("reader")},
    }
    return replace(
        record,
        series=tuple(series),
        status=status,  # type: ignore[arg-type]
        error=error,
        evidence=evidence,
    )


def budget_overrun(request: RunRequest, series: list[dict[str, Any]]) -> str | None:
    """Why a smoke run of a command ran past its budget, or None when it kept to it."""
    if not request.smoke or request.max_steps is None or not request.spec.run.command:
        return None
    budget = request.max_steps
    steps = [p["step"] for p in series if isinstance(p.get("step"), int)]
    epochs = [p["epoch"] for p in series if isinstance(p.get("epoch"), int)]
    run = request.spec.run
    names = set().union(*map(placeholder_names, [*(run.command or ()), *run.env.values()]))
    given = [n for n in ("max_steps", "max_epochs") if n in names]
    past = ""
    if "max_epochs" in given and "max_steps" not in given:
        if epochs and max(epochs) > 1:
            past = f"epoch {max(epochs)}, past the smoke budget of 1 epoch"
    elif steps and max(steps) > budget:
        past = f"step {max(steps)}, past the smoke budget of {budget} step{'s' * (budget != 1)}"
    elif not given and epochs and max(epochs) > 1:
        past = f"epoch {max(epochs)}, past the smoke budget of 1 epoch"
    if not past:
        return None
    if given:
        why = (
            f"the command receives {{{given[0]}}} but did not stop there; check that the "
            "script honours the flag it is given"
        )
    else:
        why = (
            "the command never receives the budget: pass it, e.g. "
            '[python, train.py, --max-steps, "{max_steps}"], or read REPRO_MAX_STEPS in the script'
        )
    return f"the smoke run ignored its budget: it logged {past}; {why}"


__all__ = [
    "UNREAD",
    "budget_overrun",
    "no_points",
    "read_series",
    "reader_json",
    "reading_evidence",
    "reread",
]
