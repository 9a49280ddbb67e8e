"""``paper.yaml`` files as pytest collectors; claims and sanity checks as items.

A claim is one test named by its id, so ``-k``, ``--lf``, ``-x`` and ``--co``
behave as usual. A malformed ``paper.yaml`` becomes one failing item that prints
its problems with file and line — it does not abort the collection of other
papers, as a collection error would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.errors import SpecError
from pytest_repro.report.format import first_sentence
from pytest_repro.spec import load_spec
from pytest_repro.spec.schema import Claim, PaperSpec, SanityCheck

if TYPE_CHECKING:
    from pytest_repro.results import ClaimResult
    from pytest_repro.session import ReproSession


class ClaimOutcome(Exception):
    """Raised by a claim whose verdict fails the test; carries the result for the failure block."""

    def __init__(self, result: ClaimResult, block: str) -> None:
        super().__init__(result.label)
        self.result = result
        self.block = block


class Gap(ClaimOutcome):
    pass


class Disagreement(ClaimOutcome):
    pass


class Inconclusive(ClaimOutcome):
    pass


class ClaimError(ClaimOutcome):
    pass


class SanityFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def display_path(path: Path, config: pytest.Config) -> str:
    try:
        return path.relative_to(config.rootpath).as_posix()
    except ValueError:
        return str(path)


class PaperFile(pytest.File):
    """One ``paper.yaml``: yields its sanity checks, then its claims."""

    def collect(self) -> Iterator[pytest.Item]:
        display = display_path(self.path, self.config)
        try:
            spec = load_spec(self.path, display=display)
        except SpecError as exc:
            yield SpecErrorItem.from_parent(self, name="paper.yaml", error=exc)
            return
        for check in spec.sanity:
            yield SanityItem.from_parent(self, name=f"sanity[{check.name}]", spec=spec, check=check)
        for claim in spec.claims:
            yield ClaimItem.from_parent(self, name=claim.id, spec=spec, claim=claim)


class _ReproItem(pytest.Item):
    @property
    def repro(self) -> ReproSession:
        from pytest_repro.session import SESSION_KEY

        return self.config.stash[SESSION_KEY]


class SpecErrorItem(_ReproItem):
    """Stands for a ``paper.yaml`` that cannot be used; fails with its problems."""

    def __init__(self, *, error: SpecError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error
        self.add_marker(pytest.mark.repro)

    def runtest(self) -> None:
        raise self.error

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SpecError):
            count = len(excinfo.value.problems)
            head = f"{excinfo.value.path} has {count} problem{'s' if count != 1 else ''}; none of its claims can run:"
            return head + "\n" + str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, max(0, self.error.line - 1), "paper.yaml"


class ClaimItem(_ReproItem):
    """One claim of a paper; its verdict decides the outcome."""

    def __init__(self, *, spec: PaperSpec, claim: Claim, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.claim = claim
        self.result: ClaimResult | None = None
        self.add_marker(pytest.mark.repro)
        self.add_marker(getattr(pytest.mark, f"repro_{claim.kind}"))
        if claim.expect in ("gap", "disagreement") and claim.hypothesis:
            raises = Gap if claim.expect == "gap" else Disagreement
            self.add_marker(
                pytest.mark.xfail(
                    reason=f"expected {claim.expect}: {first_sentence(claim.hypothesis)}",
                    raises=raises,
                    strict=False,
                )
            )

    def setup(self) -> None:
        self.repro.setup_claim(self)

    def runtest(self) -> None:
        self.repro.run_claim(self)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        value = excinfo.value
        if isinstance(value, ClaimOutcome):
            return value.block
        if isinstance(value, SanityFailed):
            return value.message
        if isinstance(value, (SpecError,)) or type(value).__module__.startswith("pytest_repro"):
            return f"{self.claim.loc}: claim {self.claim.id}: {value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.claim.loc.line - 1, f"claim {self.claim.id}"


class SanityItem(_ReproItem):
    """A cheap check that the pipeline can learn at all, run before the claims."""

    def __init__(self, *, spec: PaperSpec, check: SanityCheck, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.check = check
        self.add_marker(pytest.mark.repro)
        self.add_marker(pytest.mark.repro_sanity)

    def runtest(self) -> None:
        failure = self.repro.sanity(self.spec, self.check)
        if failure is not None:
            raise SanityFailed(
                f"{self.check.loc}: sanity check {self.check.name} failed: {failure}"
            )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, SanityFailed):
            return excinfo.value.message
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.check.loc.line - 1, f"sanity {self.check.name}"
