"""Data sources: each kind really loaded, fingerprinted by content, pinned with errors
that point at the spec line."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pytest_repro import data
from pytest_repro.data import (
    DataFingerprint,
    fingerprint_value,
    identity,
    load,
    train_test_overlap,
)
from pytest_repro.errors import DataError, ReproWarning
from pytest_repro.spec.schema import DataSource, FileRef, HFRef, Location

ROOT = Path(__file__).resolve().parents[2]
YAML = "papers/x/paper.yaml"


def _loc(line: int) -> Location:
    return Location(YAML, line)


def _source(name: str = "d", **kwargs: object) -> DataSource:
    kwargs.setdefault("loc", _loc(30))
    return DataSource(name=name, **kwargs)  # type: ignore[arg-type]


needs_sklearn = pytest.mark.skipif(
    importlib.util.find_spec("sklearn") is None, reason="scikit-learn is not installed"
)


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return out.stdout.strip()


def test_importing_the_modules_imports_no_heavy_library() -> None:
    heavy = ["torch", "scipy", "sklearn", "datasets", "pandas", "pyarrow"]
    code = (
        "import sys\n"
        "import pytest_repro.seeding, pytest_repro.environment, pytest_repro.data\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    assert _run(code) == "[]"


# -- sklearn ------------------------------------------------------------------------------


@needs_sklearn
def test_sklearn_digits_load_with_a_stable_fingerprint(tmp_path: Path) -> None:
    source = _source("digits", kind="sklearn", target="load_digits")
    value, fp = load(source, tmp_path)
    assert value.data.shape == (1797, 64)
    assert isinstance(fp, DataFingerprint)
    assert (fp.name, fp.kind) == ("digits", "sklearn")
    assert fp.details["summary"]["data"] == [1797, 64]
    assert fp.details["scikit-learn"]
    assert load(source, tmp_path)[1].fingerprint == fp.fingerprint
    assert fp.identity == identity(source, tmp_path)
    json.dumps(fp.to_json())


@needs_sklearn
def test_sklearn_generator_args_change_identity_and_content(tmp_path: Path) -> None:
    a = _source(kind="sklearn", target="make_moons", args={"n_samples": 50, "random_state": 0})
    b = _source(kind="sklearn", target="make_moons", args={"n_samples": 50, "random_state": 1})
    assert identity(a, tmp_path) != identity(b, tmp_path)
    assert load(a, tmp_path)[1].fingerprint != load(b, tmp_path)[1].fingerprint


@needs_sklearn
@pytest.mark.parametrize(
    ("target", "args", "message"),
    [
        ("fetch_openml", {}, "not a bundled loader"),
        ("load_nothing_here", {}, "sklearn.datasets has no load_nothing_here"),
        ("load_iris", {"colour": "red"}, "rejected the arguments"),
    ],
)
def test_a_bad_sklearn_source_names_the_spec_line(
    tmp_path: Path, target: str, args: dict[str, object], message: str
) -> None:
    source = _source("iris", kind="sklearn", target=target, args=args, loc=_loc(41))
    with pytest.raises(DataError) as info:
        load(source, tmp_path)
    assert str(info.value).startswith("papers/x/paper.yaml:41: data.iris.")
    assert message in str(info.value)
    assert "fix:" in str(info.value)


# -- python -------------------------------------------------------------------------------


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    folder = tmp_path / "paper"
    folder.mkdir()
    (folder / "helpers.py").write_text("SCALE = 2.0\n")
    (folder / "data.py").write_text(
        "import numpy as np\n"
        "from helpers import SCALE\n"
        "def make(n, seed=0):\n"
        "    rng = np.random.default_rng(seed)\n"
        "    return {'x': rng.normal(size=(n, 3)) * SCALE, 'y': rng.integers(0, 2, n)}\n"
    )
    return folder


def test_python_generator_in_the_paper_folder_loads(paper: Path) -> None:
    source = _source("toy", kind="python", target="data:make", args={"n": 20, "seed": 3})
    value, fp = load(source, paper)
    assert value["x"].shape == (20, 3)
    assert fp.details["module_file"] == "data.py"
    assert fp.details["summary"] == {"x": [20, 3], "y": [20]}
    assert load(source, paper)[1].fingerprint == fp.fingerprint
    assert "data" not in sys.modules or not hasattr(sys.modules["data"], "make")
    assert str(paper) not in sys.path


def test_python_identity_follows_the_module_source_and_args(paper: Path) -> None:
    source = _source(kind="python", target="data:make", args={"n": 20})
    before = identity(source, paper)
    assert identity(source, paper) == before
    other_args = _source(kind="python", target="data:make", args={"n": 21})
    assert identity(other_args, paper) != before
    (paper / "data.py").write_text((paper / "data.py").read_text() + "# changed\n")
    assert identity(source, paper) != before


def test_two_papers_with_the_same_module_name_do_not_collide(tmp_path: Path) -> None:
    values = []
    for index in range(2):
        folder = tmp_path / f"p{index}"
        folder.mkdir()
        (folder / "data.py").write_text(f"def make():\n    return {index}\n")
        values.append(load(_source(kind="python", target="data:make"), folder)[0])
    assert values == [0, 1]


def test_an_importable_module_is_identified_by_its_distribution(tmp_path: Path) -> None:
    source = _source(kind="python", target="numpy:arange", args={"stop": 4}, trusted=True)
    value, fp = load(source, tmp_path)
    assert value.tolist() == [0, 1, 2, 3]
    assert fp.identity == identity(source, tmp_path)
    parts = data.identity_parts(source, tmp_path, data.HashCache(None))
    assert parts["code"] == {"distributions": {"numpy": np.__version__}}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("nowhere_module_xyz:make", "neither in the paper folder"),
        ("data:missing", "has no function 'missing'"),
        ("data", "is not `module:function`"),
    ],
)
def test_a_bad_python_source_names_the_spec_line(paper: Path, target: str, message: str) -> None:
    with pytest.raises(DataError, match=rf"^papers/x/paper.yaml:30: data\.d\.python: .*{message}"):
        load(_source(kind="python", target=target), paper)


# -- files --------------------------------------------------------------------------------


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "paper" / "train.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_text("a,b\n1,2\n3,4\n5,6\n")
    return path


def test_files_with_the_right_sha256_load_as_paths(csv_file: Path) -> None:
    sha = data.file_sha256(csv_file)
    ref = FileRef(path="train.csv", sha256=sha, loc=_loc(50))
    value, fp = load(_source("local", kind="files", files=(ref,)), csv_file.parent)
    assert value == {"train.csv": csv_file}
    assert fp.details["files"]["train.csv"]["sha256"] == sha
    short = FileRef(path="train.csv", sha256=f"sha256:{sha[:12].upper()}", loc=_loc(50))
    load(_source("local", kind="files", files=(short,)), csv_file.parent)


def test_a_wrong_sha256_names_the_line_both_digests_and_the_fix(csv_file: Path) -> None:
    sha = data.file_sha256(csv_file)
    ref = FileRef(path="train.csv", sha256="0" * 64, loc=_loc(51))
    with pytest.raises(DataError) as info:
        load(_source("local", kind="files", files=(ref,)), csv_file.parent)
    text = str(info.value)
    assert text.startswith("papers/x/paper.yaml:51: data.local.files[0].sha256: ")
    assert f"expected {'0' * 64}, got {sha}" in text
    assert f"update the pin to sha256: {sha}" in text


def test_a_missing_file_names_the_file_the_line_and_the_fix(tmp_path: Path) -> None:
    ref = FileRef(path="data/absent.csv", loc=_loc(52))
    source = _source("local", kind="files", files=(ref,))
    for call in (lambda: load(source, tmp_path), lambda: identity(source, tmp_path)):
        with pytest.raises(DataError) as info:
            call()
        text = str(info.value)
        assert text.startswith("papers/x/paper.yaml:52: data.local.files[0]: data/absent.csv")
        assert "does not exist" in text
        assert "fix: put the file there" in text


def test_file_identity_is_cheap_on_a_warm_cache(
    csv_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    big = csv_file.parent / "big.bin"
    big.write_bytes(np.random.default_rng(0).bytes(8 << 20))
    source = _source(
        "local",
        kind="files",
        files=(FileRef(path="train.csv", loc=_loc(1)), FileRef(path="big.bin", loc=_loc(2))),
    )
    cache = tmp_path / "cache"
    cold = identity(source, csv_file.parent, cache_dir=cache)
    reads: list[Path] = []
    real = data.file_sha256
    monkeypatch.setattr(data.fingerprint, "file_sha256", lambda p: reads.append(p) or real(p))
    warm = identity(source, csv_file.parent, cache_dir=cache)
    assert warm == cold
    assert reads == []  # warm: no file is read again (timings: benchmarks/overhead.py)
    big.write_bytes(b"changed")
    assert identity(source, csv_file.parent, cache_dir=cache) != cold
    assert [p.name for p in reads] == ["big.bin"]


@needs_sklearn
def test_a_content_pin_that_differs_is_an_error_with_the_new_value(tmp_path: Path) -> None:
    source = _source("digits", kind="sklearn", target="load_iris", fingerprint="ab" * 32)
    with pytest.raises(DataError) as info:
        load(source, tmp_path)
    actual = load(_source(kind="sklearn", target="load_iris"), tmp_path)[1].fingerprint
    assert str(info.value).startswith("papers/x/paper.yaml:30: data.digits.fingerprint: ")
    assert f"update the pin to fingerprint: {actual}" in str(info.value)
    pinned = _source("digits", kind="sklearn", target="load_iris", fingerprint=actual)
    assert load(pinned, tmp_path)[1].fingerprint == actual


# -- hf -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hf_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Offline, with every datasets/hub cache under a temporary folder."""
    home = tmp_path_factory.mktemp("hf-home")
    with pytest.MonkeyPatch.context() as mp:
        for var, value in {
            "HF_HOME": str(home),
            "HF_DATASETS_CACHE": str(home / "datasets"),
            "HF_HUB_CACHE": str(home / "hub"),
            "HF_DATASETS_OFFLINE": "1",
            "HF_HUB_OFFLINE": "1",
        }.items():
            mp.setenv(var, value)
        datasets = pytest.importorskip("datasets")
        import huggingface_hub.constants as hub

        for name, value in {
            "HF_HUB_OFFLINE": True,
            "HF_DATASETS_OFFLINE": True,
            "HF_CACHE_HOME": str(home),
            "HF_DATASETS_CACHE": home / "datasets",
            "HF_MODULES_CACHE": home / "modules",
        }.items():
            mp.setattr(datasets.config, name, value)
        mp.setattr(hub, "HF_HUB_OFFLINE", True)
        mp.setattr(hub, "HF_HUB_CACHE", str(home / "hub"))
        yield home / "datasets"


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    pd = pytest.importorskip("pandas")

    folder = tmp_path / "paper"
    (folder / "data").mkdir(parents=True)
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "label": ["a", "b", "a", "b"]})
    frame.to_csv(folder / "data" / "train.csv", index=False)
    frame.iloc[:2].to_csv(folder / "data" / "test.csv", index=False)
    frame.to_json(folder / "data" / "train.jsonl", orient="records", lines=True)
    frame.to_parquet(folder / "data" / "train.parquet")
    return folder


@pytest.mark.parametrize("builder", ["csv", "json", "parquet"])
def test_hf_local_builders_load_data_files_relative_to_the_paper(
    tables: Path, hf_cache: Path, builder: str
) -> None:
    suffix = {"csv": "csv", "json": "jsonl", "parquet": "parquet"}[builder]
    ref = HFRef(path=builder, data_files=f"data/train.{suffix}", split="train", loc=_loc(60))
    source = _source("table", kind="hf", hf=ref)
    value, fp = load(source, tables, hf_cache_dir=hf_cache)
    assert value.num_rows == 4
    assert value["x"] == [1, 2, 3, 4]
    assert fp.details["summary"]["rows"] == 4
    assert fp.fingerprint == load(source, tables, hf_cache_dir=hf_cache)[1].fingerprint
    assert fp.identity == identity(source, tables)
    (tables / "data" / f"train.{suffix}").write_bytes(b"")  # the identity reads the files
    assert identity(source, tables) != fp.identity


def test_hf_splits_from_a_mapping_of_data_files(tables: Path, hf_cache: Path) -> None:
    files = {"train": "data/train.csv", "test": ["data/test.csv"]}
    ref = HFRef(path="csv", data_files=files, loc=_loc(61))
    value, fp = load(_source(kind="hf", hf=ref), tables, hf_cache_dir=hf_cache)
    assert dict(value.num_rows) == {"train": 4, "test": 2}
    assert fp.details["summary"]["rows"] == {"train": 4, "test": 2}


def test_hf_save_to_disk_round_trip_keeps_the_fingerprint(tables: Path, hf_cache: Path) -> None:
    ref = HFRef(path="csv", data_files="data/train.csv", split="train", loc=_loc(62))
    original, fp = load(_source(kind="hf", hf=ref), tables, hf_cache_dir=hf_cache)
    original.save_to_disk(str(tables / "saved"))
    disk = HFRef(path="saved", from_disk=True, loc=_loc(63))
    reloaded, fp_disk = load(_source(kind="hf", hf=disk), tables)
    assert reloaded["x"] == [1, 2, 3, 4]
    assert fp_disk.fingerprint == fp.fingerprint
    assert fp_disk.identity != fp.identity

    original.select([0, 1, 3, 2]).save_to_disk(str(tables / "shuffled"))
    shuffled = HFRef(path="shuffled", from_disk=True, loc=_loc(64))
    assert load(_source(kind="hf", hf=shuffled), tables)[1].fingerprint != fp.fingerprint


def test_hf_from_disk_split_of_a_dataset_dict(tables: Path, hf_cache: Path) -> None:
    import datasets

    both = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"x": [1, 2]}),
            "test": datasets.Dataset.from_dict({"x": [3]}),
        }
    )
    both.save_to_disk(str(tables / "dd"))
    value, _ = load(
        _source(kind="hf", hf=HFRef(path="dd", from_disk=True, split="test", loc=_loc(65))), tables
    )
    assert value["x"] == [3]
    bad = _source(kind="hf", hf=HFRef(path="dd", from_disk=True, split="valid", loc=_loc(66)))
    with pytest.raises(DataError, match=r"paper.yaml:66: data.d.hf.split: dd has no split 'valid'"):
        load(bad, tables)


def test_an_unpinned_hub_dataset_warns_with_the_line_and_the_fix(tmp_path: Path) -> None:
    source = _source("hub", kind="hf", hf=HFRef(path="someone/some-data", loc=_loc(70)))
    with pytest.warns(
        ReproWarning, match=r"(?s)paper.yaml:70: data.hub.hf.revision: .*pin revision"
    ):
        identity(source, tmp_path)
    pinned = _source(
        "hub", kind="hf", hf=HFRef(path="someone/some-data", revision="abc123", loc=_loc(70))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        identity(pinned, tmp_path)


def test_a_hub_dataset_missing_offline_is_a_data_error(tmp_path: Path, hf_cache: Path) -> None:
    ref = HFRef(path="someone/not-cached-here", revision="0123abc", split="train", loc=_loc(71))
    with pytest.raises(DataError) as info:
        load(_source("hub", kind="hf", hf=ref), tmp_path, hf_cache_dir=hf_cache)
    text = str(info.value)
    assert text.startswith("papers/x/paper.yaml:71: data.hub.hf: loading 'someone/not-cached-here'")
    assert "revision" in text
    assert "fix:" in text
    assert info.value.__cause__ is None


def test_hf_data_files_that_match_nothing_name_the_line(tmp_path: Path) -> None:
    ref = HFRef(path="csv", data_files=["data/*.csv"], loc=_loc(72))
    with pytest.raises(
        DataError, match=r"paper.yaml:72: data.d.hf.data_files: data/\*.csv matches"
    ):
        identity(_source(kind="hf", hf=ref), tmp_path)


# -- fingerprint_value --------------------------------------------------------------------


def _sample() -> dict[str, object]:
    return {
        "x": np.arange(12, dtype=np.float32).reshape(3, 4),
        "names": ["a", "b", None],
        "meta": {"n": 3, "ok": True, "eps": 0.1, "blob": b"\x00\x01"},
        "t": (1, 2.5),
    }


def test_fingerprints_are_stable_across_processes() -> None:
    code = (
        "import numpy as np\n"
        "from pytest_repro.data import fingerprint_value\n"
        "print(fingerprint_value({'x': np.arange(12, dtype=np.float32).reshape(3, 4),"
        " 'names': ['a', 'b', None], 'meta': {'n': 3, 'ok': True, 'eps': 0.1,"
        " 'blob': b'\\x00\\x01'}, 't': (1, 2.5)}))\n"
    )
    assert _run(code) == fingerprint_value(_sample())


def test_fingerprint_ignores_key_order_but_sees_one_changed_element() -> None:
    base = fingerprint_value(_sample())
    reordered = dict(reversed(list(_sample().items())))
    assert fingerprint_value(reordered) == base
    changed = _sample()
    changed["x"][2, 3] = 99  # type: ignore[index]
    assert fingerprint_value(changed) != base
    assert fingerprint_value({**_sample(), "names": ["a", "b", "c"]}) != base
    assert fingerprint_value({**_sample(), "t": (1, 2.5000001)}) != base


def test_fingerprint_sees_dtype_shape_and_type() -> None:
    a = np.arange(6)
    assert fingerprint_value(a) != fingerprint_value(a.astype(np.int32))
    assert fingerprint_value(a) != fingerprint_value(a.reshape(2, 3))
    assert fingerprint_value(a[::2]) == fingerprint_value(np.array([0, 2, 4]))
    assert fingerprint_value(1) != fingerprint_value(1.0) != fingerprint_value("1")
    assert fingerprint_value([1, 2]) == fingerprint_value((1, 2))
    assert fingerprint_value({1, 2}) == fingerprint_value({2, 1})
    assert fingerprint_value(a.astype(">i8")) == fingerprint_value(a.astype("<i8"))
    objects = np.array(["x", 1, None], dtype=object)
    assert fingerprint_value(objects) == fingerprint_value(objects.copy())


def test_fingerprint_of_data_frames_tensors_and_paths(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    torch = pytest.importorskip("torch")

    frame = pd.DataFrame({"a": [1, 2, 3], "s": ["x", "y", "z"]})
    assert fingerprint_value(frame) == fingerprint_value(frame.copy())
    edited = frame.copy()
    edited.loc[1, "s"] = "Y"
    assert fingerprint_value(edited) != fingerprint_value(frame)
    assert fingerprint_value(frame["a"]) != fingerprint_value(frame["a"] + 1)

    tensor = torch.arange(6, dtype=torch.float32).reshape(2, 3)
    assert fingerprint_value(tensor) == fingerprint_value(tensor.clone())
    assert fingerprint_value(tensor) != fingerprint_value(tensor.double())
    bumped = tensor.clone()
    bumped[1, 2] += 1
    assert fingerprint_value(bumped) != fingerprint_value(tensor)
    half = tensor.to(torch.bfloat16)
    assert fingerprint_value(half) == fingerprint_value(half.clone())

    file = tmp_path / "f.bin"
    file.write_bytes(b"abc")
    first = fingerprint_value({"f": file})
    file.write_bytes(b"abd")
    assert fingerprint_value({"f": file}) != first


def test_fingerprint_of_a_dataset_is_content_not_chunking(hf_cache: Path) -> None:
    import datasets
    import pyarrow as pa

    rows = {"x": list(range(20_000)), "s": [str(i % 7) for i in range(20_000)]}
    one = datasets.Dataset.from_dict(rows)
    chunked = datasets.Dataset(
        pa.concat_tables([pa.table(rows).slice(0, 777), pa.table(rows).slice(777)])
    )
    assert fingerprint_value(one) == fingerprint_value(chunked)
    rows["s"][12_345] = "changed"
    assert fingerprint_value(datasets.Dataset.from_dict(rows)) != fingerprint_value(one)


def test_unknown_types_are_refused_with_advice() -> None:
    with pytest.raises(TypeError, match="cannot fingerprint"):
        fingerprint_value(object())


# -- overlap ------------------------------------------------------------------------------


def test_overlap_finds_planted_duplicate_rows() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(size=(500, 8))
    test = rng.normal(size=(100, 8))
    test[[3, 40, 77]] = train[[10, 20, 30]]
    report = train_test_overlap(train, test)
    assert (report.count, report.n_a, report.n_b) == (3, 500, 100)
    assert report.overlap == report.count
    assert report.fraction == pytest.approx(0.03)
    assert report.examples == (3, 40, 77)
    assert str(report).startswith("3 of 100 test rows (3.0%) also occur in train")
    json.dumps(report.to_json())
    assert train_test_overlap(train, rng.normal(size=(50, 8))).count == 0


def test_overlap_compares_across_dtypes_and_signed_zero() -> None:
    a = np.array([[0.0, 1.0], [2.0, 3.0]], dtype=np.float64)
    b = np.array([[-0.0, 1.0], [5.0, 6.0]], dtype=np.float32)
    assert train_test_overlap(a, b).examples == (0,)


def test_overlap_of_lists_and_datasets(hf_cache: Path) -> None:
    import datasets

    assert train_test_overlap([{"t": "a"}, {"t": "b"}], [{"t": "b"}, {"t": "c"}]).count == 1
    train = datasets.Dataset.from_dict({"text": ["a", "b", "c"], "y": [0, 1, 0]})
    test = datasets.Dataset.from_dict({"text": ["c", "d"], "y": [0, 1]})
    report = train_test_overlap(train, test, names=("train", "valid"))
    assert (report.count, report.examples) == (1, (0,))
    assert "valid rows" in str(report)
