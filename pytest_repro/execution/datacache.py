"""Loaded data kept warm in a worker, without changing what any run computes.

Loading a paper's data (generating MNIST-1D, reading a CSV) can cost more than a smoke
stage or a sanity check trains. A worker runs many of them, often with the same seed, so
it keeps what ``ctx.data(name)`` loaded and hands later runs a deep copy.

A cached value stands in for a load only when the load would have happened in exactly
the same state: the same source, and the same state of the global random generators
(python, numpy, torch) when ``ctx.data`` is called — a loader may draw from them. After a
hit the generators are put where the original load left them, so every draw the run
makes afterwards is the one it would have made. Anything else loads afresh. Hugging Face
datasets are not kept (``datasets`` has its own cache, and its objects are memory-mapped).

Standard library at import; the seeding helpers import numpy (and read torch) when used.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

#: Sources kept per worker (least recently used go first).
MAX_ENTRIES = 8


@dataclass(slots=True)
class _Entry:
    value: Any
    fingerprint: dict[str, Any]
    before: str
    after: Any


def rng_digest(state: Any) -> str:
    """A digest of the global generators' state (python, numpy, torch).

    Torch's states are hashed by their bytes: pickling a tensor is not deterministic.
    """
    digest = hashlib.sha256(pickle.dumps((state.python, state.numpy), protocol=4))
    for tensor in [state.torch, *(state.torch_cuda or [])]:
        if tensor is not None:
            digest.update(bytes(tensor.cpu().numpy().tobytes()))
    return digest.hexdigest()


class DataCache:
    """A worker's loaded data, keyed by source and the generators' state at the load."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.hits = 0

    @staticmethod
    def key(source: dict[str, Any], paper_dir: str) -> str | None:
        """The cache key of a serialised source, or None for sources that are not kept."""
        if source.get("kind") == "hf":
            return None
        return json.dumps([paper_dir, source], sort_keys=True, default=str)

    def load(self, key: str | None, load: Any) -> tuple[Any, dict[str, Any], bool]:
        """``(value, fingerprint json, hit)``: the cached copy when the state allows, else
        ``load()`` (which returns ``(value, fingerprint json)``), remembered for next time."""
        from pytest_repro.seeding import capture_rng_state, restore_rng_state

        if key is None:
            value, fingerprint = load()
            return value, fingerprint, False
        before = rng_digest(capture_rng_state())
        entry = self._entries.get(key)
        if entry is not None and entry.before == before:
            value = copy.deepcopy(entry.value)
            restore_rng_state(entry.after)
            self._entries.move_to_end(key)
            self.hits += 1
            return value, dict(entry.fingerprint), True
        value, fingerprint = load()
        try:
            kept = copy.deepcopy(value)
        except Exception:  # not copyable: load it each time
            return value, fingerprint, False
        self._entries[key] = _Entry(kept, dict(fingerprint), before, capture_rng_state())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return value, fingerprint, False


__all__ = ["DataCache", "rng_digest"]
