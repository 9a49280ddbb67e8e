"""``--repro-executor`` and the ``--repro-slurm-*`` options: resolved once, wrong values refused."""

from __future__ import annotations

import sys

import pytest

from pytest_repro.execution.pool import PoolKey
from pytest_repro.execution.slurm import JOB_MEMORY_BASE, job_environment, job_parameters
from pytest_repro.execution.slurm_settings import ClusterSettings
from pytest_repro.keys import CONFIG_KEY

pytest.importorskip("submitit")


def test_the_default_executor_is_the_local_pool_with_no_cluster_settings(
    pytester: pytest.Pytester,
) -> None:
    cfg = pytester.parseconfigure().stash[CONFIG_KEY]
    assert cfg.executor == "local"
    assert cfg.cluster is None


def test_local_jobs_take_every_cluster_option_from_the_command_line(
    pytester: pytest.Pytester,
) -> None:
    cfg = pytester.parseconfigure(
        "--repro-executor=local-jobs",
        "--repro-slurm-partition=gpu",
        "--repro-slurm-account=lab",
        "--repro-slurm-time=90m",
        "--repro-slurm-memory=16GiB",
        "--repro-slurm-setup=module load cuda",
        "--repro-slurm-setup=source venv/bin/activate",
        "--repro-slurm-max-jobs=3",
        "--repro-slurm-resubmit=0",
    ).stash[CONFIG_KEY]
    assert cfg.executor == "local-jobs"
    assert cfg.cluster == ClusterSettings(
        cluster="local",
        partition="gpu",
        account="lab",
        time=5400.0,
        memory=16 * 2**30,
        setup=("module load cuda", "source venv/bin/activate"),
        max_jobs=3,
        resubmit=0,
    )
    assert cfg.workers == 3  # one waiting thread per job in flight


def test_cluster_settings_come_from_ini_and_environment_too(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(
        "[pytest]\n"
        "repro_executor = local-jobs\n"
        "repro_slurm_time = 2h\n"
        "repro_slurm_setup =\n"
        "    module load cuda/12.4\n"
        "    export HF_HOME=/scratch/hf\n"
        "repro_slurm_max_jobs = 8\n"
    )
    monkeypatch.setenv("PYTEST_REPRO_SLURM_MAX_JOBS", "5")
    cfg = pytester.parseconfigure("--repro-workers=2").stash[CONFIG_KEY]
    assert cfg.cluster is not None
    assert cfg.cluster.time == 7200.0
    assert cfg.cluster.setup == ("module load cuda/12.4", "export HF_HOME=/scratch/hf")
    assert cfg.cluster.max_jobs == 5  # the environment wins over the ini file
    assert cfg.workers == 2  # given explicitly: kept


@pytest.mark.parametrize(
    ("option", "expected"),
    [
        ("--repro-slurm-time=soon", "--repro-slurm-time='soon': expected a duration"),
        ("--repro-slurm-max-jobs=0", "--repro-slurm-max-jobs='0': expected a whole number >= 1"),
        ("--repro-slurm-max-jobs=many", "--repro-slurm-max-jobs='many': expected a whole number"),
        ("--repro-slurm-resubmit=-1", "--repro-slurm-resubmit='-1': expected a whole number >= 0"),
        ("--repro-slurm-memory=lots", "--repro-slurm-memory='lots': expected a size"),
    ],
)
def test_a_wrong_value_is_a_usage_error_naming_the_option(
    pytester: pytest.Pytester, option: str, expected: str
) -> None:
    with pytest.raises(pytest.UsageError) as info:
        pytester.parseconfigure("--repro-executor=local-jobs", option)
    assert str(info.value).startswith(expected)


def test_an_unknown_executor_is_refused_with_the_choices(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nrepro_executor = kubernetes\n")
    with pytest.raises(pytest.UsageError, match="use one of local, slurm, local-jobs"):
        pytester.parseconfigure()


def test_a_cluster_executor_with_inprocess_is_a_usage_error(pytester: pytest.Pytester) -> None:
    with pytest.raises(pytest.UsageError, match="--repro-inprocess") as info:
        pytester.parseconfigure("--repro-executor=local-jobs", "--repro-inprocess")
    assert "--repro-executor=local-jobs" in str(info.value)


def test_a_cluster_executor_with_isolated_environments_is_a_usage_error(
    pytester: pytest.Pytester,
) -> None:
    with pytest.raises(pytest.UsageError, match="--repro-env=isolate"):
        pytester.parseconfigure("--repro-executor=local-jobs", "--repro-env=isolate")


def test_slurm_without_submitit_says_how_to_install_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "submitit", None)  # makes `import submitit` fail
    with pytest.raises(pytest.UsageError) as info:
        pytester.parseconfigure("--repro-executor=slurm")
    assert "pip install 'pytest-repro[slurm]'" in str(info.value)
    assert str(info.value).startswith("--repro-executor=slurm")


def test_slurm_away_from_a_cluster_points_to_local_jobs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(pytester.path))  # no srun here
    with pytest.raises(pytest.UsageError, match=r"no srun on PATH.*--repro-executor=local-jobs"):
        pytester.parseconfigure("--repro-executor=slurm")


def test_slurm_on_a_login_node_is_accepted(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = pytester.mkdir("bin")
    srun = bin_dir / "srun"
    srun.write_text("#!/bin/sh\nexit 0\n")
    srun.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    cfg = pytester.parseconfigure("--repro-executor=slurm", "--repro-slurm-partition=a100")
    settings = cfg.stash[CONFIG_KEY].cluster
    assert settings is not None
    assert (settings.cluster, settings.kind, settings.partition) == ("slurm", "slurm", "a100")
    assert settings.max_jobs == 16
    assert settings.resubmit == 2
    assert settings.time == 3600.0
    assert settings.memory is None  # the cluster's default


def test_the_header_names_the_executor(pytester: pytest.Pytester) -> None:
    from pytest_repro.config import describe

    cfg = pytester.parseconfigure("--repro-executor=local-jobs").stash[CONFIG_KEY]
    assert "executor=local-jobs (at most 16 jobs in flight)" in describe(cfg)


def test_a_job_gets_the_environment_a_pool_worker_gets() -> None:
    key = PoolKey(threads=4, gpus=("2", "3"), env=(("HF_HOME", "/scratch/hf"),))
    local = job_environment(key, "local")
    assert local["OMP_NUM_THREADS"] == local["MKL_NUM_THREADS"] == "4"
    assert local["CUDA_VISIBLE_DEVICES"] == "2,3"  # exactly the leased devices
    assert local["HF_HOME"] == "/scratch/hf"
    assert "PYTHONHASHSEED" in local
    on_slurm = job_environment(key, "slurm")
    assert "CUDA_VISIBLE_DEVICES" not in on_slurm  # the allocation's own devices
    assert job_environment(PoolKey(), "slurm")["CUDA_VISIBLE_DEVICES"] == ""  # a CPU job sees none


def test_a_gpu_job_asks_for_its_devices_memory_time_and_threads_after_its_setup_lines() -> None:
    settings = ClusterSettings(
        cluster="slurm", partition="a100", account="lab", setup=("module load cuda",)
    )
    key = PoolKey(threads=8, gpus=("0", "1"))
    env = job_environment(key, "slurm")
    params = job_parameters(settings, "p1-abc-s0", key, 1800.0, 4 * 2**30, env)
    assert params["name"] == "repro-p1-abc-s0"
    assert params["timeout_min"] == 32  # 30 minutes and 2 to start
    assert params["gpus_per_node"] == 2
    assert params["cpus_per_task"] == 8
    assert params["mem_gb"] == 4 + JOB_MEMORY_BASE / 2**30  # the run's cap and the interpreter
    assert (params["slurm_partition"], params["slurm_account"]) == ("a100", "lab")
    setup = params["slurm_setup"]
    assert setup[0] == "module load cuda"
    assert "export OMP_NUM_THREADS=8" in setup[1:]


def test_a_cpu_job_asks_for_no_gpu_and_the_default_memory_where_its_run_sets_none() -> None:
    settings = ClusterSettings(cluster="slurm", memory=2**30)
    key = PoolKey()
    params = job_parameters(settings, "r", key, 3600.0, None, job_environment(key, "slurm"))
    assert "gpus_per_node" not in params
    assert params["timeout_min"] == 62
    assert params["mem_gb"] == 1 + JOB_MEMORY_BASE / 2**30
    assert params["slurm_partition"] is None  # dropped by submitit: the cluster's default
    none_given = job_parameters(
        ClusterSettings(cluster="slurm"), "r", key, 60.0, None, job_environment(key, "slurm")
    )
    assert "mem_gb" not in none_given


def test_a_local_job_gets_no_slurm_parameters() -> None:
    settings = ClusterSettings(cluster="local", partition="a100", setup=("echo hi",))
    key = PoolKey(gpus=("3",))
    params = job_parameters(settings, "r", key, 60.0, None, job_environment(key, "local"))
    assert not [name for name in params if name.startswith("slurm_")]
    assert params["local_setup"][0] == "echo hi"
    assert "export CUDA_VISIBLE_DEVICES=3" in params["local_setup"]
