"""Data sources as recorded facts: what a run loaded, proven by its content.

A ``data:`` entry of ``paper.yaml`` arrives as a :class:`~pytest_repro.spec.schema.DataSource`.

- :func:`identity` says *which* data a source denotes without loading it (package
  versions, loader and arguments, file checksums, hub revision): cheap, for run
  cache keys.
- :func:`load` loads it, checks the spec's pins (``sha256`` of files,
  ``fingerprint`` of the content) and returns the value with a
  :class:`DataFingerprint` for the run's evidence.
- :func:`fingerprint_value` hashes loaded content canonically (arrays, tables,
  datasets, nested containers), identical across processes and platforms.
- :func:`train_test_overlap` counts rows of one split that also occur in another.

Example::

    value, fp = load(spec.data_source("digits"), spec.folder)
    evidence["data"]["digits"] = fp.to_json()

Where each part lives:

- :mod:`~pytest_repro.data.loading`: :func:`identity`, :func:`load`, :class:`DataFingerprint`.
- :mod:`~pytest_repro.data.registry`: :data:`SOURCE_KINDS`, the one table from each
  :data:`~pytest_repro.vocab.DataKind` to its :class:`SourceKind`.
- :mod:`~pytest_repro.data.kinds`: the :class:`SourceKind` protocol and what kinds share.
- one module per kind: :mod:`~pytest_repro.data.sklearn_source`,
  :mod:`~pytest_repro.data.python_source`, :mod:`~pytest_repro.data.files_source`,
  :mod:`~pytest_repro.data.hf_source`.
- :mod:`~pytest_repro.data.fingerprint`: content fingerprints, file hashes and their cache.
- :mod:`~pytest_repro.data.overlap`: :func:`train_test_overlap`.
- :mod:`~pytest_repro.data.summary`: :func:`summarize`.

Importing this package loads only the standard library (worker processes import it in
a paper's isolated environment): neither numpy's heavy friends (torch, scipy, sklearn,
pandas) nor ``datasets``; each loader imports what it needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pytest_repro.data.fingerprint import (
        HASH_CACHE_FILE,
        HashCache,
        file_sha256,
        fingerprint_value,
    )
    from pytest_repro.data.hf_source import PACKAGED_BUILDERS
    from pytest_repro.data.kinds import Loaded, SourceKind
    from pytest_repro.data.loading import DataFingerprint, identity, identity_parts, load
    from pytest_repro.data.overlap import OverlapReport, train_test_overlap
    from pytest_repro.data.registry import SOURCE_KINDS
    from pytest_repro.data.summary import summarize

#: Where each name of this package lives: a module is imported when one of its names is
#: first asked for (``from pytest_repro.data.pins import ...`` loads the pins alone).
_HOME = {
    "HASH_CACHE_FILE": "fingerprint",
    "HashCache": "fingerprint",
    "file_sha256": "fingerprint",
    "fingerprint_value": "fingerprint",
    "PACKAGED_BUILDERS": "hf_source",
    "Loaded": "kinds",
    "SourceKind": "kinds",
    "DataFingerprint": "loading",
    "identity": "loading",
    "identity_parts": "loading",
    "load": "loading",
    "OverlapReport": "overlap",
    "train_test_overlap": "overlap",
    "SOURCE_KINDS": "registry",
    "summarize": "summary",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "HASH_CACHE_FILE",
    "PACKAGED_BUILDERS",
    "SOURCE_KINDS",
    "DataFingerprint",
    "HashCache",
    "Loaded",
    "OverlapReport",
    "SourceKind",
    "file_sha256",
    "fingerprint_value",
    "identity",
    "identity_parts",
    "load",
    "summarize",
    "train_test_overlap",
]
