"""Data pins held against recorded runs.

A ``fingerprint:`` pin is checked when a run loads its data; a run reused from the ledger
loaded it earlier, so its recorded fingerprint is compared with the pin as the spec
writes it now.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_repro.errors import DataError
from pytest_repro.records import RunRecord
from pytest_repro.spec.schema import PaperSpec


def pin_broken(spec: PaperSpec, record: RunRecord) -> str | None:
    """Why a recorded run breaks a ``fingerprint:`` pin of its paper's data, or None.

    A pin is checked when a run loads the data; a run reused from the ledger loaded it
    earlier, so its recorded fingerprint is held against the pin as it is written now
    (a pin added or changed after the run must not pass on the strength of old runs).
    """
    loaded = record.evidence.get("data")
    if not isinstance(loaded, Mapping):
        return None
    for source in spec.data:
        found = loaded.get(source.name)
        if source.fingerprint is None or not isinstance(found, Mapping):
            continue
        actual = str(found.get("fingerprint") or "")
        from pytest_repro.data.kinds import check_pin  # the data sources: only for a pin

        try:
            check_pin(
                source.fingerprint,
                actual,
                loc=source.loc,
                where=f"data.{source.name}.fingerprint",
                what=f"the fingerprint of the data run {record.run_id} loaded",
                fix=f"if the pin is wrong, write fingerprint: {actual}; if the data changed "
                "since, rerun (--repro-rerun) to load it again",
            )
        except DataError as exc:
            return str(exc)
    return None


__all__ = ["pin_broken"]
