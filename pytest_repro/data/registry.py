"""The one table of data source kinds: each :data:`~pytest_repro.vocab.DataKind` and the
:class:`~pytest_repro.data.kinds.SourceKind` that identifies and loads it.

A new kind adds its name to ``DataKind`` in :mod:`pytest_repro.vocab`, a module
implementing :class:`~pytest_repro.data.kinds.SourceKind`, and a row here.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_repro.data.files_source import FilesSource
from pytest_repro.data.hf_source import HFSource
from pytest_repro.data.kinds import SourceKind, source_error
from pytest_repro.data.python_source import PythonSource
from pytest_repro.data.sklearn_source import SklearnSource
from pytest_repro.spec.schema import DataSource
from pytest_repro.vocab import DATA_KINDS, DataKind

#: Every data source kind and its implementation.
SOURCE_KINDS: Mapping[DataKind, SourceKind] = {
    "sklearn": SklearnSource(),
    "python": PythonSource(),
    "files": FilesSource(),
    "hf": HFSource(),
}


def source_kind(source: DataSource) -> SourceKind:
    """The implementation of ``source.kind``; an unknown kind is a :class:`DataError`."""
    found = SOURCE_KINDS.get(source.kind)
    if found is None:
        raise source_error(
            source.loc,
            f"data.{source.name}",
            f"unknown kind {source.kind!r}",
            f"use one of {', '.join(DATA_KINDS)}",
        )
    return found
