"""Errors raised by pytest-repro.

Every error a user can cause derives from :class:`ReproError`. Where a builtin
exception fits, the subclass inherits it too, so ``except ValueError`` still
works for code that does not know about pytest-repro.

Messages follow one shape: *where* (``papers/x/paper.yaml:14``), *what*
(``claims[2].tolerance=-0.5``), *why it is wrong*, and *what to do*. The pieces
are kept as attributes so tests and reports can read them without parsing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ReproError(Exception):
    """Root of every error pytest-repro raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input file.

    ``path`` and ``line`` say where (line is 1-based; 0 when unknown), ``field``
    names the node as a dotted path (``claims[2].tolerance``), ``message`` says
    what is wrong and ``fix`` says what to do about it.
    """

    path: str
    line: int
    field: str
    message: str
    fix: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        head = (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )
        return f"{head}\n    fix: {self.fix}" if self.fix else head


class SpecError(ReproError, ValueError):
    """A ``paper.yaml`` that cannot be used as written.

    Carries every problem found in the file, so a user fixes them in one pass.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        if not problems:
            raise ValueError("SpecError needs at least one problem")
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def path(self) -> str:
        return self.problems[0].path

    @property
    def line(self) -> int:
        return self.problems[0].line

    @property
    def field(self) -> str:
        return self.problems[0].field


class RunError(ReproError, RuntimeError):
    """A run that did not produce what a claim needs (crash, timeout, missing metric)."""


class MetricError(RunError):
    """A run finished but the claim's metric is missing at the claim's epoch/step, or not finite.

    ``short`` is the gist for one-line labels (``"test_acc never reached epoch 60"``).
    """

    def __init__(self, message: str, short: str = "") -> None:
        super().__init__(message)
        self.short = short or message


class LedgerError(ReproError, OSError):
    """The run ledger cannot be opened or written (unwritable directory, not a ledger)."""


class EnvironmentDrift(ReproError):
    """The installed environment differs from what the paper pins, under ``--repro-env=strict``."""


class DataError(ReproError, ValueError):
    """A data source that cannot be loaded or whose checksum differs from the spec."""


class EnvironmentBuildError(ReproError, RuntimeError):
    """An isolated per-paper environment could not be built (uv failed, lockfile unusable)."""


class StatsError(ReproError, ValueError):
    """Values a statistical method cannot use (too few seeds, non-finite values, bad level)."""


class ReproWarning(UserWarning):
    """Something a reproduction should know but that does not stop it (unpinned revision,
    environment drift under ``--repro-env=warn``, a spread floor applied)."""
