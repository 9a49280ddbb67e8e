"""Hashing a folder's files for a cache key: the paper folder's code, an upstream checkout.

Both walk through symlinks (a link to a file hashes the file, a link to a folder is
walked; a folder reached twice is walked once) and hash each file's relative path and
contents in path order, so a key changes exactly when a file that counts changes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path


def walk(
    folder: Path, *, keep_dir: Callable[[str], bool], keep_file: Callable[[str, str], bool]
) -> list[Path]:
    """The files under ``folder`` that ``keep_file(name, relative posix path)`` keeps, in
    folders ``keep_dir(name)`` keeps (a path is made only for a file that is kept: a folder
    of a thousand generated files costs a thousand string checks)."""
    out = []
    seen: set[str] = set()
    for root, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if keep_dir(d)]
        base = Path(root)
        prefix = base.relative_to(folder).as_posix()
        prefix = "" if prefix == "." else prefix + "/"
        for name in files:
            if keep_file(name, prefix + name):
                out.append(base / name)
    return out


def sha256_files(folder: Path, paths: Iterable[Path]) -> str:
    """sha256 over each file's path relative to ``folder`` and its contents, in path order.

    A file that cannot be read (a dangling link) hashes as unreadable: its absence is
    part of what the folder holds.
    """
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        except OSError:
            digest.update(b"<unreadable>")
        digest.update(b"\0")
    return digest.hexdigest()


__all__ = ["sha256_files", "walk"]
