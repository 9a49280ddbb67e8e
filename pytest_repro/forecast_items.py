"""The forecast of the items an xdist worker collected, planned on the controller.

Under xdist the controller collects no items, so it cannot plan them as a serial session
does at collection. The workers report the node ids they collected; this module loads
those ids' ``paper.yaml`` files (read-only: nothing runs, no ledger is created) and hands
their claims and sanity checks to :meth:`~pytest_repro.runtime.Runtime.forecast`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import pytest

from pytest_repro.collect import display_path
from pytest_repro.errors import ReproError

if TYPE_CHECKING:
    from pytest_repro.runtime import Runtime
    from pytest_repro.spec.schema import Claim, PaperSpec, SanityCheck


def _by_file(ids: Sequence[str]) -> dict[str, list[str]]:
    """``papers/p/paper.yaml::acc`` → ``{"papers/p/paper.yaml": ["acc"]}``, in order."""
    out: dict[str, list[str]] = {}
    for nodeid in ids:
        path, sep, name = nodeid.partition("::")
        if sep and path.endswith((".yaml", ".yml")):
            out.setdefault(path, []).append(name)
    return out


def forecast_for_ids(
    config: pytest.Config, runtime: Runtime, ids: Sequence[str], *, processes: int = 1
) -> str | None:
    """The forecast line over the claims and sanity checks among ``ids``, or None when
    there are none (a session of plain tests); runs spread over ``processes`` xdist
    workers, each with its own ``--repro-workers``."""
    from pytest_repro.errors import SpecError
    from pytest_repro.spec import load_spec

    files = _by_file(ids)
    if not files:
        return None
    try:
        formats = runtime.metric_formats()
    except ReproError:
        return None
    groups: list[tuple[PaperSpec, list[Claim | SanityCheck]]] = []
    for relative, names in files.items():
        path = config.rootpath / relative
        try:
            spec = load_spec(
                path, display=display_path(path, config.rootpath), metric_formats=formats
            )
        except (SpecError, OSError):
            continue
        wanted = set(names)
        whats: list[Claim | SanityCheck] = [
            check for check in spec.sanity if f"sanity[{check.name}]" in wanted
        ]
        whats += [claim for claim in spec.claims if claim.id in wanted]
        if whats:
            groups.append((spec, whats))
    return runtime.forecast(groups, processes=processes) if groups else None


__all__ = ["forecast_for_ids"]
