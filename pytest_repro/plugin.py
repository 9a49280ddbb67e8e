"""The pytest face of pytest-repro: options, configuration and collection.

Kept thin on purpose: importing it imports neither torch, scipy nor datasets.
The session's work happens in :class:`~pytest_repro.session.ReproSession`,
registered here at configure time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from pytest_repro import config as repro_config
from pytest_repro.collect import PaperFile
from pytest_repro.execution.service import SESSION_START_VAR
from pytest_repro.session import SESSION_KEY, ReproSession

MARKERS = (
    "repro: a claim or sanity check of a paper.yaml",
    "repro_absolute: an absolute claim (metric equals the paper's value within a tolerance)",
    "repro_comparative: a comparative claim (variant A beats variant B)",
    "repro_sanity: a sanity check run before a paper's claims",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    repro_config.addoptions(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for marker in MARKERS:
        config.addinivalue_line("markers", marker)
    cfg = repro_config.resolve(config)
    if not hasattr(config, "workerinput"):
        # xdist workers inherit it: "runs of this session" means the same thing in every worker.
        os.environ[SESSION_START_VAR] = repr(time.time())
    session = ReproSession(config, cfg)
    config.stash[SESSION_KEY] = session
    config.pluginmanager.register(session, "repro-session")
    from pytest_repro import fixtures

    if not config.pluginmanager.is_registered(fixtures):
        config.pluginmanager.register(fixtures, "repro-fixtures")
    if config.pluginmanager.hasplugin("html") and not hasattr(config, "workerinput"):
        from pytest_repro.report.html import HtmlReport

        config.pluginmanager.register(HtmlReport(), "repro-html")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()
        config.pluginmanager.unregister(session)
        del config.stash[SESSION_KEY]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> PaperFile | None:
    session = parent.config.stash.get(SESSION_KEY, None)
    if session is not None and file_path.name in session.cfg.files:
        return PaperFile.from_parent(parent, path=file_path)
    return None
