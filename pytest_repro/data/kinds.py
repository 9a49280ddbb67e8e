"""What a data source kind is: the :class:`SourceKind` protocol every kind implements,
and the pieces they share (errors that point at the spec line, sha256 pins, paths
relative to the paper folder, distribution versions).

A kind says *which* data a ``data:`` entry denotes without loading it
(:meth:`SourceKind.identity_parts`) and loads it (:meth:`SourceKind.load`). Each kind
lives in its own module; :mod:`pytest_repro.data.registry` maps every
:data:`~pytest_repro.vocab.DataKind` to its implementation.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pytest_repro.data.fingerprint import HashCache
from pytest_repro.errors import DataError
from pytest_repro.spec.node import Location
from pytest_repro.spec.schema import DataSource

#: The fewest hex digits a ``sha256``/``fingerprint`` pin may have.
MIN_PIN = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Loaded:
    """What a kind loaded: the value, its readable details, and what it already knows.

    ``file_digests`` maps ``str(path)`` to the sha256 the kind computed while loading,
    so fingerprinting does not read those files again. ``fingerprint_method`` says how
    the content is fingerprinted when that is worth recording.
    """

    value: Any
    details: Mapping[str, Any] = field(default_factory=dict)
    file_digests: Mapping[str, str] = field(default_factory=dict)
    fingerprint_method: str | None = None


class SourceKind(Protocol):
    """One kind of ``data:`` entry (``sklearn``, ``python``, ``files``, ``hf``)."""

    def identity_parts(
        self, source: DataSource, paper_dir: Path, cache: HashCache
    ) -> dict[str, Any]:
        """The parts naming the data ``source`` denotes, computed without loading it
        (versions, loader and arguments, file checksums); ``kind`` is added by the caller."""
        ...

    def load(
        self,
        source: DataSource,
        paper_dir: Path,
        *,
        cache: HashCache,
        hf_cache_dir: Path | None,
    ) -> Loaded:
        """Load ``source``, checking the pins that belong to the kind (file checksums)."""
        ...


def source_error(loc: Location | None, where: str, message: str, fix: str) -> DataError:
    """A :class:`DataError` reading ``papers/x/paper.yaml:14: data.d.files[0]: ... fix: ...``."""
    head = f"{loc}: " if loc is not None else ""
    return DataError(f"{head}{where}: {message}\n    fix: {fix}")


def check_pin(
    pin: str, actual: str, *, loc: Location | None, where: str, what: str, fix: str
) -> None:
    """Raise unless ``actual`` (hex sha256) starts with the digits of ``pin``.

    A pin may carry a ``sha256:`` prefix and any case; it needs at least
    :data:`MIN_PIN` digits.
    """
    expected = pin.strip().lower().removeprefix("sha256:")
    if len(expected) < MIN_PIN or not re.fullmatch(r"[0-9a-f]+", expected):
        raise source_error(
            loc,
            where,
            f"{pin!r} is not a sha256 pin",
            f"write the hex digest (at least {MIN_PIN} leading digits), e.g. {actual}",
        )
    if not actual.startswith(expected):
        raise source_error(
            loc,
            where,
            f"{what} does not match the pin: expected {expected}, got {actual}",
            fix,
        )


def resolve_path(paper_dir: Path, path: str) -> Path:
    """``path`` as written in the spec: ``~`` expanded, relative to the paper folder."""
    candidate = Path(path).expanduser()
    return candidate if candidate.is_absolute() else paper_dir / candidate


def distribution_version(distribution: str) -> str | None:
    """The installed version of ``distribution``, or None when it is not installed."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
