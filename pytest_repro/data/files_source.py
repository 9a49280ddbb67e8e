"""The ``files`` kind: local files, each optionally pinned by ``sha256``.

Its identity is the sha256 of each file; loading checks each file exists and matches
its pin, and returns a mapping ``path as written -> Path``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.data.fingerprint import HashCache
from pytest_repro.data.kinds import Loaded, check_pin, resolve_path, source_error
from pytest_repro.spec.schema import DataSource


@dataclass(frozen=True, slots=True, kw_only=True)
class FilesSource:
    """``files: [{path: train.csv, sha256: ...}]``: the checked paths."""

    def identity_parts(
        self, source: DataSource, paper_dir: Path, cache: HashCache
    ) -> dict[str, Any]:
        files = [
            [ref.path, cache.sha256(_existing_file(source, i, paper_dir))]
            for i, ref in enumerate(source.files)
        ]
        return {"files": files}

    def load(
        self,
        source: DataSource,
        paper_dir: Path,
        *,
        cache: HashCache,
        hf_cache_dir: Path | None,
    ) -> Loaded:
        value: dict[str, Path] = {}
        shas: dict[str, str] = {}
        listing: dict[str, Any] = {}
        for index, ref in enumerate(source.files):
            path = _existing_file(source, index, paper_dir)
            sha = cache.sha256(path)
            if ref.sha256 is not None:
                check_pin(
                    ref.sha256,
                    sha,
                    loc=ref.loc,
                    where=f"data.{source.name}.files[{index}].sha256",
                    what=f"the sha256 of {ref.path}",
                    fix=f"if the new file is intended, update the pin to sha256: {sha}; "
                    "otherwise restore the original file",
                )
            value[ref.path] = path
            shas[str(path)] = sha
            listing[ref.path] = {"sha256": sha, "size": path.stat().st_size}
        return Loaded(value=value, details={"files": listing}, file_digests=shas)


def _existing_file(source: DataSource, index: int, paper_dir: Path) -> Path:
    ref = source.files[index]
    path = resolve_path(paper_dir, ref.path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise source_error(
            ref.loc,
            f"data.{source.name}.files[{index}]",
            f"{ref.path} {what} (looked for {path})",
            f"put the file there, or fix the path (relative paths start at the paper folder "
            f"{paper_dir})",
        )
    return path
