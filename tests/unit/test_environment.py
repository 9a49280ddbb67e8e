"""The environment: fingerprinted without importing torch, checked against the paper's
pins with errors that point at the line, rebuilt in isolation once."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import subprocess
import sys
import threading
import zipfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import pytest

from pytest_repro import environment
from pytest_repro.environment import (
    Drift,
    EnvironmentBuildError,
    cache_fields,
    cached_fingerprint,
    check_environment,
    device_kind,
    fingerprint,
    format_drift_table,
    isolate,
    isolated_python,
    read_lockfile,
)
from pytest_repro.errors import EnvironmentDrift, ReproWarning, SpecError
from pytest_repro.spec.schema import EnvironmentSpec, Location

ROOT = Path(__file__).resolve().parents[2]
YAML = Location("papers/x/paper.yaml", 12)


def _spec(**kwargs: object) -> EnvironmentSpec:
    return EnvironmentSpec(loc=YAML, **kwargs)  # type: ignore[arg-type]


# -- fingerprint --------------------------------------------------------------------------


def test_fingerprint_records_python_machine_packages_and_env(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    fp = fingerprint(["packaging", "Not_A-Real.Package"])
    assert fp["python"].startswith(f"{sys.version_info.major}.{sys.version_info.minor}.")
    assert fp["implementation"] == "CPython"
    assert fp["machine"]
    assert fp["cpu"]
    assert fp["cpu_count"] >= 1
    assert fp["packages"]["numpy"] is not None
    assert fp["packages"]["packaging"] is not None
    assert fp["packages"]["not-a-real-package"] is None
    assert {"numpy", "torch", "scipy"} <= set(fp["packages"])
    assert fp["env"]["OMP_NUM_THREADS"] == "1"
    assert "MKL_NUM_THREADS" not in fp["env"]
    json.dumps(fp)


def test_fingerprint_is_cached_and_imports_no_torch() -> None:
    code = (
        "import sys\n"
        "from pytest_repro.environment import fingerprint, cached_fingerprint\n"
        "fp = fingerprint()\n"
        "assert cached_fingerprint() == cached_fingerprint() == fp\n"
        "assert cached_fingerprint() is not cached_fingerprint()  # callers get copies\n"
        "assert 'torch' not in sys.modules\n"
        "assert fp['packages']['torch'] is not None\n"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )


def test_cached_fingerprint_returns_copies() -> None:
    fp = cached_fingerprint(["packaging"])
    fp["packages"]["numpy"] = "changed"
    assert cached_fingerprint(["packaging"])["packages"]["numpy"] != "changed"


def test_fingerprint_takes_cuda_from_torch_only_when_torch_is_imported() -> None:
    torch = pytest.importorskip("torch")
    cuda = fingerprint()["cuda"]
    assert cuda is not None
    assert cuda["source"] == "torch"
    assert cuda["runtime"] == torch.version.cuda


def test_cache_fields_keep_what_changes_results_only() -> None:
    fp = fingerprint()
    fields = cache_fields(fp, device_kind="cpu")
    assert fields["python"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert set(fields) == {"python", "implementation", "machine", "packages", "device"}
    assert fields["device"] == "cpu"
    other_cpu = {**fp, "cpu": "Another CPU", "cpu_count": 128, "platform": "other"}
    assert cache_fields(other_cpu, device_kind="cpu") == fields
    newer = {**fp, "packages": {**fp["packages"], "numpy": "0.0.1"}}
    assert cache_fields(newer, device_kind="cpu") != fields


# -- GPUs through a stand-in nvidia-smi ---------------------------------------------------

FAKE_SMI = """#!/bin/sh
if [ "$1" = "--query-gpu=index,name,memory.total,driver_version,uuid" ]; then
  echo "0, NVIDIA H100 80GB HBM3, 81559, 550.54.15, GPU-aaaa1111"
  echo "1, NVIDIA A100-SXM4-40GB, 40960, 550.54.15, GPU-bbbb2222"
  exit 0
fi
echo "| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4 |"
"""


@pytest.fixture
def fake_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    smi = bin_dir / "nvidia-smi"
    smi.write_text(FAKE_SMI)
    smi.chmod(smi.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    return smi


def test_gpus_come_from_nvidia_smi(fake_smi: Path) -> None:
    gpus = environment.visible_gpus()
    assert [g["name"] for g in gpus] == ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"]
    assert gpus[0]["memory_mib"] == 81559
    assert gpus[0]["driver"] == "550.54.15"


def test_device_kind_respects_cuda_visible_devices(
    fake_smi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert device_kind(0) == "cpu"
    assert device_kind(1) == "cuda:NVIDIA H100 80GB HBM3"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1")
    assert device_kind(1) == "cuda:NVIDIA A100-SXM4-40GB"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "GPU-aaaa")
    assert device_kind(1) == "cuda:NVIDIA H100 80GB HBM3"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "1,0")
    assert device_kind(2) == "cuda:NVIDIA A100-SXM4-40GB+NVIDIA H100 80GB HBM3"
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    with pytest.raises(EnvironmentDrift, match=r"resources.gpus=1, but 0 NVIDIA GPU"):
        device_kind(1)


def test_without_torch_cuda_is_the_drivers_version_and_labelled(fake_smi: Path) -> None:
    code = (
        "import json\n"
        "from pytest_repro.environment import fingerprint\n"
        "print(json.dumps(fingerprint()['cuda']))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    cuda = json.loads(out.stdout)
    assert cuda["source"] == "nvidia-smi"
    assert cuda["driver_cuda"] == "12.4"
    assert "driver" in cuda["note"]


def test_no_nvidia_smi_means_no_gpus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert environment.visible_gpus() == []
    with pytest.raises(EnvironmentDrift, match="fix: run on a machine"):
        device_kind(1)


# -- lockfiles ----------------------------------------------------------------------------


def test_requirements_lock_pins_hashes_comments_and_index_options(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        "# generated\n"
        "--index-url https://example.invalid/simple\n"
        "numpy==2.4.6 \\\n"
        "    --hash=sha256:aaaa \\\n"
        "    --hash=sha256:bbbb\n"
        "\n"
        "Scikit_Learn[extra]==1.9.1  # inline comment\n"
        'tomli==2.0.1 ; python_version < "3.11"\n'
        "weird===1.0-local\n"
    )
    pins = read_lockfile(lock, display="papers/x/requirements.lock")
    assert [(p.name, p.version, p.loc.line) for p in pins] == [
        ("numpy", "2.4.6", 3),
        ("scikit-learn", "1.9.1", 7),
        ("tomli", "2.0.1", 8),
        ("weird", "1.0-local", 9),
    ]
    assert pins[2].marker is not None
    assert pins[3].operator == "==="
    assert str(pins[0].loc) == "papers/x/requirements.lock:3"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("numpy>=1.2", "not an exact pin"),
        ("numpy", "not an exact pin"),
        ("numpy==1.*", "not an exact pin"),
        ("-r other.txt", "option -r is not allowed"),
        ("-e .", "option -e is not allowed"),
        ("numpy==1.0 --config-settings x=y", "option --config-settings"),
        ("pkg @ https://example.invalid/pkg.whl", "not an exact pin"),
        ("numpy==1.0 ==2.0 ((", "is not a requirement"),
    ],
)
def test_a_bad_lock_line_names_file_line_and_fix(tmp_path: Path, line: str, message: str) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(f"scipy==1.0\n{line}\n")
    with pytest.raises(SpecError) as info:
        read_lockfile(lock, display="papers/x/requirements.lock")
    text = str(info.value)
    assert text.startswith("papers/x/requirements.lock:2: ")
    assert message in text
    assert "fix:" in text
    assert info.value.line == 2


def test_a_package_pinned_twice_is_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text("numpy==1.0\nNumPy==2.0\n")
    with pytest.raises(SpecError, match="pinned twice"):
        read_lockfile(lock)


def test_pylock_toml_is_read_with_the_line_of_each_package(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\n'
        'created-by = "test"\n'
        "\n"
        "[[packages]]\n"
        'name = "numpy"\n'
        'version = "2.4.6"\n'
        "\n"
        "[[packages.wheels]]\n"
        'url = "https://example.invalid/numpy.whl"\n'
        "\n"
        "[[packages]]\n"
        'name = "Torch"\n'
        'version = "2.13.0"\n'
        "marker = \"sys_platform == 'linux'\"\n"
    )
    pins = read_lockfile(lock)
    assert [(p.name, p.version, p.loc.line) for p in pins] == [
        ("numpy", "2.4.6", 4),
        ("torch", "2.13.0", 11),
    ]
    assert pins[1].marker == "sys_platform == 'linux'"


def test_a_pylock_package_without_version_is_an_error(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\n[[packages]]\nname = "local"\n')
    with pytest.raises(SpecError, match=r"pylock.toml:2: packages\[0\]: .*version"):
        read_lockfile(lock)
    lock.write_text("[[packages]\n")
    with pytest.raises(SpecError, match="not valid TOML"):
        read_lockfile(lock)


# -- drift --------------------------------------------------------------------------------


def _fp(**packages: str | None) -> dict[str, object]:
    return {
        "python": "3.11.9",
        "implementation": "CPython",
        "machine": "x86_64",
        "gpus": [],
        "cuda": None,
        "packages": packages,
    }


def test_check_environment_lists_every_kind_of_drift(tmp_path: Path) -> None:
    (tmp_path / "requirements.lock").write_text("numpy==1.26.4\nscipy==1.14.0\n")
    spec = _spec(
        python=">=3.12",
        requires=("torch>=2.1", "missing-pkg", "numpy>=1.24"),
        requires_locs=(Location("papers/x/paper.yaml", 13), Location("papers/x/paper.yaml", 14)),
        lockfile="requirements.lock",
    )
    fp = _fp(numpy="2.4.6", torch="2.0.1+cpu", scipy="1.14.0", **{"missing-pkg": None})
    drifts = check_environment(spec, tmp_path, fp=fp)
    assert [(d.kind, d.name, d.expected, d.installed) for d in drifts] == [
        ("python", "python", ">=3.12", "3.11.9"),
        ("requires", "torch", ">=2.1", "2.0.1+cpu"),
        ("requires", "missing-pkg", "installed", None),
        ("lockfile", "numpy", "==1.26.4", "2.4.6"),
    ]
    assert str(drifts[1].loc) == "papers/x/paper.yaml:13"
    assert str(drifts[3].loc) == "papers/x/requirements.lock:1"
    table = format_drift_table(drifts)
    lines = table.splitlines()
    assert lines[0].split() == ["where", "kind", "name", "expected", "installed"]
    assert "papers/x/requirements.lock:1" in lines[4]
    assert lines[3].rstrip().endswith("missing")
    for line, drift in zip(lines[1:], drifts, strict=True):
        assert line.index(f" {drift.kind} ") + 1 == lines[0].index("kind")


def test_a_matching_environment_has_no_drift(tmp_path: Path) -> None:
    (tmp_path / "requirements.lock").write_text(
        'numpy==2.4.6\nother==9.9 ; python_version < "3.0"\n'
    )
    spec = _spec(
        python=">=3.10",
        requires=("torch>=2.1", 'ancient ; python_version < "3.0"'),
        lockfile="requirements.lock",
    )
    fp = _fp(numpy="2.4.6", torch="2.13.0+cpu")
    assert check_environment(spec, tmp_path, fp=fp) == []
    assert format_drift_table([]).startswith("no drift")


def test_check_environment_reads_the_real_interpreter_by_default(tmp_path: Path) -> None:
    import numpy

    (tmp_path / "req.lock").write_text(f"numpy=={numpy.__version__}\n")
    spec = _spec(python=">=3.10", requires=("packaging",), lockfile="req.lock")
    assert check_environment(spec, tmp_path) == []


def test_cuda_pin_is_skipped_without_a_gpu_and_says_so(tmp_path: Path) -> None:
    spec = _spec(cuda=">=12.1")
    with pytest.warns(ReproWarning, match=r"paper.yaml:12: environment.cuda: '>=12.1' not checked"):
        assert check_environment(spec, tmp_path, fp=_fp(), gpus=0) == []


def test_cuda_pin_is_checked_against_torch_or_the_driver(tmp_path: Path) -> None:
    spec = _spec(cuda=">=12.1")
    gpu = [{"name": "NVIDIA H100"}]
    torch_cuda = {**_fp(), "gpus": gpu, "cuda": {"source": "torch", "runtime": "11.8"}}
    [drift] = check_environment(spec, tmp_path, fp=torch_cuda)
    assert (drift.kind, drift.installed) == ("cuda", "11.8")
    cpu_build = {**_fp(), "gpus": gpu, "cuda": {"source": "torch", "runtime": None}}
    [drift] = check_environment(spec, tmp_path, fp=cpu_build, gpus=1)
    assert "CPU build" in (drift.installed or "")
    driver = {**_fp(), "gpus": gpu, "cuda": {"source": "nvidia-smi", "driver_cuda": "12.4"}}
    assert check_environment(spec, tmp_path, fp=driver) == []
    old_driver = {**_fp(), "gpus": gpu, "cuda": {"source": "nvidia-smi", "driver_cuda": "11.0"}}
    [drift] = check_environment(spec, tmp_path, fp=old_driver)
    assert drift.installed == "11.0 (driver's highest)"
    nothing = {**_fp(), "gpus": gpu, "cuda": None}
    [drift] = check_environment(spec, tmp_path, fp=nothing)
    assert drift.installed is None


def test_a_missing_lockfile_and_a_bad_requirement_are_spec_errors(tmp_path: Path) -> None:
    with pytest.raises(
        SpecError, match=r"papers/x/paper.yaml:12: environment.lockfile: cannot read papers/x/nope"
    ):
        check_environment(_spec(lockfile="nope.lock"), tmp_path, fp=_fp())
    spec = _spec(requires=("torch >>= 2",), requires_locs=(Location("papers/x/paper.yaml", 20),))
    with pytest.raises(SpecError, match=r"paper.yaml:20: environment.requires\[0\]"):
        check_environment(spec, tmp_path, fp=_fp())


def test_drift_is_json_and_readable() -> None:
    drift = Drift(name="numpy", expected="==1.0", installed=None, kind="lockfile", loc=YAML)
    assert json.loads(json.dumps(drift.to_json()))["loc"] == "papers/x/paper.yaml:12"
    assert str(drift) == "papers/x/paper.yaml:12: numpy: expected ==1.0, installed none"


# -- isolation ----------------------------------------------------------------------------


def _wheel(folder: Path, name: str, version: str, body: str) -> Path:
    """Write a minimal pure-python wheel (the format is a zip with a dist-info folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": body,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


@pytest.fixture
def paper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("UV_NO_CONFIG", "1")
    _wheel(tmp_path / "wheels", "tinypkg", "0.1.0", "VALUE = 'isolated'\n")
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "requirements.lock").write_text("tinypkg==0.1.0\n")
    return folder


def _build(paper: Path, cache: Path) -> Path:
    spec = _spec(lockfile="requirements.lock")
    return isolated_python(spec, paper, cache, find_links=[paper.parent / "wheels"], offline=True)


def test_isolated_python_installs_the_lock_once_and_reuses_it(paper: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    python = _build(paper, cache)
    out = subprocess.run(
        [str(python), "-c", "import sys, tinypkg; print(tinypkg.VALUE); print(sys.prefix)"],
        check=True,
        capture_output=True,
        text=True,
    )
    value, prefix = out.stdout.split()
    assert value == "isolated"
    assert Path(prefix) != Path(sys.prefix)
    assert Path(prefix).parent == cache / "envs"
    marker = Path(prefix) / "repro-env.json"
    record = json.loads(marker.read_text())
    assert "tinypkg==0.1.0" in record["installed"]
    built_at = marker.stat().st_mtime_ns

    assert _build(paper, cache) == python
    assert marker.stat().st_mtime_ns == built_at  # reused, not rebuilt
    assert [p.name for p in (cache / "envs").iterdir() if not p.name.endswith(".lock")] == [
        Path(prefix).name
    ]


def test_a_changed_lock_gets_a_new_environment(paper: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _build(paper, cache)
    _wheel(paper.parent / "wheels", "tinypkg", "0.2.0", "VALUE = 'newer'\n")
    (paper / "requirements.lock").write_text("tinypkg==0.2.0\n")
    second = _build(paper, cache)
    assert first != second
    out = subprocess.run(
        [str(second), "-c", "import tinypkg; print(tinypkg.VALUE)"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "newer"


def test_concurrent_threads_build_the_environment_once(
    paper: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[int] = []
    real_build = isolate._build_env
    guard = threading.Lock()

    def counting_build(*args: object, **kwargs: object) -> dict[str, object]:
        with guard:
            builds.append(threading.get_ident())
        return real_build(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(isolate, "_build_env", counting_build)
    cache = tmp_path / "cache"
    with ThreadPoolExecutor(4) as pool:
        pythons = list(pool.map(lambda _: _build(paper, cache), range(4)))
    assert len(set(pythons)) == 1
    assert len(builds) == 1


def _build_in_process(args: tuple[str, str]) -> str:
    paper, cache = map(Path, args)
    return str(_build(paper, cache))


def test_concurrent_processes_share_one_environment(paper: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with ProcessPoolExecutor(2) as pool:
        pythons = set(pool.map(_build_in_process, [(str(paper), str(cache))] * 3))
    assert len(pythons) == 1
    leftovers = [p.name for p in (cache / "envs").iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_a_failed_build_leaves_nothing_and_shows_uvs_output(paper: Path, tmp_path: Path) -> None:
    (paper / "requirements.lock").write_text("tinypkg==9.9.9\n")
    cache = tmp_path / "cache"
    with pytest.raises(EnvironmentBuildError) as info:
        _build(paper, cache)
    message = str(info.value)
    assert message.startswith(
        "building the isolated environment for papers/x/requirements.lock failed: `uv pip install`"
    )
    assert "tinypkg" in message  # uv's own explanation
    assert "fix:" in message
    assert [p.name for p in (cache / "envs").iterdir() if not p.name.endswith(".lock")] == []


def test_a_missing_uv_says_how_to_install_it(
    paper: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolate.shutil, "which", lambda name: None)
    monkeypatch.setitem(sys.modules, "uv", None)
    with pytest.raises(EnvironmentBuildError, match=r"pip install uv .*pytest-repro\[isolate\]"):
        _build(paper, tmp_path / "cache")


def test_nothing_to_install_is_a_spec_error(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="needs a lockfile or requires"):
        isolated_python(_spec(), tmp_path, tmp_path / "cache")
