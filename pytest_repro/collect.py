"""``paper.yaml`` files as pytest collectors; claims and sanity checks as items.

A claim is one test named by its id, so ``-k``, ``--lf``, ``-x`` and ``--co``
behave as usual. A malformed ``paper.yaml`` becomes one failing item that prints
its problems with file and line — it does not abort the collection of other
papers, as a collection error would.

Items do their work through the session's :class:`~pytest_repro.runtime.Runtime`
and leave their result in their stash; the report hooks only read it from there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from pytest_repro.errors import ReproError, SpecError
from pytest_repro.keys import (
    CLAIM_RESULT_KEY,
    CONFIG_KEY,
    HEADER_KEY,
    PLAN_KEY,
    RUNTIME_KEY,
    SPEC_PROBLEMS_KEY,
)
from pytest_repro.outcomes import ClaimOutcome, SanityFailed, expected_exception, settle

if TYPE_CHECKING:
    from pytest_repro.results import ClaimResult
    from pytest_repro.runtime import Runtime
    from pytest_repro.spec.claim_nodes import Claim
    from pytest_repro.spec.schema import PaperSpec, SanityCheck


def display_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` where it lies inside, else as it is."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


class PaperFile(pytest.File):
    """One ``paper.yaml``: yields its sanity checks, then its claims."""

    def collect(self) -> Iterator[pytest.Item]:
        from pytest_repro.spec import load_spec

        display = display_path(self.path, self.config.rootpath)
        runtime = self.config.stash[RUNTIME_KEY]
        try:
            formats = runtime.metric_formats()
        except ReproError as exc:  # the installed plugins disagree: nothing to do per paper
            raise self.CollectError(str(exc)) from None
        try:
            spec = load_spec(
                self.path, display=display, metric_formats=formats, trees=runtime.spec_trees()
            )
        except SpecError as exc:
            yield SpecErrorItem.from_parent(self, name="paper.yaml", error=exc)
            return
        if (
            self.config.stash[CONFIG_KEY].audit != "off"
            and (self.path.parent / "paper.md").exists()
        ):
            yield AuditItem.from_parent(self, name="audit", spec=spec)
        for check in spec.sanity:
            yield SanityItem.from_parent(self, name=f"sanity[{check.name}]", spec=spec, check=check)
        for claim in spec.claims:
            yield ClaimItem.from_parent(self, name=claim.id, spec=spec, claim=claim)


class ReproItem(pytest.Item):
    """An item of a ``paper.yaml``."""

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.config.stash[RUNTIME_KEY]
        return runtime

    def plan_and_skip(self, spec: PaperSpec, what: Claim | SanityCheck) -> NoReturn:
        """``--repro-plan``: plan the item's runs, keep the plan, and skip with its label."""
        from pytest_repro.report.escape import plain

        try:
            plan = self.runtime.plan(spec, what)
        except ReproError as exc:
            pytest.skip(plain(f"[plan: cannot plan: {exc}]"))
        self.stash[PLAN_KEY] = plan
        pytest.skip(plan.label())


class SpecErrorItem(ReproItem):
    """Stands for a ``paper.yaml`` that cannot be used; fails with its problems."""

    def __init__(self, *, error: SpecError, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error
        self.add_marker(pytest.mark.repro)
        self.stash[SPEC_PROBLEMS_KEY] = (error.path, tuple(str(p) for p in error.problems))

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


_MARKS = pytest.StashKey[dict[str, pytest.MarkDecorator]]()


def _mark(config: pytest.Config, name: str) -> pytest.MarkDecorator:
    """``pytest.mark.<name>``, one object per session (marks are immutable: a thousand
    claims share two instead of holding two thousand)."""
    marks = config.stash.setdefault(_MARKS, {})
    if name not in marks:
        marks[name] = getattr(pytest.mark, name)
    return marks[name]


class ClaimItem(ReproItem):
    """One claim of a paper; its verdict decides the outcome."""

    def __init__(self, *, spec: PaperSpec, claim: Claim, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        from pytest_repro.report.escape import plain
        from pytest_repro.report.format import first_sentence
        from pytest_repro.results import ClaimHeader

        self.spec = spec
        self.claim = claim
        runtime = self.config.stash.get(RUNTIME_KEY, None)
        header = runtime.header(spec, claim) if runtime is not None else ClaimHeader.of(spec, claim)
        self.stash[HEADER_KEY] = header
        self.add_marker(_mark(self.config, "repro"))
        self.add_marker(_mark(self.config, f"repro_{claim.kind}"))
        smoke = self.config.stash[CONFIG_KEY].smoke
        if claim.expect is not None and claim.hypothesis and not smoke:
            # A smoke run proves the pipeline and gives no verdict: an expected gap is
            # neither confirmed (xfail) nor gone (xpass).
            self.add_marker(
                pytest.mark.xfail(
                    reason=plain(f"expected {claim.expect}: {first_sentence(claim.hypothesis)}"),
                    raises=expected_exception(claim.expect),
                    strict=False,
                )
            )

    @property
    def result(self) -> ClaimResult | None:
        return self.stash.get(CLAIM_RESULT_KEY, None)

    def setup(self) -> None:
        spec, runtime = self.spec, self.runtime
        header = self.stash[HEADER_KEY]
        # JUnit properties (xunit1 and xunit2 alike): where the claim is, also for a claim
        # skipped or failed here; runtest adds its result.
        self.user_properties.append(("repro.paper", header.paper_id))
        self.user_properties.append(("repro.line", f"{header.path}:{header.line}"))
        if runtime.cfg.plan:
            return  # a dry run: no environment check, no sanity runs
        problem = None
        try:
            runtime.check_environment(spec)
        except ReproError as exc:
            problem = str(exc)
        if problem is not None:
            # A bad lockfile or a strict drift: the claim's error, not a traceback (and
            # failed outside the except block, so pytest shows it once, not chained).
            from pytest_repro.evaluate import gist
            from pytest_repro.results import ClaimResult

            self.stash[CLAIM_RESULT_KEY] = ClaimResult.failed(
                self.stash[HEADER_KEY], problem, short=gist(problem).rstrip(": ")
            )
            pytest.fail(f"{self.claim.loc}: claim {self.claim.id}: {problem}", pytrace=False)
        if spec.run.resources.gpus:
            from pytest_repro.execution.gpus import inventory, select

            have = len(select(inventory(), runtime.cfg.gpus))
            if have < spec.run.resources.gpus:
                pytest.skip(
                    f"needs {spec.run.resources.gpus} GPU(s) (run.resources.gpus, {spec.run.loc}); {have} visible"
                )
        for check in spec.sanity:
            failure = runtime.sanity(spec, check)
            if failure is not None:
                reason = failure.splitlines()[0]
                pytest.skip(
                    f"sanity check {check.name} failed ({check.loc}), so this claim was not run: {reason}"
                )

    def runtest(self) -> None:
        from pytest_repro.report.terminal import claim_block

        if self.runtime.cfg.plan:
            self.plan_and_skip(self.spec, self.claim)
        result = self.runtime.evaluate(self.spec, self.claim, self.stash[HEADER_KEY])
        if self.runtime.cfg.sensitivity and not self.runtime.cfg.smoke:
            from pytest_repro.sensitivity import with_sensitivity

            result = with_sensitivity(self.spec, self.claim, result, self.runtime.evaluate)
        self.stash[CLAIM_RESULT_KEY] = result
        for name in ("verdict", "estimate", "delta", "n", "method"):
            value = getattr(result, name)
            if value is not None:
                self.user_properties.append((f"repro.{name}", value))
        if result.interval:
            low, high = result.interval
            self.user_properties.append(("repro.interval", f"[{low:.6g}, {high:.6g}]"))
        settle(
            result,
            lambda: claim_block(result, rerun=self.rerun_command()),
            self.runtime.cfg.inconclusive,
        )

    def rerun_command(self) -> str:
        return (
            f'pytest "{self.nodeid}"   '
            f"(add --repro-rerun={self.claim.id} to train again instead of reusing runs)"
        )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        value = excinfo.value
        if isinstance(value, ClaimOutcome):
            return value.block
        if isinstance(value, SanityFailed):
            return value.message
        if isinstance(value, ReproError) or type(value).__module__.startswith("pytest_repro"):
            return f"{self.claim.loc}: claim {self.claim.id}: {value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.claim.loc.line - 1, f"claim {self.claim.id}"


class SanityItem(ReproItem):
    """A cheap check that the pipeline can learn at all, run before the claims."""

    def __init__(self, *, spec: PaperSpec, check: SanityCheck, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.check = check
        self.add_marker(pytest.mark.repro)
        self.add_marker(pytest.mark.repro_sanity)

    def runtest(self) -> None:
        if self.runtime.cfg.plan:
            self.plan_and_skip(self.spec, self.check)
        failure = self.runtime.sanity(self.spec, self.check)
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


class AuditFailed(Exception):
    """A gap audit that found gaps under ``--repro-audit=strict``."""


class AuditItem(ReproItem):
    """The paper's spec held against its paper.md (``pytest-repro audit`` as a test).

    Gaps are a :class:`~pytest_repro.errors.ReproWarning` by default and a failure with
    ``--repro-audit=strict``; documented guesses (assumed values with a why) never fail.
    """

    def __init__(self, *, spec: PaperSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec
        self.add_marker(pytest.mark.repro)

    def runtest(self) -> None:
        import warnings

        from pytest_repro.errors import ReproWarning
        from pytest_repro.extract import audit, paper_md

        result = audit.audit(self.spec, paper_md.load(self.path.parent / "paper.md"))
        if not result.gaps:
            return
        lines = audit.table_lines(result)
        folder = display_path(self.path.parent, self.config.rootpath)
        fix = f"details: pytest-repro audit {folder} (writes {folder}/gaps_filled.md)"
        if self.config.stash[CONFIG_KEY].audit == "strict":
            raise AuditFailed("\n".join([*lines, fix]))
        warnings.warn(ReproWarning(f"{lines[0]}; {fix}"), stacklevel=1)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, (AuditFailed, ReproError)):
            from pytest_repro.report.escape import plain

            return "\n".join(plain(line) for line in str(excinfo.value).splitlines())
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, "audit"


__all__ = [
    "AuditItem",
    "ClaimItem",
    "PaperFile",
    "ReproItem",
    "SanityItem",
    "SpecErrorItem",
    "display_path",
]
