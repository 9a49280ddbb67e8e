"""Pausing Python's cyclic garbage collector around a burst of allocations.

Reading a large spec or a session's stored results makes tens of thousands of small
objects that all live on and form no garbage cycles; the collector, triggered by their
count alone, would walk every object of the session several times meanwhile. Paused, it
looks at them once, at its next run after the burst. Reference counting frees everything
as usual; only the search for cycles waits.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic collector off for the block, and back as it was (nested blocks too)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


__all__ = ["collector_paused"]
