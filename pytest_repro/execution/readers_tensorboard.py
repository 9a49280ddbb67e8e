"""``metrics: {tensorboard: "{run_dir}/tb"}``: the scalars of TensorBoard event files.

Every scalar point is read (TensorBoard's own ``EventAccumulator`` keeps a random sample
of 10,000 per tag; this reader keeps them all), from every ``events.out.tfevents.*`` file
in the folder and the folders below it, in file-name order (a resumed run's later file
last). Points are merged per step: ``{"step": 300, "train/loss": 0.4, "val/acc": 0.91}``.
Tags are kept as written, ``/`` included. When the event files lie in more than one
folder (``SummaryWriter.add_scalars`` writes one per series), the tags of files in a
subfolder are prefixed with the subfolder: ``loss_train/loss``.

``metrics: {tensorboard: {path: "{run_dir}/tb", tags: [val/acc]}}`` reads only the
tags listed. TensorBoard is imported only when a run is read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pytest_repro.execution.readers_base import (
    MetricsInput,
    MetricsReadError,
    Point,
    merge_by_axes,
    required_path,
)

#: The names TensorBoard gives its event files.
EVENTS_GLOB = "events.out.tfevents.*"


def event_files(path: Path) -> list[Path]:
    """The event files at ``path`` (a file, or a folder searched recursively), in read order."""
    if path.is_file():
        return [path]
    return sorted(path.rglob(EVENTS_GLOB), key=lambda p: (p.parent.as_posix(), p.name))


def _scalars(file: Path) -> list[tuple[int, str, float]]:
    """``(step, tag, value)`` of each scalar in one event file, in written order."""
    try:
        # tensorboard ships no type information
        from tensorboard.backend.event_processing.event_file_loader import (  # type: ignore[import-untyped]
            EventFileLoader,
        )
        from tensorboard.util import tensor_util  # type: ignore[import-untyped]
    except ImportError as exc:
        raise MetricsReadError(
            f"reading {file} needs the tensorboard package, which is not installed: {exc}; "
            "pip install tensorboard",
            path=file,
        ) from exc
    out: list[tuple[int, str, float]] = []
    scalar_tags: set[str] = set()
    try:
        for event in EventFileLoader(str(file)).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == "scalars":
                    scalar_tags.add(value.tag)
                if value.tag not in scalar_tags or not value.HasField("tensor"):
                    continue
                array: Any = tensor_util.make_ndarray(value.tensor)
                if array.size != 1:
                    continue
                out.append((int(event.step), value.tag, float(array.item())))
    except Exception as exc:  # the stub's DataLossError, a protobuf DecodeError, OSError
        raise MetricsReadError(f"{file} is not a readable event file: {exc}", path=file) from exc
    return out


class TensorBoardReader:
    """Reads every scalar point of a run's TensorBoard event files, merged per step."""

    format = "tensorboard"

    def read(self, where: MetricsInput) -> list[Point]:
        path = required_path(
            where,
            "TensorBoard events",
            'point run.metrics at the SummaryWriter\'s log_dir: tensorboard: "{run_dir}/runs"',
        )
        files = event_files(path)
        if not files:
            return []
        wanted = where.options.get("tags")
        folders = {f.parent for f in files}
        root = path if path.is_dir() else path.parent
        points: list[Point] = []
        for file in files:
            prefix = ""
            if len(folders) > 1 and file.parent != root:
                prefix = file.parent.relative_to(root).as_posix() + "/"
            for step, tag, value in _scalars(file):
                name = prefix + tag
                if wanted is None or name in wanted or tag in wanted:
                    points.append({"step": step, name: value})
        return merge_by_axes(points)


__all__ = ["EVENTS_GLOB", "TensorBoardReader", "event_files"]
