"""Runs as jobs through submitit (``--repro-executor=local-jobs``, the code path of ``slurm``):
the same values and verdicts as the worker pool, lost jobs sent again, a run's own failure
recorded once, and never more jobs in flight than ``--repro-slurm-max-jobs``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pytest_repro.ledger import SQLiteLedger
from pytest_repro.records import RunRecord

from .conftest import MakePaper, claim

pytest.importorskip("submitit")

JOBS = ("--repro-executor=local-jobs", "-p", "no:cacheprovider")

#: seed 0's first job logs two epochs, then kills its own process (a node lost under it); a
#: marker file makes the second attempt train to the end. Seed 4 raises: the run's own
#: failure. Every run that ends notes when it ran.
TRAIN = """\
import json, os, pathlib, random, signal, time

def run(ctx):
    c = ctx.config
    folder = pathlib.Path(ctx.paper_dir)
    if ctx.seed == c["fail_seed"]:
        raise RuntimeError("seed %d failed on purpose" % ctx.seed)
    start = time.time()
    time.sleep(c["sleep"])
    for epoch in range(1, 4):
        ctx.log(epoch=epoch, acc=0.9 + 0.001 * (ctx.seed % 3 - 1) + 1e-5 * random.random())
        marker = folder / ("killed-%d" % ctx.seed)
        if epoch == 2 and ctx.seed in c["kill_seeds"] and not marker.exists():
            marker.write_text("once")
            print("this job is about to be lost")
            os.kill(os.getpid(), signal.SIGKILL)
    with (folder / "spans.log").open("a") as f:
        f.write(json.dumps([start, time.time()]) + "\\n")
"""
HEADER = """\
paper:
  id: "{paper_id}"
  title: A paper for tests
run:
  entrypoint: train:run
  config:
    kill_seeds: [{kill}]
    fail_seed: {fail}
    sleep: {sleep}
"""


def _paper(
    make_paper: MakePaper, *, seeds: str, kill: str = "", fail: int = -1, sleep: float = 0
) -> Path:
    header = HEADER.replace("{kill}", kill).replace("{fail}", str(fail))
    header = header.replace("{sleep}", str(sleep))
    return make_paper(
        train=TRAIN,
        header=header,
        claims=claim("acc", paper=0.9, extra=f"seeds: {seeds}\nat: {{epoch: 3}}").replace(
            "    at: {epoch: 5}\n", ""
        ),
    )


def _claims(path: Path) -> dict[str, dict[str, object]]:
    data = json.loads(path.read_text())
    return {c["id"]: c for p in data["papers"] for c in p["claims"]}


def _records(pytester: pytest.Pytester, folder: str = ".repro") -> list[RunRecord]:
    ledger = SQLiteLedger(pytester.path / folder / "ledger.sqlite")
    try:
        return list(ledger.records())
    finally:
        ledger.close()


def test_jobs_give_the_same_per_seed_values_and_verdict_as_the_worker_pool(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    _paper(make_paper, seeds="[0, 1, 2]")
    pool = pytester.runpytest(
        "-p", "no:cacheprovider", "--repro-dir=.pool", "--repro-json=pool.json"
    )
    pool.assert_outcomes(passed=1)
    jobs = pytester.runpytest(*JOBS, "--repro-dir=.jobs", "--repro-json=jobs.json")
    jobs.assert_outcomes(passed=1)
    by_pool, by_jobs = _claims(pytester.path / "pool.json"), _claims(pytester.path / "jobs.json")
    assert by_jobs["acc"]["values"] == by_pool["acc"]["values"]  # seeded generators too
    assert [round(v, 3) for v in by_jobs["acc"]["values"]] == [0.899, 0.9, 0.901]
    assert by_jobs["acc"]["verdict"] == by_pool["acc"]["verdict"] == "matched"
    records = _records(pytester, ".jobs")
    assert len(records) == 3
    for record in records:
        executor = record.evidence["executor"]
        assert executor["kind"] == "local-jobs"
        assert executor["attempts"] == 1
        assert Path(executor["folder"]).parent == pytester.path / ".jobs" / "jobs"
        assert record.evidence["worker_started"] is True
    assert not (pytester.path / "papers" / "p1" / "jobs").exists()  # nothing in the paper folder


def test_a_lost_job_is_sent_again_and_its_run_recorded_once(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    _paper(make_paper, seeds="[0, 1, 2]", kill="0")
    result = pytester.runpytest(*JOBS, "--repro-json=out.json")
    result.assert_outcomes(passed=1)
    assert [round(v, 3) for v in _claims(pytester.path / "out.json")["acc"]["values"]] == [
        0.899,
        0.9,
        0.901,
    ]
    records = _records(pytester)
    assert sorted(r.seed for r in records) == [0, 1, 2]  # once each, the lost attempt not
    lost = next(r for r in records if r.seed == 0)
    assert lost.status == "ok"
    assert lost.evidence["executor"]["attempts"] == 2
    assert len(set(lost.evidence["executor"]["job_ids"])) == 2
    assert [p["epoch"] for p in lost.series] == [1, 2, 3]  # the lost attempt's points are not read
    kept = Path(lost.evidence["executor"]["folder"]) / "before-attempt-2"
    assert "this job is about to be lost" in (kept / "repro-output.log").read_text()
    assert len((kept / "repro-metrics.jsonl").read_text().splitlines()) == 2


def test_a_job_lost_every_time_is_recorded_once_as_failed_with_its_id_state_and_log(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    _paper(make_paper, seeds="[0, 1, 2]", kill="0")
    result = pytester.runpytest(*JOBS, "--repro-slurm-resubmit=0", "--repro-json=out.json")
    result.assert_outcomes(failed=1)
    (failed,) = [r for r in _records(pytester) if r.status != "ok"]
    assert failed.seed == 0
    assert failed.status == "failed"
    assert failed.evidence["executor"]["attempts"] == 1
    job_id = failed.evidence["executor"]["job_id"]
    assert failed.error is not None
    assert f"job {job_id} ended in state FINISHED without a result" in failed.error
    assert f"{job_id}_0_log.err" in failed.error
    assert "this job is about to be lost" in failed.output_tail


def test_a_run_raising_is_recorded_failed_and_never_sent_again(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    _paper(make_paper, seeds="[0, 1, 2, 4]", fail=4)
    pytester.runpytest(*JOBS, "--repro-json=out.json")
    (failed,) = [r for r in _records(pytester) if r.status != "ok"]
    assert failed.seed == 4
    assert failed.status == "failed"
    assert failed.error == "RuntimeError: seed 4 failed on purpose"
    assert failed.evidence["executor"]["attempts"] == 1
    assert (
        "seed 4 failed on purpose" in failed.output_tail
    )  # the run's traceback, as the pool keeps it
    job_dir = Path(failed.evidence["executor"]["folder"])
    assert len(list(job_dir.glob("*_submitted.pkl"))) == 1


def test_never_more_jobs_in_flight_than_max_jobs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = _paper(make_paper, seeds="[0, 1, 2, 3, 4, 5]", sleep=1.0)
    result = pytester.runpytest(*JOBS, "--repro-slurm-max-jobs=2")
    result.assert_outcomes(passed=1)
    spans = [json.loads(line) for line in (folder / "spans.log").read_text().splitlines()]
    assert len(spans) == 6
    events = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    in_flight = most = 0
    for _, step in events:
        in_flight += step
        most = max(most, in_flight)
    assert most == 2  # the bound is reached, never passed


def test_a_run_past_its_timeout_is_stopped_in_its_job_and_not_sent_again(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    _paper(make_paper, seeds="[0]", sleep=30)
    pytester.runpytest(*JOBS, "--repro-timeout=2s")
    (record,) = _records(pytester)
    assert record.status == "timeout"
    assert record.error == "the run was stopped after its timeout of 2s"  # as on the pool
    assert record.evidence["executor"]["attempts"] == 1


#: A stand-in for SLURM's commands: ``sbatch`` keeps the job script and runs it in the
#: background with a job's variables, ``srun`` runs its command into the job's logs,
#: ``sacct`` reports COMPLETED once the script has ended.
FAKE_SBATCH = """\
#!/bin/bash
script="${@: -1}"
id=$(( $(ls "$FAKE_SLURM" | grep -c sh) + 5000 ))
cp "$script" "$FAKE_SLURM/$id.sh"
( export SLURM_JOB_ID=$id SLURM_NTASKS=1 SLURM_JOB_NUM_NODES=1 SLURM_NODEID=0 \\
    SLURM_PROCID=0 SLURM_LOCALID=0 SLURM_JOB_NODELIST=node1
  bash "$script"; echo COMPLETED > "$FAKE_SLURM/$id.state" ) </dev/null >/dev/null 2>&1 &
echo "Submitted batch job $id"
"""
FAKE_SRUN = """\
#!/bin/bash
shift
out="${2//%j/$SLURM_JOB_ID}"; err="${4//%j/$SLURM_JOB_ID}"; shift 4
exec "$@" >>"${out//%t/0}" 2>>"${err//%t/0}"
"""
FAKE_SACCT = """\
#!/bin/bash
echo "JobID|State|NodeList"
while [ $# -gt 0 ]; do
  if [ "$1" = "-j" ]; then
    state=$(cat "$FAKE_SLURM/$2.state" 2>/dev/null || echo RUNNING)
    echo "$2|$state|node1"; shift
  fi
  shift
done
"""


def test_a_slurm_job_script_carries_partition_account_time_threads_and_setup_lines(
    pytester: pytest.Pytester, make_paper: MakePaper, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir, spool = pytester.mkdir("fake-bin"), pytester.mkdir("spool")
    for name, text in (("sbatch", FAKE_SBATCH), ("srun", FAKE_SRUN), ("sacct", FAKE_SACCT)):
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    (bin_dir / "scancel").symlink_to("/bin/true")
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SLURM", str(spool))
    _paper(make_paper, seeds="[0, 1, 2]")
    result = pytester.runpytest(
        "--repro-executor=slurm",
        "-p",
        "no:cacheprovider",
        "--repro-slurm-partition=a100",
        "--repro-slurm-account=lab",
        "--repro-slurm-time=90m",
        "--repro-slurm-setup=echo setting up",
        "--repro-json=out.json",
    )
    result.assert_outcomes(passed=1)
    scripts = sorted(spool.glob("*.sh"))
    assert len(scripts) == 3
    text = scripts[0].read_text()
    for line in (
        "#SBATCH --partition=a100",
        "#SBATCH --account=lab",
        "#SBATCH --time=92",  # 90 minutes and 2 to start
        "#SBATCH --cpus-per-task=1",
        "echo setting up",
        "export OMP_NUM_THREADS=1",
        "export CUDA_VISIBLE_DEVICES=''",  # a CPU job sees no GPU
    ):
        assert line in text.splitlines(), line
    assert "gpus-per-node" not in text
    records = _records(pytester)
    assert {r.evidence["executor"]["kind"] for r in records} == {"slurm"}
    assert {r.evidence["executor"]["partition"] for r in records} == {"a100"}
    assert sorted(r.evidence["executor"]["job_id"] for r in records) == ["5000", "5001", "5002"]


def test_a_wrong_cluster_option_stops_the_session_with_a_usage_error_not_a_traceback(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    _paper(make_paper, seeds="[0]")
    result = pytester.runpytest(*JOBS, "--repro-slurm-max-jobs=0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: --repro-slurm-max-jobs='0': expected a whole number >= 1"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert not (pytester.path / ".repro" / "jobs").exists()  # nothing was submitted


def test_a_session_on_the_worker_pool_never_imports_submitit_or_the_job_modules(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    _paper(make_paper, seeds="[0, 1, 2]")
    pytester.makeconftest(
        "import sys\n"
        "def pytest_sessionfinish(session):\n"
        "    loaded = [m for m in sys.modules if m.split('.')[0] == 'submitit' or 'slurm' in m]\n"
        "    print('\\nLOADED', sorted(loaded))\n"
    )
    result = pytester.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)  # the runs executed, on the pool
    assert "LOADED []" in result.stdout.lines


def test_a_memory_cap_local_jobs_cannot_enforce_is_said_once(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = _paper(make_paper, seeds="[0, 1]")
    spec = folder / "paper.yaml"
    spec.write_text(spec.read_text().replace("run:\n", "run:\n  resources: {memory: 1GiB}\n"))
    result = pytester.runpytest(*JOBS, "-W", "always")
    result.stdout.fnmatch_lines(
        ["*run.resources.memory (1.0 GiB) is not enforced with*local-jobs*"]
    )
    assert result.stdout.str().count("is not enforced with") == 1
    assert {r.status for r in _records(pytester)} == {"ok"}
