"""The ledger path holds a run ledger or nothing: anything else is refused and left as it was."""

from __future__ import annotations

import io
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_repro.cli import main
from pytest_repro.errors import LedgerError, ReproWarning
from pytest_repro.ledger import NotALedger, SQLiteLedger, check_ledger_path

from .test_ledger import (
    asides,
    make_record,
    write_foreign,
    write_garbage,
    write_other_application,
)

PRECIOUS = b"import os\n\nSECRET = 'do not move me'\n"


def untouched(folder: Path) -> list[str]:
    """The names in ``folder``: nothing moved aside, no lock or journal made next to the path."""
    return sorted(p.name for p in folder.iterdir())


def test_a_python_file_given_as_the_ledger_is_refused_and_left_byte_for_byte(
    tmp_path: Path,
) -> None:
    precious = tmp_path / "precious.py"
    precious.write_bytes(PRECIOUS)
    with pytest.raises(NotALedger) as raised:
        SQLiteLedger(precious)
    assert precious.read_bytes() == PRECIOUS
    assert untouched(tmp_path) == ["precious.py"]
    message = str(raised.value)
    assert str(precious) in message
    assert "a file that is not an SQLite database" in message
    assert "--repro-ledger=PATH" in message
    assert "PYTEST_REPRO_LEDGER" in message
    assert raised.value.path == precious
    assert isinstance(raised.value, LedgerError)


def test_a_fifo_given_as_the_ledger_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotALedger, match="is a FIFO"):
        SQLiteLedger(fifo)
    assert untouched(tmp_path) == ["pipe"]
    assert fifo.is_fifo()


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_a_device_is_refused_without_opening_it() -> None:
    with pytest.raises(NotALedger, match="/dev/null is a character device"):
        check_ledger_path(Path("/dev/null"))


def test_a_directory_given_as_the_ledger_is_refused_without_blaming_permissions(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "somewhere"
    folder.mkdir()
    (folder / "keep.txt").write_text("x")
    with pytest.raises(NotALedger) as raised:
        SQLiteLedger(folder)
    assert "is a directory" in str(raised.value)
    assert "permissions" not in str(raised.value)
    assert untouched(folder) == ["keep.txt"]
    assert untouched(tmp_path) == ["somewhere"]


@pytest.mark.parametrize(
    ("write", "found"),
    [
        (write_foreign, "another program (its tables: photos)"),
        (write_other_application, "another program (application id 0x2a)"),
        (write_garbage, "not an SQLite database"),
    ],
)
def test_another_programs_file_is_refused_and_untouched(
    tmp_path: Path, write: Callable[[Path], None], found: str
) -> None:
    path = tmp_path / "app.db"
    write(path)
    before = path.read_bytes()
    with pytest.raises(NotALedger, match=found.replace("(", r"\(").replace(")", r"\)")):
        SQLiteLedger(path)
    assert path.read_bytes() == before
    assert asides(path) == []


def test_a_foreign_database_at_our_schema_version_is_not_taken_for_a_damaged_ledger(
    tmp_path: Path,
) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 1")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NotALedger, match="not a ledger"):
        SQLiteLedger(path)
    assert path.read_bytes() == before
    assert asides(path) == []


def test_a_damaged_database_without_our_mark_is_refused_not_moved(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    write_foreign(path)
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)  # page 1's b-tree and beyond
    path.write_bytes(bytes(data))
    with pytest.raises(NotALedger, match="damaged SQLite database without the ledger's mark"):
        SQLiteLedger(path)
    assert path.read_bytes() == bytes(data)
    assert asides(path) == []


def test_our_ledger_with_its_header_but_damaged_pages_is_still_moved_aside(
    tmp_path: Path,
) -> None:
    path = tmp_path / "ledger.sqlite"
    with SQLiteLedger(path) as ledger:
        ledger.put(make_record(run_id="before"))
    data = bytearray(path.read_bytes())
    data[100:] = b"\xff" * (len(data) - 100)
    path.write_bytes(bytes(data))
    with pytest.warns(ReproWarning, match="moved it aside"):
        ledger = SQLiteLedger(path)
    with ledger:
        assert list(ledger.records()) == []
    (aside,) = asides(path)
    assert aside.read_bytes() == bytes(data)


def test_an_empty_file_or_no_file_may_become_a_ledger(tmp_path: Path) -> None:
    check_ledger_path(tmp_path / "absent.sqlite")
    (tmp_path / "empty.sqlite").write_bytes(b"")
    check_ledger_path(tmp_path / "empty.sqlite")
    with SQLiteLedger(tmp_path / "absent.sqlite") as ledger:
        ledger.put(make_record())
    check_ledger_path(tmp_path / "absent.sqlite")  # our own ledger passes too


def test_the_refusal_survives_pickling_with_its_inputs(tmp_path: Path) -> None:
    import pickle

    error = NotALedger(tmp_path / "x", "a directory")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.found, str(copy)) == (error.path, error.found, str(error))


FAST = ("--repro-inprocess", "-p", "no:cacheprovider")
PAPER = """\
paper: {id: p1, title: t}
run: {entrypoint: train:run}
claims:
  - {id: acc, text: t, source: T1, metric: acc, at: {epoch: 1}, paper: 0.9, tolerance: 0.1}
"""


def _paper(pytester: pytest.Pytester) -> Path:
    folder = pytester.path / "papers" / "p1"
    folder.mkdir(parents=True)
    (folder / "paper.yaml").write_text(PAPER)
    (folder / "train.py").write_text(
        "def run(ctx):\n    (ctx.paper_dir / 'ran').write_text('x')\n    ctx.log(epoch=1, acc=0.9)\n"
    )
    return folder


def _one_line_error(result: pytest.RunResult) -> str:
    text = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in text
    errors = [line.split("ERROR: ", 1)[1] for line in text.splitlines() if "ERROR: " in line]
    assert len(errors) == 1, text
    return errors[0]


def test_a_directory_as_repro_ledger_is_a_one_line_usage_error(pytester: pytest.Pytester) -> None:
    folder = _paper(pytester)
    target = pytester.path / "ledgers"
    target.mkdir()
    result = pytester.runpytest(f"--repro-ledger={target}", *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = _one_line_error(result)
    assert f"{target} is a directory" in line
    assert "--repro-ledger=PATH" in line
    assert not (folder / "ran").exists()
    assert list(target.iterdir()) == []


def test_a_source_file_named_by_the_environment_is_refused_and_kept(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    _paper(pytester)
    precious = pytester.path / "precious.py"
    precious.write_bytes(PRECIOUS)
    monkeypatch.setenv("PYTEST_REPRO_LEDGER", str(precious))
    result = pytester.runpytest(*FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert str(precious) in _one_line_error(result)
    assert precious.read_bytes() == PRECIOUS
    assert not [p for p in pytester.path.iterdir() if p.name.startswith("precious.py.")]


def test_importing_a_missing_file_is_one_line_and_exit_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = tmp_path / "ledger.sqlite"
    code = main(
        ["ledger", "import", str(tmp_path / "nonexistent.jsonl"), "--ledger", str(ledger)],
        out=io.StringIO(),
    )
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert f"cannot read {tmp_path / 'nonexistent.jsonl'}" in err
    assert not ledger.exists()  # nothing is created for an import that cannot start
