"""The software stack and hardware of a run: recorded, compared with the paper's pins,
and, on request, rebuilt in isolation.

- :mod:`~pytest_repro.environment.fingerprint`: :func:`fingerprint` and
  :func:`cached_fingerprint` describe this process's environment for a run's evidence;
  :func:`cache_fields` is the part of it in a run's cache key; :func:`visible_gpus` and
  :func:`device_kind` find the GPUs.
- :mod:`~pytest_repro.environment.lockfile`: :func:`read_lockfile` reads a paper's
  lockfile into :class:`Pin` s; :func:`parse_requirements` reads ``requires``.
- :mod:`~pytest_repro.environment.drift`: :func:`check_environment` lists the
  :class:`Drift` from the paper's ``environment:`` section; :func:`format_drift_table`
  shows them side by side.
- :mod:`~pytest_repro.environment.isolate`: :func:`isolated_python` builds a virtual
  environment from the paper's lockfile with ``uv`` and returns its interpreter.

Importing this package loads only the standard library (``packaging`` and ``filelock``
are imported where they are used): worker processes fingerprint a paper's isolated
environment, which may have neither. Nothing here imports torch.
"""

from __future__ import annotations

from pytest_repro.environment.drift import Drift, DriftKind, check_environment, format_drift_table
from pytest_repro.environment.fingerprint import (
    BASE_PACKAGES,
    RECORDED_ENV,
    cache_fields,
    cached_fingerprint,
    device_kind,
    fingerprint,
    installed_version,
    visible_gpus,
)
from pytest_repro.environment.isolate import env_key, find_uv, isolated_python
from pytest_repro.environment.lockfile import (
    Pin,
    is_pylock,
    lockfile_display,
    parse_requirements,
    read_lockfile,
)
from pytest_repro.environment.versions import canonicalize_name, contains_version
from pytest_repro.errors import EnvironmentBuildError

__all__ = [
    "BASE_PACKAGES",
    "RECORDED_ENV",
    "Drift",
    "DriftKind",
    "EnvironmentBuildError",
    "Pin",
    "cache_fields",
    "cached_fingerprint",
    "canonicalize_name",
    "check_environment",
    "contains_version",
    "device_kind",
    "env_key",
    "find_uv",
    "fingerprint",
    "format_drift_table",
    "installed_version",
    "is_pylock",
    "isolated_python",
    "lockfile_display",
    "parse_requirements",
    "read_lockfile",
    "visible_gpus",
]
