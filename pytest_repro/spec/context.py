"""What every section builder of one ``paper.yaml`` shares: its problem collector and its place."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pytest_repro.spec.fields import Checker
from pytest_repro.spec.node import Location


@dataclass(frozen=True, slots=True, kw_only=True)
class SpecContext:
    """The file being read.

    ``file`` is the resolved path, used to find what the spec names (an entrypoint's module,
    a lockfile); ``display`` is the path as messages show it.
    """

    ck: Checker
    file: Path
    display: str
    #: ``run.metrics`` formats that installed plugins read, beside the built-in ones;
    #: None: any name is taken as a plugin's format (reports that only read recorded runs).
    metric_formats: tuple[str, ...] | None = ()
    #: The paper's ``trusted:`` entries that passed their checks: the installed
    #: ``module:function`` callables ``run.entrypoint`` and ``data.<name>.python`` may name
    #: outside the paper folder. Set once ``trusted:`` is read, before ``run:`` and ``data:``.
    trusted: tuple[str, ...] = ()
    #: The checkouts ``upstream:`` names (absolute): entrypoints may live there too.
    upstream_folders: tuple[Path, ...] = ()

    @property
    def folder(self) -> Path:
        """The paper's folder: entrypoints, lockfiles and data files are looked up here."""
        return self.file.parent

    @property
    def shown_folder(self) -> str:
        """The paper's folder as messages show it."""
        return str(Path(self.display).parent)

    def loc(self, line: int) -> Location:
        return self.ck.loc(line)
