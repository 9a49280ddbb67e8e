"""What other plugins plug in: an executor, a metric reader; and facts the controller hands on."""

from __future__ import annotations

import json

import pytest

from tests.plugin.conftest import HEADER, MakePaper, calls, claim

#: A conftest plugin that runs every run itself: it writes the metrics a real run would,
#: and records each task it was given, so the test can see the core used it.
EXECUTOR_PLUGIN = """\
import json, pathlib, time
from pytest_repro.execution.pool import Outcome

class RecordingExecutor:
    def __init__(self, log):
        self.log = log
        self.closed = False

    def execute(self, task, key, timeout, memory=None):
        with open(self.log, "a") as f:
            f.write(json.dumps({"seed": task["seed"], "threads": key.threads}) + "\\n")
        run_dir = pathlib.Path(task["run_dir"])
        run_dir.mkdir(parents=True, exist_ok=True)
        value = 0.9 + 0.001 * (task["seed"] - 1)
        with open(run_dir / "repro-metrics.jsonl", "w") as f:
            for epoch in range(1, 6):
                f.write(json.dumps({"epoch": epoch, "acc": value}) + "\\n")
        now = time.time()
        return Outcome(status="ok", evidence={"executor": "recording"}, started_at=now, ended_at=now)

    def close(self):
        pathlib.Path(self.log).with_suffix(".closed").write_text("yes")

def pytest_repro_make_executor(config, cfg):
    return RecordingExecutor(str(config.rootpath / "executor.log"))
"""


def test_a_plugin_executor_runs_every_run_and_is_closed_at_the_end(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    pytester.makeconftest(EXECUTOR_PLUGIN)
    result = pytester.runpytest("papers", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::acc *matched within 1.0 pp*"])
    tasks = [json.loads(line) for line in (pytester.path / "executor.log").read_text().splitlines()]
    assert sorted(t["seed"] for t in tasks) == [0, 1, 2]
    assert (pytester.path / "executor.closed").read_text() == "yes"
    assert calls(folder) == 0  # the paper's own entrypoint never ran


def test_an_executor_that_declines_leaves_the_default_in_place(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    pytester.makeconftest("def pytest_repro_make_executor(config, cfg):\n    return None\n")
    result = pytester.runpytest("papers", "--repro-inprocess")
    result.assert_outcomes(passed=1)
    assert calls(folder) == 3


#: A reader for a format the core does not know: tab-separated ``epoch<TAB>name=value``.
READER_PLUGIN = """\
class TabReader:
    format = "tabbed"

    def read(self, where):
        points = []
        for line in where.path.read_text().splitlines():
            epoch, pair = line.split("\\t")
            name, value = pair.split("=")
            points.append({"epoch": int(epoch), name: float(value)})
        return points

def pytest_repro_metric_readers(config):
    return [TabReader()]
"""

COMMAND_HEADER = """\
paper:
  id: "{paper_id}"
  title: A paper whose script writes its own log format
run:
  command: [python, write_log.py, "{{seed}}", "{{run_dir}}"]
  metrics: {{tabbed: "{{run_dir}}/log.tsv"}}
  config:
    epochs: 5
"""

WRITE_LOG = """\
import pathlib, sys
seed, run_dir = int(sys.argv[1]), pathlib.Path(sys.argv[2])
with open(run_dir / "log.tsv", "w") as f:
    for epoch in range(1, 6):
        f.write("%d\\tacc=%f\\n" % (epoch, 0.9 + 0.001 * (seed - 1)))
"""


def test_a_plugin_metric_reader_reads_a_format_the_spec_names(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(header=COMMAND_HEADER)
    (folder / "write_log.py").write_text(WRITE_LOG)
    pytester.makeconftest(READER_PLUGIN)
    result = pytester.runpytest("papers", "-v", "--repro-inprocess")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*::acc *matched within 1.0 pp*"])
    # The report, rebuilt from the recorded runs, reads the spec without the plugin's help.
    assert "[matched within 1.0 pp]" in (folder / "results.md").read_text()


def test_without_the_reader_plugin_the_format_is_a_spec_error_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(header=COMMAND_HEADER)
    result = pytester.runpytest("papers")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*paper.yaml:6: run.metrics.tabbed: unknown key*"])


def test_two_readers_claiming_one_format_stop_collection_with_one_line_saying_so(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    pytester.makeconftest(
        "class Clash:\n"
        "    format = 'jsonl'\n"
        "    def read(self, where):\n"
        "        return []\n"
        "def pytest_repro_metric_readers(config):\n"
        "    return [Clash()]\n"
    )
    result = pytester.runpytest("papers")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        ["two metric readers claim the format 'jsonl' (JsonLinesReader and Clash)*"]
    )
    result.stdout.no_fnmatch_line("*runtime.py*")


def test_xdist_workers_count_runs_from_the_controllers_start(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    pytester.makepyfile(
        test_start="""
        import time
        from pytest_repro.keys import RUNTIME_KEY

        def test_worker_knows_when_the_session_began(request):
            start = request.config.workerinput["repro_session_start"]
            assert request.config.stash[RUNTIME_KEY].session_start == start
            assert start <= time.time()
        """
    )
    result = pytester.runpytest_subprocess("-n", "2", "-p", "xdist")
    result.assert_outcomes(passed=1)


def test_a_ledger_read_behind_the_local_one_supplies_runs_and_receives_none(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper()
    shared = pytester.path / "ci" / "ledger.sqlite"
    first = pytester.runpytest("papers", "--repro-inprocess", f"--repro-ledger={shared}")
    first.assert_outcomes(passed=1)
    assert calls(folder) == 3
    local = pytester.path / "local.sqlite"
    second = pytester.runpytest(
        "papers", "--repro-inprocess", f"--repro-ledger={local}", f"--repro-ledger-read={shared}"
    )
    second.assert_outcomes(passed=1)
    second.stdout.fnmatch_lines(["repro: 0 run(s) executed*3 reused from the ledger*"])
    assert calls(folder) == 3


def test_a_missing_read_ledger_is_a_usage_error_naming_the_option(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper()
    result = pytester.runpytest("papers", "--repro-inprocess", "--repro-ledger-read=nowhere.sqlite")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--repro-ledger-read=*nowhere.sqlite: no such ledger file*"])


def test_a_memory_cap_that_cannot_be_measured_warns_instead_of_passing_silently(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(header=HEADER + "  resources: {{memory: 2GiB}}\n", claims=claim())
    pytester.makeconftest(
        "import pytest_repro.execution.pool as pool\npool.memory_cap_supported = lambda: False\n"
    )
    result = pytester.runpytest_subprocess(
        "papers", "-W", "always::pytest_repro.errors.ReproWarning"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*run.resources.memory (2.0 GiB) is not enforced*"])
