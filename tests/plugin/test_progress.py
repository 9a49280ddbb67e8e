"""Live progress: while runs execute the terminal says what is in flight and how far it got."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from pytest_repro.progress import InFlight, describe, last_point

from .conftest import MakePaper

SLOW = """\
import time

def run(ctx):
    for epoch in range(1, ctx.config["epochs"] + 1):
        time.sleep(0.3)
        ctx.log(epoch=epoch, acc=0.9 + 0.001 * (ctx.seed - 1))
"""

HEADER = """\
paper:
  id: "{paper_id}"
  title: A paper that trains slowly
run:
  entrypoint: train:run
  config: {{epochs: 8}}
"""

CLAIM = """\
  - {id: acc, text: accuracy, source: Table 1, metric: acc, at: {epoch: 8}, paper: 0.9,
     tolerance: 0.01}
"""

ARGS = ("-p", "no:cacheprovider", "--repro-workers=1", "--repro-progress=0.5")


def test_a_heartbeat_shows_each_run_in_flight_and_how_far_it_got(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=CLAIM, train=SLOW, header=HEADER)
    result = pytester.runpytest("-v", *ARGS)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["repro ??:??:?? | 1 running, * done, * to go", "  p1 * seed ?: epoch ?/8, *"]
    )


def test_quiet_sessions_get_a_one_line_heartbeat(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=CLAIM, train=SLOW, header=HEADER)
    result = pytester.runpytest("-q", *ARGS)
    result.stdout.fnmatch_lines(["repro ??:??:?? | 1 running, * done, * to go"])
    assert "seed 0: epoch" not in result.stdout.str()


def test_no_heartbeat_when_off_or_when_nothing_executes(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(claims=CLAIM, train=SLOW, header=HEADER)
    off = pytester.runpytest("-p", "no:cacheprovider", "--repro-progress=off")
    off.assert_outcomes(passed=1)
    assert "running," not in off.stdout.str()
    cached = pytester.runpytest(*ARGS)  # every run is in the ledger now
    cached.assert_outcomes(passed=1)
    assert "running," not in cached.stdout.str()


def test_a_bad_progress_value_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--repro-progress=soon")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--repro-progress='soon': expected seconds (e.g. 30) or off*"])


def test_how_far_a_run_got_is_read_from_its_own_files(tmp_path: Path) -> None:
    run = InFlight(label="p seed 0", run_dir=tmp_path, started=time.time() - 65, estimate=125.0)
    assert last_point(run) is None
    (tmp_path / "repro-metrics.jsonl").write_text(
        "\n".join(json.dumps({"epoch": e, "acc": 0.5}) for e in (1, 2, 3)) + "\n"
    )
    assert last_point(run) == ("epoch", 3)
    run.total = ("epoch", 30)
    line = describe(run, now=run.started + 65)
    assert line.startswith("p seed 0: epoch 3/30, 1 m 5 s")
    assert line.endswith("~1 m left")


def test_a_command_run_is_followed_through_its_regex(tmp_path: Path) -> None:
    run = InFlight(
        label="cmd seed 1",
        run_dir=tmp_path,
        started=time.time(),
        patterns=(r"step (?P<step>\d+) \| loss (?P<loss>[0-9.]+)",),
    )
    (tmp_path / "repro-output.log").write_text(
        "loading\nstep 100 | loss 0.5\nstep 200 | loss 0.4\nsaving checkpoint\n"
    )
    assert last_point(run) == ("step", 200)
