"""Content fingerprints: a canonical sha256 of loaded data, and the sha256 of files.

- :func:`fingerprint_value` hashes a loaded value (arrays, tables, datasets, nested
  containers) through :class:`Encoder`, identical across processes and platforms.
- :func:`file_sha256` hashes a file; :class:`HashCache` remembers those hashes by
  (path, size, mtime) in ``cache_dir`` so reruns do not read unchanged files again.
- :func:`tree_sha256` lists the hash of every file of a folder.

numpy, torch, pandas and ``datasets`` are recognised through ``sys.modules``: a value's
library is already imported when such a value exists, so none is imported here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any

from pytest_repro.errors import DataError

#: The file-hash cache kept under ``cache_dir``.
HASH_CACHE_FILE = "file-sha256.json"

#: Rows per batch when hashing a ``datasets.Dataset``: fixed, so the hash does not
#: depend on how the Arrow table happens to be chunked.
DATASET_BATCH = 8192
_CHUNK = 1 << 20


# -- file hashes --------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """The sha256 of a file's content (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class HashCache:
    """sha256 per file, remembered by (path, size, mtime_ns) in a JSON file, so a
    rerun does not read unchanged files again. Without a folder it only memoizes
    within one call. A file rewritten within the clock's resolution with the same
    size would be missed: the price of not reading it."""

    def __init__(self, folder: Path | None) -> None:
        self._file = folder / HASH_CACHE_FILE if folder is not None else None
        self._entries: dict[str, Any] = {}
        self._dirty = False
        if self._file is not None:
            with contextlib.suppress(OSError, ValueError):
                loaded = json.loads(self._file.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self._entries = loaded

    def sha256(self, path: Path) -> str:
        resolved = path.resolve()
        stat = resolved.stat()
        key = str(resolved)
        entry = self._entries.get(key)
        if (
            isinstance(entry, dict)
            and entry.get("size") == stat.st_size
            and entry.get("mtime_ns") == stat.st_mtime_ns
            and isinstance(entry.get("sha256"), str)
        ):
            return str(entry["sha256"])
        sha = file_sha256(resolved)
        self._entries[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha}
        self._dirty = True
        return sha

    def save(self) -> None:
        if self._file is None or not self._dirty:
            return
        with contextlib.suppress(OSError):
            self._file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".file-sha256-", dir=self._file.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(self._entries, handle, sort_keys=True)
            os.replace(tmp, self._file)
        self._dirty = False


def tree_sha256(folder: Path, digest: Callable[[Path], str]) -> list[list[str]]:
    """(relative posix path, sha256) of every non-hidden file under ``folder``, sorted."""
    out: list[list[str]] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            out.append([rel.as_posix(), digest(path)])
    return out


# -- values -------------------------------------------------------------------------------


def fingerprint_value(value: Any) -> str:
    """A sha256 (hex) of ``value``'s content, the same in every process and platform.

    Canonical encoding, each part tagged with its type: numpy arrays by dtype,
    shape and bytes (object arrays element by element); mappings by sorted keys;
    lists and tuples in order (a tuple and a list with the same items hash the
    same, as JSON would keep them); sets sorted; ints, floats (exact bits), str,
    bytes, None; pandas DataFrames/Series by column names, dtypes, index and
    values; torch tensors through numpy (torch is never imported for a value that
    is not a tensor); ``datasets.Dataset`` by its features and its rows' content,
    column by column in fixed batches of rows (content, not ``_fingerprint``,
    which follows transforms and file names rather than data); dataclasses by
    field; paths by the content of the file (or every file of a folder).

    Example::

        assert fingerprint_value({"x": [1, 2]}) == fingerprint_value({"x": (1, 2)})
    """
    return fingerprint_with(value, file_sha256)


def fingerprint_with(value: Any, file_digest: Callable[[Path], str]) -> str:
    """:func:`fingerprint_value`, hashing the files of paths with ``file_digest``."""
    digest = hashlib.sha256()
    Encoder(digest, file_digest).feed(value)
    return digest.hexdigest()


class Encoder:
    """Feeds a canonical, type-tagged encoding of a value into a hash object."""

    def __init__(self, digest: Any, file_digest: Callable[[Path], str]) -> None:
        self.h = digest
        self.file_digest = file_digest

    def tag(self, tag: bytes, payload: bytes = b"") -> None:
        self.h.update(tag + str(len(payload)).encode() + b":" + payload)

    def feed(self, value: Any) -> None:
        np = sys.modules.get("numpy")
        if value is None:
            self.tag(b"N")
        elif isinstance(value, bool):
            self.tag(b"B", b"1" if value else b"0")
        elif isinstance(value, int):
            self.tag(b"I", str(value).encode())
        elif isinstance(value, float):
            self.tag(b"F", float.hex(value).encode())
        elif isinstance(value, complex):
            self.tag(b"C", f"{value.real.hex()},{value.imag.hex()}".encode())
        elif isinstance(value, str):
            self.tag(b"S", value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, (bytes, bytearray, memoryview)):
            self.tag(b"Y", bytes(value))
        elif isinstance(value, PurePath):
            self.feed_path(Path(value))
        elif np is not None and isinstance(value, (np.ndarray, np.generic)):
            self.feed_array(value)
        elif self.feed_library_value(value):
            pass
        elif isinstance(value, Mapping):
            items = sorted(((self.sub_digest(k), k, v) for k, v in value.items()), key=_first)
            self.tag(b"D", str(len(items)).encode())
            for key_digest, _, item in items:
                self.h.update(key_digest)
                self.feed(item)
        elif isinstance(value, (list, tuple)):
            self.tag(b"L", str(len(value)).encode())
            for item in value:
                self.feed(item)
        elif isinstance(value, (set, frozenset)):
            self.tag(b"Z", str(len(value)).encode())
            for item_digest in sorted(self.sub_digest(item) for item in value):
                self.h.update(item_digest)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            self.tag(b"K", type(value).__qualname__.encode())
            for f in dataclasses.fields(value):
                self.tag(b"S", f.name.encode())
                self.feed(getattr(value, f.name))
        elif hasattr(value, "__array__"):
            import numpy

            self.feed_array(numpy.asarray(value))
        else:
            raise TypeError(
                f"fingerprint_value: cannot fingerprint a {type(value).__module__}."
                f"{type(value).__qualname__}; return numpy arrays, tensors, data frames, "
                "datasets, lists, dicts, numbers or strings from the data loader"
            )

    def sub_digest(self, value: Any) -> bytes:
        digest = hashlib.sha256()
        Encoder(digest, self.file_digest).feed(value)
        return digest.digest()

    def feed_path(self, path: Path) -> None:
        if path.is_file():
            self.tag(b"P", self.file_digest(path).encode())
        elif path.is_dir():
            tree = tree_sha256(path, self.file_digest)
            self.tag(b"Q", json.dumps(tree, separators=(",", ":")).encode())
        else:
            raise DataError(f"fingerprint_value: {path} does not exist")

    def feed_array(self, value: Any) -> None:
        import numpy as np

        arr = np.asarray(value)
        shape = ",".join(str(n) for n in arr.shape).encode()
        if arr.dtype.hasobject:
            self.tag(b"O", shape)
            for item in arr.reshape(-1):
                self.feed(item)
            return
        if arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        dtype = str(arr.dtype.descr) if arr.dtype.names else arr.dtype.str
        self.tag(b"A", dtype.encode() + b"|" + shape)
        self.h.update(np.ascontiguousarray(arr).reshape(-1).view(np.uint8))

    def feed_library_value(self, value: Any) -> bool:
        """Tensors, data frames and datasets, recognised without importing their library."""
        tm = sys.modules.get("torch")
        if tm is not None and isinstance(value, tm.Tensor):
            tensor = value.detach().cpu().resolve_conj().resolve_neg()
            if tensor.layout != tm.strided:
                tensor = tensor.to_dense()
            self.tag(b"T", str(tensor.dtype).encode())
            if tensor.dtype == tm.bfloat16:
                tensor = tensor.view(tm.int16)
            self.feed_array(tensor.contiguous().numpy())
            return True
        module = type(value).__module__
        if module.startswith("pandas"):
            return self.feed_pandas(value)
        ds = sys.modules.get("datasets")
        if ds is not None and isinstance(value, ds.Dataset):
            self.feed_dataset(value)
            return True
        if ds is not None and isinstance(value, ds.IterableDataset):
            raise TypeError(
                "fingerprint_value: an IterableDataset (streaming) has no fixed content to "
                "fingerprint; load it without streaming"
            )
        return False

    def feed_pandas(self, value: Any) -> bool:
        name = type(value).__name__
        if name == "DataFrame":
            self.tag(b"PF", str(value.shape).encode())
            self.feed(list(value.columns))
            self.feed([str(t) for t in value.dtypes])
            self.feed_array(value.index.to_numpy())
            for position in range(value.shape[1]):
                self.feed_array(value.iloc[:, position].to_numpy())
            return True
        if name == "Series":
            self.tag(b"PS", str(value.dtype).encode())
            self.feed(value.name)
            self.feed_array(value.index.to_numpy())
            self.feed_array(value.to_numpy())
            return True
        if name.endswith("Index"):
            self.tag(b"PI")
            self.feed_array(value.to_numpy())
            return True
        return False

    def feed_dataset(self, dataset: Any) -> None:
        self.tag(b"HD", str(dataset.num_rows).encode())
        features = json.dumps(dataset.features.to_dict(), sort_keys=True, default=str)
        self.tag(b"S", features.encode())
        for batch in dataset.with_format("arrow").iter(batch_size=DATASET_BATCH):
            for name in batch.column_names:
                column = batch.column(name).combine_chunks()
                self.tag(b"S", name.encode())
                if column.null_count:
                    self.feed_array(column.is_null().to_numpy(zero_copy_only=False))
                self.feed_arrow_column(column)

    def feed_arrow_column(self, column: Any) -> None:
        """One Arrow array. Strings and bytes are hashed from their buffers (lengths, then
        the bytes they span), which is many times faster than element by element; other
        types go through numpy."""
        import numpy as np

        kind = str(column.type)
        large = kind in ("large_string", "large_binary")
        if kind not in ("string", "binary", "large_string", "large_binary"):
            self.feed_array(column.to_numpy(zero_copy_only=False))
            return
        self.tag(b"AS", str(len(column)).encode())
        if len(column) == 0:
            return
        _, offsets_buffer, data_buffer = column.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if large else np.int32)
        offsets = offsets[column.offset : column.offset + len(column) + 1].astype(np.int64)
        self.feed_array(np.diff(offsets))
        if data_buffer is not None:
            self.h.update(memoryview(data_buffer)[int(offsets[0]) : int(offsets[-1])])


def _first(item: tuple[bytes, Any, Any]) -> bytes:
    return item[0]
