"""``metrics: {wandb: "{run_dir}/wandb"}``: the history of a wandb run logged offline.

With ``WANDB_MODE=offline`` wandb writes each run to ``<WANDB_DIR>/wandb/offline-run-*/``;
its ``run-<id>.wandb`` file is the run's whole record: a log of 32 KiB blocks, each record
a 7-byte header (CRC-32 of type and data, length, type: full, first, middle or last part)
and a protobuf ``Record`` (wandb's own ``wandb_internal_pb2``). Each history record is one
``wandb.log`` call: ``{"step": _step, <key>: value}`` for its numeric values (nested keys
joined with ``.``, as wandb shows them; ``_runtime``, ``_timestamp``, text and media left out).

wandb's service writes the file in the background and may still flush it after the
script returned, so the reader waits, up to :data:`WAIT_SECONDS`, for the run's exit
record. The folder must hold one run; with several, name one
(``wandb: "{run_dir}/wandb/latest-run"``). wandb's classes are imported only to read.
"""

from __future__ import annotations

import json
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pytest_repro.execution.readers_base import (
    MetricsInput,
    MetricsReadError,
    Point,
    as_point,
    required_path,
)

#: How long to wait for the exit record of a run wandb's service is still writing.
WAIT_SECONDS = 30.0
#: How long an unchanged file without an exit record is taken as final (a crashed script).
SETTLE_SECONDS = 3.0

_BLOCK = 32 * 1024
_HEADER = struct.Struct("<IHB")  # crc32, length, type
_FILE_HEADER = struct.Struct("<4sHB")  # b":W&B", magic, version
_IDENT, _MAGIC = b":W&B", 0xBEE1
_FULL, _FIRST, _MIDDLE, _LAST = 1, 2, 3, 4


def run_files(path: Path) -> list[Path]:
    """The ``run-*.wandb`` files at ``path``: the file, a run's folder, or a wandb folder."""
    if path.is_file():
        return [path]
    own = sorted(path.glob("run-*.wandb"))
    if own:
        return own
    return sorted(path.glob("*run-*/run-*.wandb"))


def records(data: bytes, source: Path) -> Iterator[bytes]:
    """The payload of each complete record in ``data``, a wandb transaction log.

    A torn record at the end (the file still being written) ends the log; a checksum
    that does not match is an error.
    """
    if len(data) < _FILE_HEADER.size:
        return
    ident, magic, _version = _FILE_HEADER.unpack_from(data)
    if ident != _IDENT or magic != _MAGIC:
        raise MetricsReadError(
            f"{source} is not a wandb run file (it starts {data[:7]!r})", path=source
        )
    pos, parts = _FILE_HEADER.size, b""
    while True:
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER.size:  # a block's tail too short for a header is padding
            pos += left
            continue
        if pos + _HEADER.size > len(data):
            return
        crc, length, kind = _HEADER.unpack_from(data, pos)
        start = pos + _HEADER.size
        payload = data[start : start + length]
        if kind == 0 and length == 0:  # zero padding at the end of a block
            pos += left
            continue
        if len(payload) < length:
            return  # torn: the writer has not finished this record
        if zlib.crc32(payload, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF != crc:
            raise MetricsReadError(
                f"{source}: the record at byte {pos} fails its checksum: the file is damaged",
                path=source,
            )
        pos = start + length
        if kind == _FULL:
            yield payload
        elif kind == _FIRST:
            parts = payload
        elif kind == _MIDDLE:
            parts += payload
        elif kind == _LAST:
            yield parts + payload
            parts = b""
        else:
            raise MetricsReadError(
                f"{source}: unknown record type {kind} at byte {pos}", path=source
            )


def _number(text: str) -> float | int | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def history(file: Path, data: bytes) -> tuple[list[Point], bool]:
    """The points of ``data`` (the content of ``file``), and whether it holds the exit record."""
    try:
        from wandb.proto import wandb_internal_pb2
    except ImportError as exc:
        raise MetricsReadError(
            f"reading {file} needs the wandb package, which is not installed: {exc}; pip install wandb",
            path=file,
        ) from exc
    points: list[Point] = []
    finished = False
    for payload in records(data, file):
        record = wandb_internal_pb2.Record()  # type: ignore[attr-defined]  # generated
        try:
            record.ParseFromString(payload)
        except Exception as exc:  # protobuf's DecodeError
            raise MetricsReadError(f"{file}: a record does not decode: {exc}", path=file) from exc
        kind = record.WhichOneof("record_type")
        if kind == "exit":
            finished = True
        if kind != "history":
            continue
        point: dict[str, Any] = {}
        for item in record.history.item:
            key = item.key or ".".join(item.nested_key)
            value = _number(item.value_json)
            if value is None:
                continue
            if key == "_step":
                point["step"] = int(value)
            elif not key.startswith("_"):
                point[key] = value
        if "step" not in point and record.history.HasField("step"):
            point["step"] = int(record.history.step.num)
        if "step" in point:
            point = {"step": point.pop("step"), **point}
        if any(key != "step" for key in point):  # a log of text or media alone is no point
            points.append(as_point(point))
    return points, finished


class WandbReader:
    """Reads the history of the one wandb run (offline or not) in a folder."""

    format = "wandb"

    def __init__(self, *, wait: float = WAIT_SECONDS, settle: float = SETTLE_SECONDS) -> None:
        self.wait = wait
        self.settle = settle

    def read(self, where: MetricsInput) -> list[Point]:
        path = required_path(
            where,
            "wandb folder",
            'set WANDB_DIR: "{run_dir}" in run.env and read wandb: "{run_dir}/wandb"',
        )
        files = run_files(path)
        if not files:
            raise MetricsReadError(
                f"{path} holds no wandb run (no offline-run-*/run-*.wandb): did the script call "
                "wandb.init with WANDB_MODE=offline and WANDB_DIR set to the run's folder?",
                path=path,
            )
        if len(files) > 1:
            names = ", ".join(f.parent.name for f in files)
            raise MetricsReadError(
                f"{path} holds {len(files)} wandb runs ({names}); name the one to read, e.g. "
                f'wandb: "{{run_dir}}/wandb/latest-run" for the newest',
                path=path,
            )
        return self._read_finished(files[0])

    def _read_finished(self, file: Path) -> list[Point]:
        """The run's points once its exit record is written (or the file stopped changing)."""
        deadline = time.monotonic() + self.wait
        last_size, last_change = -1, time.monotonic()
        while True:
            data = file.read_bytes()
            now = time.monotonic()
            if len(data) != last_size:
                last_size, last_change = len(data), now
            settled = now >= deadline or now - last_change >= self.settle
            try:
                points, finished = history(file, data)
            except MetricsReadError:
                if settled:  # damaged for good, not a record caught half-written
                    raise
                finished, points = False, []
            if finished or settled:
                return points
            time.sleep(0.2)


__all__ = ["SETTLE_SECONDS", "WAIT_SECONDS", "WandbReader", "history", "records", "run_files"]
