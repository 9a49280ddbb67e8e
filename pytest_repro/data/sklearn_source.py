"""The ``sklearn`` kind: a loader (``load_*``) or generator (``make_*``) bundled with
``sklearn.datasets``, identified by scikit-learn's version, the loader and its
arguments. scikit-learn is imported only to load."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.data.fingerprint import HashCache
from pytest_repro.data.kinds import Loaded, distribution_version, source_error
from pytest_repro.spec.schema import DataSource


@dataclass(frozen=True, slots=True, kw_only=True)
class SklearnSource:
    """``sklearn: load_digits`` (with ``args``): what the loader returns."""

    def identity_parts(
        self, source: DataSource, paper_dir: Path, cache: HashCache
    ) -> dict[str, Any]:
        _sklearn_target(source)
        return {
            "target": source.target,
            "args": dict(source.args),
            "scikit-learn": distribution_version("scikit-learn"),
        }

    def load(
        self,
        source: DataSource,
        paper_dir: Path,
        *,
        cache: HashCache,
        hf_cache_dir: Path | None,
    ) -> Loaded:
        target = _sklearn_target(source)
        try:
            import sklearn.datasets
        except ModuleNotFoundError:
            raise source_error(
                source.loc,
                f"data.{source.name}.sklearn",
                "scikit-learn is not installed",
                "pip install scikit-learn (or pip install 'pytest-repro[data]')",
            ) from None
        loader = getattr(sklearn.datasets, target, None)
        if not callable(loader):
            raise source_error(
                source.loc,
                f"data.{source.name}.sklearn",
                f"sklearn.datasets has no {target} "
                f"(scikit-learn {distribution_version('scikit-learn')})",
                "check the name against the scikit-learn documentation of sklearn.datasets",
            )
        try:
            value = loader(**dict(source.args))
        except TypeError as exc:
            raise source_error(
                source.loc,
                f"data.{source.name}.args",
                f"{target}() rejected the arguments {dict(source.args)!r}: {exc}",
                f"pass only the keyword arguments {target} accepts",
            ) from None
        return Loaded(
            value=value,
            details={"scikit-learn": distribution_version("scikit-learn"), "target": target},
        )


def _sklearn_target(source: DataSource) -> str:
    target = source.target or ""
    if not re.fullmatch(r"(load|make)_[A-Za-z0-9_]+", target):
        raise source_error(
            source.loc,
            f"data.{source.name}.sklearn",
            f"{target!r} is not a bundled loader or generator of sklearn.datasets",
            "use a load_* loader that ships with scikit-learn (load_digits, load_iris, ...) "
            "or a make_* generator; fetch_* downloads, so wrap it in a `python:` source "
            "that reads a local copy",
        )
    return target
