"""The storage interface for runs, and wrappers that compose stores.

``RunStore`` is small on purpose: look runs up by cache key or run id, list them,
write them, and keep the store tidy. :class:`~pytest_repro.ledger.SQLiteLedger` is the
implementation on disk; :class:`ReadOnlyStore` and :class:`MultiplexedStore` compose
stores, e.g. a ledger pulled from CI consulted read-only behind the local one::

    local = SQLiteLedger(Path(".repro/ledger.sqlite"))
    shared = ReadOnlyStore(SQLiteLedger(Path("ci-ledger.sqlite")))
    with MultiplexedStore(local, shared) as store:
        record = store.get(cache_key)      # local first, then CI's
        store.put(new_record)              # always into the local ledger
"""

from __future__ import annotations

import abc
import dataclasses
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Final, TypeVar

from pytest_repro.errors import LedgerError
from pytest_repro.records import RunRecord, dumps
from pytest_repro.vocab import RUN_STATUSES

#: Statuses :meth:`RunStore.prune` deletes by default: every finished run that is not ok.
PRUNABLE_STATUSES: Final[tuple[str, ...]] = (
    "failed",
    "timeout",
    "killed",
    "crashed",
    "interrupted",
)

#: How long a run owned by another host may stay "running" before it counts as interrupted.
DEFAULT_MAX_AGE: Final = 24 * 3600.0

_S = TypeVar("_S", bound="RunStore")


class RunStore(abc.ABC):
    """Where runs are kept: a mapping from run id to :class:`RunRecord`, indexed by cache key.

    Reads (:meth:`get`, :meth:`get_many`) return only runs whose status is ``ok``, the
    newest (latest ``started_at``) when a key has several. Every write is atomic: a
    record is stored whole or not at all. A store is a context manager that closes it.
    """

    # -- reads -------------------------------------------------------------------------------
    def get(self, cache_key: str) -> RunRecord | None:
        """The newest ``ok`` run stored under ``cache_key``, or None."""
        return self.get_many([cache_key]).get(cache_key)

    @abc.abstractmethod
    def get_many(self, cache_keys: Iterable[str]) -> dict[str, RunRecord]:
        """The newest ``ok`` run of each key that has one; keys without one are left out."""

    @abc.abstractmethod
    def by_id(self, run_id: str) -> RunRecord | None:
        """The run ``run_id`` whatever its status, or None."""

    @abc.abstractmethod
    def records(
        self,
        *,
        paper_path: str | None = None,
        paper_id: str | None = None,
        cache_keys: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> Iterator[RunRecord]:
        """Every run matching all the given filters (None: no filter), in start order."""

    # -- writes ------------------------------------------------------------------------------
    @abc.abstractmethod
    def put(self, record: RunRecord) -> None:
        """Store ``record``, replacing the run with the same ``run_id`` if there is one."""

    def put_many(self, records: Iterable[RunRecord]) -> int:
        """Store several records (atomically where the store can); returns how many."""
        count = 0
        for record in records:
            self.put(record)
            count += 1
        return count

    @abc.abstractmethod
    def begin(self, record: RunRecord) -> RunRecord:
        """Store ``record`` as ``running``, owned by the calling process, before it runs.

        ``started_at`` is set to now where it is 0. Returns the stored record; a later
        :meth:`put` of the finished record with the same ``run_id`` replaces it. A run
        whose process dies before that stays visible and :meth:`recover_interrupted`
        marks it ``interrupted``.
        """

    @abc.abstractmethod
    def recover_interrupted(self, *, max_age: float = DEFAULT_MAX_AGE) -> list[str]:
        """Mark ``running`` runs whose owner process is gone as ``interrupted``.

        A run owned on this host is gone when its pid is dead (or now belongs to another
        process); a run owned on another host when it started more than ``max_age``
        seconds ago. Output tail and error text are kept. Returns the run ids marked.
        """

    @abc.abstractmethod
    def prune(
        self,
        keep_per_key: int = 1,
        statuses: Iterable[str] = PRUNABLE_STATUSES,
        older_than: float | None = None,
    ) -> int:
        """Delete old runs with one of ``statuses``; returns how many were deleted.

        Per cache key, the newest ``keep_per_key`` runs among those statuses stay; with
        ``older_than`` (seconds) only runs that started longer ago than that go. The
        newest ``ok`` run of a key is never deleted, and ``running`` cannot be pruned.
        """

    # -- lifetime ----------------------------------------------------------------------------
    @abc.abstractmethod
    def close(self) -> None:
        """Release the store (and the stores it wraps). Closing twice is harmless."""

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class ReadOnlyStore(RunStore):
    """A store whose reads pass through to ``store`` and whose writes raise :class:`LedgerError`.

    For ledgers that must not change from here, e.g. one downloaded from CI.
    Closing it closes ``store``.
    """

    def __init__(self, store: RunStore) -> None:
        self._store = store

    def __repr__(self) -> str:
        return f"ReadOnlyStore({self._store!r})"

    def get_many(self, cache_keys: Iterable[str]) -> dict[str, RunRecord]:
        return self._store.get_many(cache_keys)

    def by_id(self, run_id: str) -> RunRecord | None:
        return self._store.by_id(run_id)

    def records(
        self,
        *,
        paper_path: str | None = None,
        paper_id: str | None = None,
        cache_keys: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> Iterator[RunRecord]:
        return self._store.records(
            paper_path=paper_path, paper_id=paper_id, cache_keys=cache_keys, statuses=statuses
        )

    def put(self, record: RunRecord) -> None:
        raise self._refuse("put")

    def put_many(self, records: Iterable[RunRecord]) -> int:
        raise self._refuse("put_many")

    def begin(self, record: RunRecord) -> RunRecord:
        raise self._refuse("begin")

    def recover_interrupted(self, *, max_age: float = DEFAULT_MAX_AGE) -> list[str]:
        raise self._refuse("recover_interrupted")

    def prune(
        self,
        keep_per_key: int = 1,
        statuses: Iterable[str] = PRUNABLE_STATUSES,
        older_than: float | None = None,
    ) -> int:
        raise self._refuse("prune")

    def close(self) -> None:
        self._store.close()

    def _refuse(self, operation: str) -> LedgerError:
        return LedgerError(
            f"{self!r} is read-only: {operation}() is refused. Write to a writable ledger, "
            "e.g. MultiplexedStore(local_ledger, ReadOnlyStore(shared_ledger))."
        )


class MultiplexedStore(RunStore):
    """Reads look in ``primary`` then each fallback in order; writes go to ``primary`` only.

    A run id found in several stores is taken from the first. Closing it closes them all.
    """

    def __init__(self, primary: RunStore, *fallbacks: RunStore) -> None:
        self.primary = primary
        self.stores: tuple[RunStore, ...] = (primary, *fallbacks)

    def __repr__(self) -> str:
        return f"MultiplexedStore({', '.join(map(repr, self.stores))})"

    def get_many(self, cache_keys: Iterable[str]) -> dict[str, RunRecord]:
        missing = list(dict.fromkeys(check_keys(cache_keys)))
        found: dict[str, RunRecord] = {}
        for store in self.stores:
            if not missing:
                break
            found.update(store.get_many(missing))
            missing = [key for key in missing if key not in found]
        return found

    def by_id(self, run_id: str) -> RunRecord | None:
        for store in self.stores:
            record = store.by_id(run_id)
            if record is not None:
                return record
        return None

    def records(
        self,
        *,
        paper_path: str | None = None,
        paper_id: str | None = None,
        cache_keys: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
    ) -> Iterator[RunRecord]:
        keys = None if cache_keys is None else list(check_keys(cache_keys))
        wanted = None if statuses is None else normalize_statuses(statuses)
        seen: set[str] = set()
        merged: list[RunRecord] = []
        for store in self.stores:
            for record in store.records(
                paper_path=paper_path, paper_id=paper_id, cache_keys=keys, statuses=wanted
            ):
                if record.run_id not in seen:
                    seen.add(record.run_id)
                    merged.append(record)
        merged.sort(key=lambda record: record.started_at)  # stable: earlier stores first
        return iter(merged)

    def put(self, record: RunRecord) -> None:
        self.primary.put(record)

    def put_many(self, records: Iterable[RunRecord]) -> int:
        return self.primary.put_many(records)

    def begin(self, record: RunRecord) -> RunRecord:
        return self.primary.begin(record)

    def recover_interrupted(self, *, max_age: float = DEFAULT_MAX_AGE) -> list[str]:
        return self.primary.recover_interrupted(max_age=max_age)

    def prune(
        self,
        keep_per_key: int = 1,
        statuses: Iterable[str] = PRUNABLE_STATUSES,
        older_than: float | None = None,
    ) -> int:
        return self.primary.prune(keep_per_key, statuses, older_than)

    def close(self) -> None:
        errors: list[BaseException] = []
        for store in self.stores:
            try:
                store.close()
            except Exception as exc:  # close the others before reporting
                errors.append(exc)
        if errors:
            raise errors[0]


def check_keys(cache_keys: Iterable[str]) -> Iterable[str]:
    """``cache_keys`` unchanged, unless it is one string (a classic slip) -> TypeError."""
    if isinstance(cache_keys, str):
        raise TypeError(f"expected an iterable of cache keys, got the string {cache_keys!r}")
    return cache_keys


def normalize_statuses(statuses: Iterable[str]) -> tuple[str, ...]:
    """``statuses`` as a tuple, each checked against :data:`~pytest_repro.records.RUN_STATUSES`."""
    if isinstance(statuses, str):
        statuses = (statuses,)
    wanted = tuple(dict.fromkeys(statuses))
    unknown = [s for s in wanted if s not in RUN_STATUSES]
    if unknown:
        raise ValueError(f"unknown run status {unknown[0]!r}; expected one of {RUN_STATUSES}")
    return wanted


def record_problems(record: RunRecord) -> list[str]:
    """What keeps ``record`` from being stored and read back exactly (empty: nothing).

    Checks field types, that timestamps are finite, and that the JSON fields serialize
    (numpy scalars, tensors and the like must be converted to Python numbers first).
    """
    data: dict[str, object] = {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}
    problems: list[str] = []
    for name in ("run_id", "cache_key"):
        if not isinstance(data[name], str) or not data[name]:
            problems.append(f"{name} must be a non-empty string, got {data[name]!r}")
    for name in ("paper_id", "paper_path", "variant", "output_tail"):
        if not isinstance(data[name], str):
            problems.append(f"{name} must be a string, got {type(data[name]).__name__}")
    for name in ("error", "run_dir"):
        if data[name] is not None and not isinstance(data[name], str):
            problems.append(f"{name} must be a string or null, got {type(data[name]).__name__}")
    if not isinstance(data["seed"], int) or isinstance(data["seed"], bool):
        problems.append(f"seed must be an integer, got {data['seed']!r}")
    if data["status"] not in RUN_STATUSES:
        problems.append(f"status must be one of {RUN_STATUSES}, got {data['status']!r}")
    if not isinstance(data["smoke"], bool):
        problems.append(f"smoke must be true or false, got {data['smoke']!r}")
    for name in ("started_at", "ended_at"):
        value = data[name]
        if (
            not isinstance(value, (int, float))
            or isinstance(value, bool)
            or not math.isfinite(value)
        ):
            problems.append(f"{name} must be a finite number of seconds, got {value!r}")
    for name in ("config", "evidence", "examples"):
        if not isinstance(data[name], Mapping):
            problems.append(f"{name} must be a mapping, got {type(data[name]).__name__}")
    examples = data["examples"]
    if isinstance(examples, Mapping) and not all(
        isinstance(v, Sequence) and not isinstance(v, str) for v in examples.values()
    ):
        problems.append("examples must map each key to a list of numbers")
    series = data["series"]
    if not isinstance(series, Sequence) or not all(isinstance(p, Mapping) for p in series):
        problems.append("series must be a list of mappings (one per logged point)")
    if not problems:
        for name in ("config", "series", "examples", "evidence"):
            try:
                dumps(data[name])
            except (TypeError, ValueError) as exc:
                problems.append(f"{name} is not JSON-serializable: {exc}")
    return problems
