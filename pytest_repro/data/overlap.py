"""The train/test overlap check: how many rows of one split also occur in another.

:func:`train_test_overlap` compares rows by a hash of their content (numpy arrays,
tensors and data frames as one common dtype; other rows through the fingerprint
encoding) and returns an :class:`OverlapReport` that reads as a sentence.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pytest_repro.data.fingerprint import DATASET_BATCH, Encoder, file_sha256


@dataclass(frozen=True, slots=True, kw_only=True)
class OverlapReport:
    """How many rows of split ``b`` also occur in split ``a``."""

    names: tuple[str, str]
    n_a: int
    n_b: int
    count: int
    fraction: float
    examples: tuple[int, ...] = ()  # indices into b, at most five

    @property
    def overlap(self) -> int:
        """The same as ``count``."""
        return self.count

    def __str__(self) -> str:
        a, b = self.names
        if not self.count:
            return f"no {b} row occurs in {a} ({self.n_b} {b} rows, {self.n_a} {a} rows)"
        shown = ", ".join(str(i) for i in self.examples)
        return (
            f"{self.count} of {self.n_b} {b} rows ({self.fraction:.1%}) also occur in {a}, "
            f"e.g. {b} rows {shown}"
        )

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["names"] = list(self.names)
        data["examples"] = list(self.examples)
        return data


def train_test_overlap(
    a: Any, b: Any, *, names: tuple[str, str] = ("train", "test")
) -> OverlapReport:
    """Count the rows of ``b`` that also occur (exactly) in ``a``.

    Rows are: the first axis of numpy arrays, tensors and data frames (compared as
    one common dtype, ``-0.0`` equal to ``0.0``); the items of lists; the rows of a
    ``datasets.Dataset``. Pass features only (not ``(X, y)`` pairs) to find the same
    input with any label::

        report = train_test_overlap(X_train, X_test)
        assert report.count == 0, str(report)
    """
    keys_a, keys_b = _row_keys_pair(a, b)
    seen = set(keys_a)
    hits = [index for index, key in enumerate(keys_b) if key in seen]
    n_b = len(keys_b)
    return OverlapReport(
        names=names,
        n_a=len(keys_a),
        n_b=n_b,
        count=len(hits),
        fraction=len(hits) / n_b if n_b else 0.0,
        examples=tuple(hits[:5]),
    )


def _as_numeric_array(value: Any) -> Any:
    """A numeric numpy array for array-like values, else None."""
    np = sys.modules.get("numpy")
    if np is None:
        return None
    tm = sys.modules.get("torch")
    if tm is not None and isinstance(value, tm.Tensor):
        value = value.detach().cpu().numpy()
    elif type(value).__module__.startswith("pandas") and hasattr(value, "to_numpy"):
        value = value.to_numpy()
    if not isinstance(value, np.ndarray) or value.dtype.hasobject or value.ndim == 0:
        return None
    return value


def _row_keys_pair(a: Any, b: Any) -> tuple[list[bytes], list[bytes]]:
    arr_a, arr_b = _as_numeric_array(a), _as_numeric_array(b)
    if arr_a is not None and arr_b is not None:
        import numpy as np

        common = np.result_type(arr_a.dtype, arr_b.dtype)
        return _array_row_keys(arr_a, common), _array_row_keys(arr_b, common)
    return list(_generic_row_keys(a)), list(_generic_row_keys(b))


def _array_row_keys(arr: Any, dtype: Any) -> list[bytes]:
    import numpy as np

    rows = np.ascontiguousarray(arr.astype(dtype, copy=False).reshape(len(arr), -1))
    if rows.dtype.kind in "fc":
        rows = rows + rows.dtype.type(0)  # -0.0 -> 0.0
    return [hashlib.blake2b(row.view(np.uint8), digest_size=16).digest() for row in rows]


def _generic_row_keys(value: Any) -> Iterator[bytes]:
    ds = sys.modules.get("datasets")
    if ds is not None and isinstance(value, ds.Dataset):
        for batch in value.with_format("arrow").iter(batch_size=DATASET_BATCH):
            for row in batch.to_pylist():
                yield _row_digest(row)
        return
    if type(value).__module__.startswith("pandas") and hasattr(value, "itertuples"):
        for row in value.itertuples(index=False, name=None):
            yield _row_digest(list(row))
        return
    for row in value:
        yield _row_digest(row)


def _row_digest(row: Any) -> bytes:
    digest = hashlib.blake2b(digest_size=16)
    Encoder(digest, file_sha256).feed(row)
    return digest.digest()
