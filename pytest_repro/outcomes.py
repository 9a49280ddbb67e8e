"""How a claim's verdict becomes a pytest outcome, and the exceptions that carry it.

A claim item raises one of these from ``runtest``; pytest then reports it as failed (or
xfailed, when the spec expects the gap), and ``repr_failure`` prints the claim's block.
What each verdict means for pytest is decided by :data:`pytest_repro.vocab.VERDICTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from pytest_repro.vocab import InconclusivePolicy, meaning

if TYPE_CHECKING:
    from pytest_repro.results import ClaimResult


class ClaimOutcome(Exception):
    """A claim whose verdict fails its test; carries the result and its failure block."""

    def __init__(self, result: ClaimResult, block: str) -> None:
        super().__init__(result.label)
        self.result = result
        self.block = block


class Gap(ClaimOutcome):
    """Measurably below the paper (or short of the claimed margin)."""


class Disagreement(ClaimOutcome):
    """Contradicts the claim: a reversed direction with confidence, or far outside."""


class Shortfall(ClaimOutcome):
    """A gap or disagreement on the short side of the paper, as ``expect: shortfall`` says."""


class Inconclusive(ClaimOutcome):
    """The interval is too wide to decide."""


class ClaimError(ClaimOutcome):
    """The claim's runs or inputs could not give a verdict."""


class SanityFailed(Exception):
    """A sanity check found the pipeline broken."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_RAISES: dict[str, type[ClaimOutcome]] = {
    "gap": Gap,
    "disagreement": Disagreement,
    "inconclusive": Inconclusive,
    "shortfall": Shortfall,
}


def expected_exception(expect: str) -> type[ClaimOutcome]:
    """The exception an ``expect:`` verdict raises (what the item's xfail mark waits for)."""
    return _RAISES[expect]


def settle(
    result: ClaimResult, block: str | Callable[[], str], inconclusive: InconclusivePolicy
) -> None:
    """Return for a passing verdict, skip or raise for the others. ``block``, the failure
    text, may be a function: it is then written only for a verdict that raises."""
    what = meaning(result.verdict)
    if what.pytest == "passed":
        return
    if what.pytest == "skipped":
        pytest.skip(result.label)
    if what.pytest == "fail-or-skip" and inconclusive == "skip":
        pytest.skip(result.label)
    text = block() if callable(block) else block
    if result.expect == "shortfall" and result.expected:
        raise Shortfall(result, text)  # what the item's xfail mark waits for
    raise _RAISES.get(result.verdict, ClaimError)(result, text)


__all__ = [
    "ClaimError",
    "ClaimOutcome",
    "Disagreement",
    "Gap",
    "Inconclusive",
    "SanityFailed",
    "Shortfall",
    "expected_exception",
    "settle",
]
