"""The GPU lease state files: changed only under a lock that filelock users honour too,
replaced whole, and waiting files read again only when replaced."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from pytest_repro.execution import gpu_files as files

#: A child process that holds ``<path>.lock`` through filelock until its stdin closes.
HOLDER = textwrap.dedent(
    """
    import sys
    from filelock import FileLock

    lock = FileLock(sys.argv[1] + ".lock")
    lock.acquire()
    print("held", flush=True)
    sys.stdin.read()
    lock.release()
    """
)


def test_a_lock_that_filelock_holds_in_another_process_is_honoured(tmp_path: Path) -> None:
    path = tmp_path / "gpu-0.json"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdin is not None
    assert holder.stdout.readline().strip() == "held"
    with files.locked(path, wait=False) as got:
        assert got is False
    assert files.write(path, lambda entries: [{"token": "x"}], wait=False) is None
    holder.stdin.close()
    assert holder.wait(timeout=30) == 0
    with files.locked(path, wait=False) as got:
        assert got is True
    assert files.write(path, lambda entries: [{"token": "x"}], wait=False) is True
    assert files.load(path) == [{"token": "x"}]


def test_no_change_under_the_lock_is_lost_between_threads(tmp_path: Path) -> None:
    path = tmp_path / "gpu-0.json"

    def bump(entries: list[dict[str, object]]) -> list[dict[str, object]]:
        count = int(str(entries[0]["n"])) if entries else 0
        return [{"n": count + 1}]

    def work() -> None:
        for _ in range(25):
            files.write(path, bump)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert files.read(path) == [{"n": 200}]


def test_a_declined_change_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "gpu-0.json"
    assert files.write(path, lambda entries: [{"token": "a"}]) is True
    before = files.stamp([path])
    assert files.write(path, lambda entries: None) is False
    assert files.stamp([path]) == before and files.load(path) == [{"token": "a"}]


def test_a_waiting_file_is_read_again_only_when_it_is_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "gpus-waiting"
    files.post(folder, "t", {"token": "t", "v": 1})
    found, known = files.posts(folder, {})
    assert found == {"t": {"token": "t", "v": 1}}
    again, known = files.posts(folder, known)
    assert again["t"] is found["t"]  # the same inode: not read again
    stamp = files.stamp([folder])
    files.post(folder, "t", {"token": "t", "v": 2})
    assert files.stamp([folder]) != stamp  # a replaced file changes the folder's stamp
    assert files.posts(folder, known)[0] == {"t": {"token": "t", "v": 2}}
    files.unpost(folder, "t")
    files.unpost(folder, "t")  # already gone: nothing to do
    assert files.posts(folder, known)[0] == {}


def test_a_missing_or_unreadable_state_file_reads_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "gpu-0.json"
    assert files.stamp([path]) == (None,) and files.load(path) == []
    path.write_text("{not json")
    assert files.load(path) == []
    path.write_text('[{"token": "a"}, 3]')
    assert files.load(path) == [{"token": "a"}]
