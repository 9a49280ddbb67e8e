"""Which ``paper.yaml`` files a command's paths name, and the name each is shown under.

``pytest-repro report`` and ``audit`` take paper folders or ``paper.yaml`` files (default:
``papers/``); a folder stands for every ``paper.yaml`` under it, outside ``.repro``
working folders. A spec is shown by its path relative to the current folder, as pytest
shows it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pytest_repro.errors import ReproError


def spec_files(paths: Sequence[Path]) -> list[Path]:
    """The ``paper.yaml`` files ``paths`` name (default: every one under ``papers/``)."""
    roots = list(paths) or [Path("papers")]
    found: list[Path] = []
    for root in roots:
        if root.is_file():
            found.append(root)
        elif root.is_dir():
            found.extend(sorted(p for p in root.rglob("paper.yaml") if ".repro" not in p.parts))
        else:
            raise ReproError(f"{root} does not exist")
    return found


def display_name(file: Path, root: Path) -> str:
    """``file`` relative to ``root`` as pytest shows it; as given when outside ``root``."""
    try:
        return file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(file)


__all__ = ["display_name", "spec_files"]
