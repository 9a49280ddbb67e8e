"""Per-cache-key locks, so that concurrent workers compute a run once."""

from __future__ import annotations

import hashlib
from pathlib import Path

import filelock

from pytest_repro.errors import LedgerError


def run_lock(lock_dir: Path, cache_key: str, *, timeout: float = -1) -> filelock.BaseFileLock:
    """An inter-process lock for ``cache_key``: a lock file under ``lock_dir``.

    When two pytest-xdist workers (or two sessions) need the same run, one computes it
    while the other waits, then finds it in the ledger::

        with run_lock(Path(".repro/locks"), key):   # 1. acquire (waits while another holds it)
            record = ledger.get(key)                # 2. check the ledger
            if record is None:
                record = compute()                  # 3. compute if missing
                ledger.put(record)                  # 4. put
        # 5. released on leaving the block, also on error

    Check the ledger *after* acquiring: the holder may just have put the run. A run
    that did not finish ``ok`` is not returned by ``get``, so the waiter then runs it
    again; look at ``ledger.records(cache_keys=[key])`` first if failures should not be
    retried. The lock is released when its process dies, so a killed holder never
    blocks the others. Lock files stay (one empty file per key) and may be deleted
    whenever no session runs. ``timeout`` is in seconds (-1: wait as long as it takes);
    ``acquire`` raises ``filelock.Timeout`` when it runs out.
    """
    lock_dir = Path(lock_dir)
    try:
        lock_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LedgerError(
            f"cannot create the run lock folder {lock_dir} ({exc}); fix its permissions, "
            "or point pytest-repro at a writable place with --repro-ledger=PATH"
        ) from exc
    digest = hashlib.sha256(cache_key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return filelock.FileLock(lock_dir / f"run-{digest}.lock", timeout=timeout)
