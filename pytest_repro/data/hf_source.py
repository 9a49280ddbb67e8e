"""The ``hf`` kind: a dataset loaded through the ``datasets`` library.

``path`` is a hub id (pinned by ``revision``), a builder shipped inside ``datasets``
reading local ``data_files`` (``csv``, ``json``, ``parquet``, ...), a local dataset
folder, or (``from_disk``) a folder written by ``Dataset.save_to_disk``. Its identity
is path, name, revision, split, data_files, the ``datasets`` version and the sha256
of the local files; an unpinned hub dataset warns. ``datasets`` is imported only to
load.
"""

from __future__ import annotations

import glob
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.data.fingerprint import HashCache, tree_sha256
from pytest_repro.data.kinds import Loaded, distribution_version, resolve_path, source_error
from pytest_repro.errors import DataError, ReproWarning
from pytest_repro.spec.schema import DataSource, HFRef

#: Builders that ship inside ``datasets`` and read local ``data_files``: no hub, no revision.
PACKAGED_BUILDERS = frozenset(
    {
        "csv",
        "json",
        "pandas",
        "parquet",
        "arrow",
        "text",
        "conll",
        "imagefolder",
        "audiofolder",
        "videofolder",
        "pdffolder",
        "niftifolder",
        "meshfolder",
        "webdataset",
        "xml",
        "hdf5",
        "lance",
        "sql",
        "generator",
        "spark",
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class HFSource:
    """``hf: {path: ..., revision: ..., split: ...}``: a ``datasets.Dataset`` (or a
    ``DatasetDict`` when no split is given)."""

    def identity_parts(
        self, source: DataSource, paper_dir: Path, cache: HashCache
    ) -> dict[str, Any]:
        ref = _hf_ref(source)
        plan = _hf_plan(source, ref, paper_dir)
        if plan.hub and ref.revision is None:
            warnings.warn(
                ReproWarning(
                    f"{ref.loc}: data.{source.name}.hf.revision: {ref.path!r} is not pinned, "
                    "so the hub may serve different data later\n"
                    "    fix: pin revision: <commit sha> (the dataset's commit on the hub)"
                ),
                stacklevel=4,  # the caller of identity() or load()
            )
        local: list[list[str]] = []
        if plan.folder is not None:
            local = tree_sha256(plan.folder, cache.sha256)
        for path in plan.files:
            local.append(
                [
                    str(path.relative_to(paper_dir) if path.is_relative_to(paper_dir) else path),
                    cache.sha256(path),
                ]
            )
        return {
            "path": ref.path,
            "name": ref.name,
            "revision": ref.revision,
            "split": ref.split,
            "data_files": ref.data_files,
            "from_disk": ref.from_disk,
            "datasets": distribution_version("datasets"),
            "local_files": local,
        }

    def load(
        self,
        source: DataSource,
        paper_dir: Path,
        *,
        cache: HashCache,
        hf_cache_dir: Path | None,
    ) -> Loaded:
        value, details = _load_hf(source, paper_dir, hf_cache_dir)
        return Loaded(
            value=value,
            details=details,
            fingerprint_method="content: Arrow columns in fixed batches",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _HFPlan:
    hub: bool  # a dataset on the hub (revision applies)
    folder: Path | None  # a local folder: save_to_disk output or a local dataset folder
    files: tuple[Path, ...]  # local data_files, expanded
    data_files: Any  # what to pass to load_dataset


def _hf_ref(source: DataSource) -> HFRef:
    if source.hf is None:
        raise source_error(source.loc, f"data.{source.name}.hf", "missing", "give hf: {path: ...}")
    return source.hf


def _hf_plan(source: DataSource, ref: HFRef, paper_dir: Path) -> _HFPlan:
    where = f"data.{source.name}.hf"
    if ref.from_disk:
        folder = resolve_path(paper_dir, ref.path)
        if not folder.is_dir():
            raise source_error(
                ref.loc,
                f"{where}.path",
                f"{ref.path} is not a folder (looked for {folder})",
                "point path at the folder Dataset.save_to_disk wrote, relative to the paper folder",
            )
        return _HFPlan(hub=False, folder=folder, files=(), data_files=None)
    if ref.path in PACKAGED_BUILDERS:
        if ref.data_files is None:
            raise source_error(
                ref.loc,
                f"{where}.data_files",
                f"the {ref.path!r} builder reads local files, and none are given",
                f"add data_files: train.{ref.path} (relative to the paper folder), or a mapping "
                "split -> files",
            )
        files: list[Path] = []
        data_files = _map_data_files(
            ref.data_files, lambda pattern: _expand(pattern, paper_dir, ref, where, files)
        )
        return _HFPlan(hub=False, folder=None, files=tuple(files), data_files=data_files)
    local = resolve_path(paper_dir, ref.path)
    if ref.path.startswith((".", "/", "~")) or local.is_dir():  # datasets also prefers a folder
        if not local.is_dir():
            raise source_error(
                ref.loc,
                f"{where}.path",
                f"{ref.path} is not a folder (looked for {local})",
                "give a hub id (owner/name) or a folder relative to the paper folder",
            )
        return _HFPlan(hub=False, folder=local, files=(), data_files=ref.data_files)
    return _HFPlan(hub=True, folder=None, files=(), data_files=ref.data_files)


def _map_data_files(data_files: Any, expand: Callable[[str], list[str]]) -> Any:
    if isinstance(data_files, str):
        return expand(data_files)
    if isinstance(data_files, Mapping):
        return {str(k): _map_data_files(v, expand) for k, v in data_files.items()}
    if isinstance(data_files, Sequence):
        return [p for item in data_files for p in expand(str(item))]
    return data_files


def _expand(pattern: str, paper_dir: Path, ref: HFRef, where: str, found: list[Path]) -> list[str]:
    if "://" in pattern:
        return [pattern]
    full = resolve_path(paper_dir, pattern)
    matches = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
    matches = [p for p in matches if p.is_file()]
    if not matches:
        raise source_error(
            ref.loc,
            f"{where}.data_files",
            f"{pattern} matches no file (looked for {full})",
            "put the file there, or fix the path (relative paths start at the paper folder)",
        )
    found.extend(matches)
    return [str(p) for p in matches]


def _load_hf(
    source: DataSource, paper_dir: Path, hf_cache_dir: Path | None
) -> tuple[Any, dict[str, Any]]:
    ref = _hf_ref(source)
    plan = _hf_plan(source, ref, paper_dir)
    try:
        import datasets
    except ModuleNotFoundError:
        raise source_error(
            ref.loc,
            f"data.{source.name}.hf",
            "the datasets library is not installed",
            "pip install datasets (or pip install 'pytest-repro[data]')",
        ) from None
    try:
        if ref.from_disk:
            assert plan.folder is not None
            value = datasets.load_from_disk(str(plan.folder))
            if ref.split is not None:
                if not isinstance(value, datasets.DatasetDict) or ref.split not in value:
                    raise source_error(
                        ref.loc,
                        f"data.{source.name}.hf.split",
                        f"{ref.path} has no split {ref.split!r}",
                        "use one of the splits saved there, or drop split",
                    )
                value = value[ref.split]
        else:
            path = str(plan.folder) if plan.folder is not None else ref.path
            value = datasets.load_dataset(
                path,
                ref.name,
                revision=ref.revision,
                split=ref.split,
                data_files=plan.data_files,
                cache_dir=str(hf_cache_dir) if hf_cache_dir is not None else None,
            )
    except DataError:
        raise
    except Exception as exc:
        raise _hf_error(source, ref, plan, exc) from None
    details: dict[str, Any] = {
        "datasets": distribution_version("datasets"),
        "path": ref.path,
        "revision": ref.revision,
        "split": ref.split,
    }
    return value, details


def _hf_error(source: DataSource, ref: HFRef, plan: _HFPlan, exc: Exception) -> DataError:
    offline = any(
        os.environ.get(var, "").upper() in {"1", "ON", "YES", "TRUE"}
        for var in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE")
    )
    text = " ".join(str(exc).split())[:400]
    kind = type(exc).__name__
    if "Revision" in kind or "revision" in text.lower():
        fix = "check revision: it must be a commit sha, tag or branch of the dataset's repo"
    elif plan.hub and offline:
        fix = (
            "offline mode is on (HF_DATASETS_OFFLINE/HF_HUB_OFFLINE), so only datasets already "
            "in the cache load: pre-download it once with network access, or set "
            "HF_DATASETS_OFFLINE=0 and HF_HUB_OFFLINE=0"
        )
    elif plan.hub:
        fix = (
            "check the dataset id and revision, your network, and (for gated data) your "
            "Hugging Face token"
        )
    else:
        fix = "check that the local files can be read by the builder named in path"
    return source_error(
        ref.loc,
        f"data.{source.name}.hf",
        f"loading {ref.path!r}"
        + (f" at revision {ref.revision!r}" if ref.revision else "")
        + f" failed: {kind}: {text}",
        fix,
    )
