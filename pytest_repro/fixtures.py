"""Fixtures for ordinary tests next to a paper: seeds, the pinned environment, data, sanity checks.

They let a paper folder hold plain pytest tests (say ``test_model.py`` checking
a layer's shapes, or a data invariant) that share the paper's seeding, pins and
data sources::

    def test_digits_are_balanced(repro_data, repro_seed):
        digits = repro_data("digits")          # the `data:` entry of the nearest paper.yaml
        ...
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_repro.errors import EnvironmentDrift, ReproWarning
from pytest_repro.keys import CONFIG_KEY

if TYPE_CHECKING:
    from pytest_repro.seeding import Seeded
    from pytest_repro.spec.schema import PaperSpec

SEED_KEY = pytest.StashKey[int]()


def _nearest_spec(request: pytest.FixtureRequest) -> PaperSpec:
    from pytest_repro.spec import load_spec

    start = Path(request.node.path).parent
    names = request.config.getini("repro_files") or ["paper.yaml"]
    for folder in (start, *start.parents):
        for name in names:
            candidate = folder / name
            if candidate.is_file():
                try:
                    display = candidate.relative_to(request.config.rootpath).as_posix()
                except ValueError:
                    display = str(candidate)
                return load_spec(candidate, display=display, metric_formats=None)
        if folder == request.config.rootpath:
            break
    raise pytest.UsageError(
        f"{request.node.nodeid}: no paper.yaml in {start} or its parents for this fixture"
    )


@pytest.fixture
def repro_seed(request: pytest.FixtureRequest) -> Generator[Seeded, None, None]:
    """Seed python, numpy and torch for this test, and restore their global state after it.

    The seed is ``--repro-seed`` when given, else derived from the test id, so it is
    the same on every machine and every xdist worker. A failing test prints its seed
    and the command that reruns it with the same seed.
    """
    from pytest_repro.seeding import (
        capture_rng_state,
        derive_seed,
        restore_rng_state,
        seed_everything,
    )

    cfg = request.config.stash.get(CONFIG_KEY, None)
    fixed = cfg.seed if cfg is not None else None
    seed = fixed if fixed is not None else derive_seed(request.node.nodeid)
    request.node.stash[SEED_KEY] = seed
    state = capture_rng_state()
    try:
        yield seed_everything(seed)
    finally:
        restore_rng_state(state)


@dataclass(frozen=True, slots=True)
class PinnedEnvironment:
    fingerprint: Mapping[str, Any]
    drift: tuple[Any, ...]


@pytest.fixture
def pinned_env(request: pytest.FixtureRequest) -> PinnedEnvironment:
    """The environment fingerprint, checked against the nearest paper.yaml's ``environment:``.

    Under ``--repro-env=strict`` a drift fails the test with an expected-vs-installed
    table; under ``warn`` (the default) it warns.
    """
    from pytest_repro.environment import cached_fingerprint, check_environment, format_drift_table
    from pytest_repro.execution.plan import requirement_names

    spec = _nearest_spec(request)
    drift = tuple(check_environment(spec.environment, spec.folder))
    cfg = request.config.stash.get(CONFIG_KEY, None)
    policy = cfg.env if cfg is not None else "warn"
    if drift and policy == "strict":
        raise EnvironmentDrift(
            f"{spec.display}: environment drift (--repro-env=strict):\n{format_drift_table(drift)}"
        )
    if drift and policy == "warn":
        warnings.warn(
            f"{spec.display}: environment drift:\n{format_drift_table(drift)}",
            ReproWarning,
            stacklevel=2,
        )
    return PinnedEnvironment(fingerprint=cached_fingerprint(requirement_names(spec)), drift=drift)


@pytest.fixture
def repro_data(request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """Load a ``data:`` source of the nearest paper.yaml: ``repro_data("digits")``.

    Checksums pinned in the spec are verified; the fingerprint of each load is
    recorded in the test's ``user_properties`` (and so in junitxml).
    """
    from pytest_repro import data

    spec = _nearest_spec(request)

    def load(name: str) -> Any:
        try:
            source = spec.data_source(name)
        except KeyError:
            known = ", ".join(s.name for s in spec.data) or "none"
            raise pytest.UsageError(
                f"{spec.display}: no data source {name!r} (it has: {known})"
            ) from None
        value, fingerprint = data.load(source, spec.folder)
        request.node.user_properties.append((f"repro.data.{name}", fingerprint.fingerprint))
        return value

    return load


@pytest.fixture
def repro_sanity(request: pytest.FixtureRequest) -> Callable[..., Mapping[str, Any]]:
    """Run a sanity check that trains through the nearest paper's ``run.kit``.

    ``repro_sanity("overfit_tiny_batch", steps=100)`` returns the numbers the check
    measured (``{"loss": 0.01, "steps": 41, ...}``) and fails the test with the check's
    own message when it fails. Arguments not given take the check's defaults; the run is
    recorded in the ledger and reused like the ``sanity:`` checks'::

        def test_the_cnn_memorises_eight_examples(repro_sanity):
            numbers = repro_sanity("overfit_tiny_batch", examples=8, steps=200)
            assert numbers["steps"] < 200
    """
    from pytest_repro.keys import RUNTIME_KEY
    from pytest_repro.sanity.cooperative import kit_check
    from pytest_repro.spec.keys import KIT_CHECKS, SANITY_ARGS
    from pytest_repro.spec.schema import SanityCheck

    spec = _nearest_spec(request)
    runtime = request.config.stash[RUNTIME_KEY]

    def check(name: str, **args: Any) -> Mapping[str, Any]:
        if name not in (*KIT_CHECKS, "finite"):
            raise pytest.UsageError(
                f"repro_sanity({name!r}): not a check that trains through run.kit; "
                f"use one of: {', '.join((*KIT_CHECKS, 'finite'))}"
            )
        unknown = sorted(set(args) - set(SANITY_ARGS[name]))
        if unknown:
            raise pytest.UsageError(
                f"repro_sanity({name!r}): unknown argument(s) {', '.join(unknown)}; "
                f"{name} takes: {', '.join(SANITY_ARGS[name])}"
            )
        if not spec.run.kit:
            pytest.fail(
                f"repro_sanity({name!r}) needs run.kit in {spec.display} "
                "(a function returning a SanityKit; docs/paper-yaml.md)",
                pytrace=False,
            )
        sanity = SanityCheck(name=name, args={**SANITY_ARGS[name], **args}, loc=spec.run.loc)
        result = kit_check(sanity, spec, runtime.planner, runtime.service.obtain)
        if result.failure is not None:
            pytest.fail(f"sanity check {name} failed: {result.failure}", pytrace=False)
        return result.numbers

    return check


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    seed = item.stash.get(SEED_KEY, None)
    if seed is not None and report.failed and report.when == "call":
        report.sections.append(
            (
                "repro_seed",
                f'this test ran with seed {seed}; rerun it with:\n  pytest "{item.nodeid}" --repro-seed={seed}',
            )
        )
