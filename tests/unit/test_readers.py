"""The built-in metric readers, each fed the files a real run leaves behind."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

from pytest_repro.execution.readers import BUILTIN_READERS
from pytest_repro.execution.readers_base import MetricsInput, MetricsReadError
from pytest_repro.execution.readers_json import JsonReader
from pytest_repro.execution.readers_python import PythonReader
from pytest_repro.execution.readers_regex import RegexReader
from pytest_repro.execution.readers_tensorboard import TensorBoardReader
from pytest_repro.execution.readers_wandb import WandbReader, records
from pytest_repro.vocab import METRICS_FORMATS


def where(tmp_path: Path, **kw: Any) -> MetricsInput:
    base: dict[str, Any] = {
        "path": None,
        "pattern": None,
        "output": tmp_path / "repro-output.log",
        "run_dir": tmp_path,
        "paper_dir": tmp_path,
    }
    return MetricsInput(**{**base, **kw})


def test_every_built_in_format_has_its_reader_and_no_reader_is_unlisted() -> None:
    assert set(BUILTIN_READERS) == set(METRICS_FORMATS)
    assert all(reader.format == name for name, reader in BUILTIN_READERS.items())


def test_importing_the_readers_imports_neither_tensorboard_nor_wandb() -> None:
    code = (
        "import sys, pytest_repro.execution.readers\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorboard', 'wandb', 'torch', 'numpy', 'google')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- regex ---------------------------------------------------------------------------------

LOG = """\
epoch 1 train loss 0.90
epoch 1 eval acc 0.50
noise line
epoch 2 train loss 0.40
epoch 2 eval acc 0.80
"""
TRAIN = r"epoch (?P<epoch>\d+) train loss (?P<loss>[0-9.]+)"
EVAL = r"epoch (?P<epoch>\d+) eval acc (?P<acc>[0-9.]+)"


def test_one_line_pattern_reads_one_point_per_matching_line_as_before(tmp_path: Path) -> None:
    (tmp_path / "repro-output.log").write_text(LOG)
    points = RegexReader().read(where(tmp_path, pattern=TRAIN))
    assert points == [{"epoch": 1, "loss": 0.9}, {"epoch": 2, "loss": 0.4}]


def test_several_patterns_merge_the_points_they_find_at_one_epoch(tmp_path: Path) -> None:
    (tmp_path / "repro-output.log").write_text(LOG)
    points = RegexReader().read(where(tmp_path, patterns=(EVAL, TRAIN)))
    assert points == [{"epoch": 1, "loss": 0.9, "acc": 0.5}, {"epoch": 2, "loss": 0.4, "acc": 0.8}]


def test_points_of_different_axes_are_not_merged_and_a_later_value_wins(tmp_path: Path) -> None:
    (tmp_path / "repro-output.log").write_text(
        "step 10 loss 0.5\nepoch 1 acc 0.7\nstep 10 loss 0.4\n"
    )
    points = RegexReader().read(
        where(
            tmp_path,
            patterns=(
                r"step (?P<step>\d+) loss (?P<loss>[0-9.]+)",
                r"epoch (?P<epoch>\d) acc (?P<acc>[0-9.]+)",
            ),
        )
    )
    assert points == [{"step": 10, "loss": 0.4}, {"epoch": 1, "acc": 0.7}]


def test_a_pattern_with_a_newline_reads_a_block_that_spans_lines(tmp_path: Path) -> None:
    (tmp_path / "repro-output.log").write_text(
        "Epoch 1/2\n  val_loss: 0.7\n  val_acc: 0.61\nEpoch 2/2\n  val_loss: 0.5\n  val_acc: 0.83\n"
    )
    block = r"Epoch (?P<epoch>\d+)/\d+\n\s+val_loss: (?P<val_loss>[0-9.]+)\n\s+val_acc: (?P<val_acc>[0-9.]+)"
    points = RegexReader().read(where(tmp_path, pattern=block))
    assert points == [
        {"epoch": 1, "val_loss": 0.7, "val_acc": 0.61},
        {"epoch": 2, "val_loss": 0.5, "val_acc": 0.83},
    ]


def test_a_dotall_pattern_in_a_list_is_read_over_the_whole_output(tmp_path: Path) -> None:
    (tmp_path / "repro-output.log").write_text(
        "== step 100 ==\nmany lines\nfinal acc=0.9\nstep 100 loss 0.2\n"
    )
    points = RegexReader().read(
        where(
            tmp_path,
            patterns=(
                r"(?s)== step (?P<step>\d+) ==.*?acc=(?P<acc>[0-9.]+)",
                r"^step (?P<step>\d+) loss (?P<loss>[0-9.]+)",
            ),
        )
    )
    assert points == [{"step": 100, "acc": 0.9, "loss": 0.2}]


def test_a_regex_reader_with_no_output_finds_no_points(tmp_path: Path) -> None:
    assert RegexReader().read(where(tmp_path, patterns=(TRAIN, EVAL))) == []


# -- json ----------------------------------------------------------------------------------


def test_a_json_object_with_an_axis_is_one_point(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"epoch": 10.0, "test_acc": 0.9}))
    assert JsonReader().read(where(tmp_path, path=path)) == [{"epoch": 10, "test_acc": 0.9}]


def test_a_json_object_without_an_axis_is_the_final_point(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"test_acc": 0.9, "test_loss": "0.25"}))
    assert JsonReader().read(where(tmp_path, path=path)) == [
        {"final": True, "test_acc": 0.9, "test_loss": 0.25}
    ]


def test_a_json_list_is_one_point_per_object(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps([{"step": 1, "loss": 2.0}, {"step": 2, "loss": 1.0}]))
    assert JsonReader().read(where(tmp_path, path=path)) == [
        {"step": 1, "loss": 2.0},
        {"step": 2, "loss": 1.0},
    ]
    path.write_text("[]")
    assert JsonReader().read(where(tmp_path, path=path)) == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist: the run wrote no JSON file there"),
        ('{"test_acc": 0.9', ":1: not JSON"),
        ("[1, 2]", "item 0 of the list is int, not an object"),
        ('"done"', "holds str, not an object or a list of objects"),
    ],
)
def test_a_json_file_that_is_missing_or_malformed_is_an_error_naming_it(
    tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(MetricsReadError, match=str(path)) as info:
        JsonReader().read(where(tmp_path, path=path))
    assert says in str(info.value)
    assert info.value.path == path


# -- python --------------------------------------------------------------------------------


def test_a_python_reader_is_imported_from_the_paper_folder_and_called_with_the_input(
    tmp_path: Path,
) -> None:
    (tmp_path / "logs.txt").write_text("0.9 0.5 0.25\n")
    (tmp_path / "read_logs.py").write_text(
        textwrap.dedent(
            """\
            from dataclasses import dataclass

            @dataclass
            class Row:  # a dataclass needs its module in sys.modules
                value: float

            def points(where):
                rows = [Row(float(v)) for v in (where.run_dir / "logs.txt").read_text().split()]
                return [{"step": i, "loss": r.value} for i, r in enumerate(rows)]
            """
        )
    )
    assert "read_logs" not in sys.modules
    points = PythonReader().read(where(tmp_path, target="read_logs:points"))
    assert points == [{"step": 0, "loss": 0.9}, {"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}]
    assert "read_logs" not in sys.modules  # imported from its file, not as a top-level module


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("return {'step': 1}", "read_logs:points returned dict, not a list of points"),
        ("return None", "read_logs:points returned NoneType, not a list of points"),
        ("return [{'step': 1}, 3]", "read_logs:points returned int 3 as item 1, not a point"),
    ],
)
def test_a_python_reader_returning_anything_but_points_is_an_error_naming_it(
    tmp_path: Path, body: str, says: str
) -> None:
    (tmp_path / "read_logs.py").write_text(f"def points(where):\n    {body}\n")
    with pytest.raises(MetricsReadError) as info:
        PythonReader().read(where(tmp_path, target="read_logs:points"))
    assert says in str(info.value)


# -- tensorboard ---------------------------------------------------------------------------


def write_events(folder: Path, scalars: list[tuple[int, str, float]]) -> None:
    """An event file as TensorBoard's writers write it (simple_value summaries)."""
    pytest.importorskip("tensorboard")
    from tensorboard.compat.proto import event_pb2, summary_pb2
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(str(folder))
    for step, tag, value in scalars:
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)]
        )
        writer.add_event(event_pb2.Event(step=step, wall_time=time.time(), summary=summary))
    writer.close()


def test_tensorboard_reads_every_scalar_point_where_tensorboard_itself_keeps_a_sample(
    tmp_path: Path,
) -> None:
    tb = tmp_path / "tb"
    scalars = [(s, "val/acc", s / 20000) for s in range(10_200)]
    scalars += [(s, "train/loss", 1.0 / (s + 1)) for s in range(0, 10_200, 100)]
    write_events(tb, scalars)
    points = TensorBoardReader().read(where(tmp_path, path=tb))
    assert len(points) == 10_200
    assert [p["step"] for p in points] == list(range(10_200))
    assert points[10_123]["val/acc"] == pytest.approx(10_123 / 20000, rel=1e-6)
    assert points[200] == {
        "step": 200,
        "val/acc": pytest.approx(0.01),
        "train/loss": pytest.approx(1 / 201),
    }
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    sampled = EventAccumulator(str(tb))  # TensorBoard's default: a reservoir of 10,000
    sampled.Reload()
    assert len(sampled.Scalars("val/acc")) < 10_200


def test_tensorboard_tags_option_and_subfolders(tmp_path: Path) -> None:
    tb = tmp_path / "tb"
    write_events(tb, [(1, "val/acc", 0.5), (1, "loss", 2.0)])
    write_events(tb / "loss_train", [(1, "loss", 1.5)])  # what add_scalars writes
    points = TensorBoardReader().read(where(tmp_path, path=tb))
    assert points == [{"step": 1, "val/acc": 0.5, "loss": 2.0, "loss_train/loss": 1.5}]
    only = TensorBoardReader().read(where(tmp_path, path=tb, options={"tags": ["val/acc"]}))
    assert only == [{"step": 1, "val/acc": 0.5}]


def test_tensorboard_with_no_folder_is_an_error_and_an_empty_folder_no_points(
    tmp_path: Path,
) -> None:
    with pytest.raises(
        MetricsReadError, match="does not exist: the run wrote no TensorBoard events there"
    ):
        TensorBoardReader().read(where(tmp_path, path=tmp_path / "tb"))
    (tmp_path / "tb").mkdir()
    assert TensorBoardReader().read(where(tmp_path, path=tmp_path / "tb")) == []


# -- wandb ---------------------------------------------------------------------------------

BLOCK = 32 * 1024


def wandb_log(payloads: list[bytes]) -> bytes:
    """A wandb transaction log, written the way wandb's LevelDB-style writer writes it."""
    out = bytearray(b":W&B" + struct.pack("<HB", 0xBEE1, 0))

    def chunk(kind: int, data: bytes) -> None:
        crc = zlib.crc32(data, zlib.crc32(bytes([kind]))) & 0xFFFFFFFF
        out.extend(struct.pack("<IHB", crc, len(data), kind) + data)

    for data in payloads:
        first = True
        while True:
            left = BLOCK - len(out) % BLOCK
            if left < 7:
                out.extend(b"\0" * left)
                continue
            room = left - 7
            if len(data) <= room:
                chunk(1 if first else 4, data)
                break
            chunk(2 if first else 3, data[:room])
            data, first = data[room:], False
    return bytes(out)


def history(step: int, **values: Any) -> bytes:
    pb = pytest.importorskip("wandb.proto.wandb_internal_pb2")
    record = pb.Record()
    record.history.step.num = step
    for key, value in {"_step": step, "_runtime": 0.1, **values}.items():
        item = record.history.item.add()
        item.nested_key.extend(key.split("."))
        item.value_json = json.dumps(value)
    return bytes(record.SerializeToString())


def exit_record() -> bytes:
    pb = pytest.importorskip("wandb.proto.wandb_internal_pb2")
    record = pb.Record()
    record.exit.exit_code = 0
    return bytes(record.SerializeToString())


def run_folder(tmp_path: Path, data: bytes, name: str = "offline-run-20260101_000000-abc") -> Path:
    folder = tmp_path / "wandb" / name
    folder.mkdir(parents=True)
    (folder / f"run-{name[-3:]}.wandb").write_bytes(data)
    return tmp_path / "wandb"


def test_wandb_history_records_become_points_across_block_boundaries(tmp_path: Path) -> None:
    big = "x" * 70_000  # a record spanning three blocks: first, middle, last parts
    payloads = [history(s, val_acc=s / 100, note="text") for s in range(400)]
    payloads.insert(200, history(1000, val_acc=0.5, table={"_type": "table"}, caption=big))
    data = wandb_log([*payloads, exit_record()])
    assert len(data) > 3 * BLOCK
    points = WandbReader().read(where(tmp_path, path=run_folder(tmp_path, data)))
    assert len(points) == 401
    assert points[0] == {"step": 0, "val_acc": 0.0}  # text, media, _runtime left out
    assert points[200] == {"step": 1000, "val_acc": 0.5}
    assert points[-1] == {"step": 399, "val_acc": 3.99}


def test_wandb_nested_keys_are_joined_with_a_dot(tmp_path: Path) -> None:
    data = wandb_log([history(3, **{"val.acc": 0.7, "val/loss": 0.2, "epoch": 1.0}), exit_record()])
    points = WandbReader().read(where(tmp_path, path=run_folder(tmp_path, data)))
    assert points == [{"step": 3, "val.acc": 0.7, "val/loss": 0.2, "epoch": 1}]


def test_a_damaged_wandb_record_is_an_error(tmp_path: Path) -> None:
    data = bytearray(wandb_log([history(1, acc=0.5), exit_record()]))
    data[20] ^= 0xFF
    with pytest.raises(MetricsReadError, match="fails its checksum"):
        list(records(bytes(data), tmp_path / "run.wandb"))
    folder = run_folder(tmp_path, bytes(data))
    with pytest.raises(MetricsReadError, match="fails its checksum"):  # once the file settles
        WandbReader(wait=5, settle=0.3).read(where(tmp_path, path=folder))
    with pytest.raises(MetricsReadError, match="is not a wandb run file"):
        list(records(b"PK\x03\x04" + bytes(20), tmp_path / "run.wandb"))


def test_the_wandb_reader_waits_for_the_exit_record_of_a_run_still_being_flushed(
    tmp_path: Path,
) -> None:
    head = wandb_log([history(s, acc=s / 10) for s in range(3)])
    folder = run_folder(tmp_path, head)
    (file,) = folder.glob("*/run-*.wandb")
    done = wandb_log([*(history(s, acc=s / 10) for s in range(5)), exit_record()])

    def finish() -> None:
        time.sleep(0.6)
        file.write_bytes(done)

    thread = threading.Thread(target=finish)
    thread.start()
    points = WandbReader(wait=10, settle=5).read(where(tmp_path, path=folder))
    thread.join()
    assert [p["step"] for p in points] == [0, 1, 2, 3, 4]


def test_a_wandb_run_that_never_exits_is_read_once_its_file_settles(tmp_path: Path) -> None:
    folder = run_folder(tmp_path, wandb_log([history(1, acc=0.5)]))
    started = time.monotonic()
    points = WandbReader(wait=10, settle=0.5).read(where(tmp_path, path=folder))
    assert points == [{"step": 1, "acc": 0.5}]
    assert time.monotonic() - started < 5


def test_a_wandb_folder_with_no_run_or_several_runs_is_refused_clearly(tmp_path: Path) -> None:
    (tmp_path / "wandb").mkdir()
    with pytest.raises(MetricsReadError, match="holds no wandb run"):
        WandbReader().read(where(tmp_path, path=tmp_path / "wandb"))
    data = wandb_log([history(1, acc=0.5), exit_record()])
    run_folder(tmp_path, data, "offline-run-20260101_000000-aaa")
    run_folder(tmp_path, data, "offline-run-20260101_000100-bbb")
    with pytest.raises(MetricsReadError, match=r"holds 2 wandb runs .*latest-run"):
        WandbReader().read(where(tmp_path, path=tmp_path / "wandb"))
    one = tmp_path / "wandb" / "offline-run-20260101_000100-bbb"
    assert WandbReader().read(where(tmp_path, path=one)) == [{"step": 1, "acc": 0.5}]


def test_the_wandb_reader_reads_what_wandb_itself_writes_offline(tmp_path: Path) -> None:
    pytest.importorskip("wandb")
    script = textwrap.dedent(
        """\
        import wandb
        run = wandb.init(project="unit", mode="offline", config={"lr": 0.1})
        for step in range(1200):
            wandb.log({"val/acc": step / 1200, "train": {"loss": 1 / (step + 1)}}, step=step)
        wandb.log({"caption": "x" * 50000}, step=1200)  # a record longer than a block
        wandb.finish()
        """
    )
    env = {
        **os.environ,
        "WANDB_MODE": "offline",
        "WANDB_DIR": str(tmp_path),
        "WANDB_SILENT": "true",
    }
    subprocess.run([sys.executable, "-c", script], env=env, cwd=tmp_path, check=True, timeout=120)
    points = WandbReader().read(where(tmp_path, path=tmp_path / "wandb"))
    assert len(points) == 1200
    assert points[1000] == {
        "step": 1000,
        "val/acc": pytest.approx(1000 / 1200),
        "train.loss": pytest.approx(1 / 1001),
    }
