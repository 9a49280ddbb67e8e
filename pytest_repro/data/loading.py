"""Identify and load a ``data:`` entry through its kind, and record what was loaded.

:func:`identity` names the data a source denotes without loading it; :func:`load`
loads it, checks the ``fingerprint`` pin and returns the value with a
:class:`DataFingerprint`. Both look the kind up in
:data:`~pytest_repro.data.registry.SOURCE_KINDS`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.data.fingerprint import HashCache, fingerprint_with
from pytest_repro.data.kinds import check_pin
from pytest_repro.data.registry import source_kind
from pytest_repro.data.summary import summarize
from pytest_repro.spec.schema import DataSource
from pytest_repro.vocab import DataKind


@dataclass(frozen=True, slots=True, kw_only=True)
class DataFingerprint:
    """What a run loaded for one ``data:`` entry.

    ``identity`` is :func:`identity` (what the source denotes); ``fingerprint`` is
    :func:`~pytest_repro.data.fingerprint.fingerprint_value` of the loaded value (what it
    contained); ``details`` holds the readable parts (versions, revision, shapes, rows,
    file checksums).
    """

    name: str
    kind: DataKind
    identity: str
    fingerprint: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "identity": self.identity,
            "fingerprint": self.fingerprint,
            "details": json.loads(json.dumps(self.details, default=str)),
        }


def identity(source: DataSource, paper_dir: Path, *, cache_dir: Path | None = None) -> str:
    """A sha256 naming the data ``source`` denotes, computed without loading it.

    - ``sklearn``: scikit-learn's version, the loader and its arguments.
    - ``python``: target and arguments, plus the sha256 of the module's source when
      it lives in the paper folder, else the version of the distribution providing
      it (or, for an unpackaged module, the sha256 of its source files).
    - ``files``: the sha256 of each file.
    - ``hf``: path, name, revision, split, data_files, the ``datasets`` version and
      the sha256 of local files (data files, a local folder, a ``save_to_disk``
      folder).

    File checksums are remembered per (path, size, mtime) in ``cache_dir`` (when
    given) so that reruns stay cheap. An ``hf`` hub dataset without a pinned
    ``revision`` warns (:class:`~pytest_repro.errors.ReproWarning`): the hub may serve
    other data later.
    """
    cache = HashCache(cache_dir)
    try:
        parts = identity_parts(source, Path(paper_dir), cache)
    finally:
        cache.save()
    return _sha256_json(parts)


def identity_parts(source: DataSource, paper_dir: Path, cache: HashCache) -> dict[str, Any]:
    """The readable parts :func:`identity` hashes: the kind, and what the kind names."""
    return {"kind": source.kind, **source_kind(source).identity_parts(source, paper_dir, cache)}


def load(
    source: DataSource,
    paper_dir: Path,
    *,
    cache_dir: Path | None = None,
    hf_cache_dir: Path | None = None,
) -> tuple[Any, DataFingerprint]:
    """Load ``source`` and fingerprint what was loaded.

    Values by kind: ``sklearn`` and ``python`` return what the loader returns;
    ``files`` a mapping ``path as written -> Path`` after checking each file exists
    and matches its ``sha256``; ``hf`` a ``datasets.Dataset`` (or ``DatasetDict``
    when no split is given). ``cache_dir`` keeps file checksums between calls;
    ``hf_cache_dir`` is where ``datasets`` caches (default: its own). Offline
    settings (``HF_DATASETS_OFFLINE``, ``HF_HUB_OFFLINE``) are left to ``datasets``.

    Raises :class:`~pytest_repro.errors.DataError` naming the spec line when a file is
    missing, a pin (``sha256``, ``fingerprint``) does not match, or ``datasets`` cannot
    load it.

    Example::

        value, fp = load(spec.data_source("digits"), spec.folder)
        evidence["data"]["digits"] = fp.to_json()
    """
    paper_dir = Path(paper_dir)
    cache = HashCache(cache_dir)
    try:
        ident = _sha256_json(identity_parts(source, paper_dir, cache))
        loaded = source_kind(source).load(source, paper_dir, cache=cache, hf_cache_dir=hf_cache_dir)
        shas = loaded.file_digests
        fingerprint = fingerprint_with(loaded.value, lambda p: shas.get(str(p)) or cache.sha256(p))
    finally:
        cache.save()
    details = {**loaded.details, "summary": summarize(loaded.value)}
    if loaded.fingerprint_method is not None:
        details["fingerprint_method"] = loaded.fingerprint_method
    if source.fingerprint is not None:
        check_pin(
            source.fingerprint,
            fingerprint,
            loc=source.loc,
            where=f"data.{source.name}.fingerprint",
            what="the fingerprint of the loaded data",
            fix=f"if the change is intended, update the pin to fingerprint: {fingerprint}; "
            "otherwise find what changed the data (its files, the loader's code or "
            "arguments, package versions)",
        )
    return loaded.value, DataFingerprint(
        name=source.name,
        kind=source.kind,
        identity=ident,
        fingerprint=fingerprint,
        details=details,
    )


def _sha256_json(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
