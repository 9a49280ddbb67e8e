"""A paper.yaml alone cannot make pytest call code outside its folder, unless it trusts it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from pytest_repro import data
from pytest_repro.errors import DataError, SpecError
from pytest_repro.spec import load_spec
from pytest_repro.spec.schema import DataSource, Location
from pytest_repro.spec.trusted_section import installed

SPEC = """\
paper: {{id: p, title: t}}
{trusted}run:
  entrypoint: {entrypoint}
{data}claims:
  - id: acc
    text: t
    source: Table 1
    metric: acc
    at: {{epoch: 1}}
    paper: 0.9
    tolerance: 0.1
"""

TRAIN = "def run(ctx):\n    ctx.log(epoch=1, acc=0.9)\n"


def write(
    folder: Path, *, entrypoint: str = "train:run", data: str = "", trusted: str = ""
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "train.py").write_text(TRAIN)
    path = folder / "paper.yaml"
    path.write_text(SPEC.format(entrypoint=entrypoint, data=data, trusted=trusted))
    return path


def problems(path: Path) -> list[tuple[int, str, str, str]]:
    with pytest.raises(SpecError) as raised:
        load_spec(path, display="papers/p/paper.yaml")
    return [(p.line, p.field, p.message, p.fix) for p in raised.value.problems]


@pytest.mark.parametrize("target", ["os:system", "builtins:eval", "subprocess:getoutput"])
def test_an_entrypoint_outside_the_folder_is_refused_at_its_line(
    tmp_path: Path, target: str
) -> None:
    found = problems(write(tmp_path / "p", entrypoint=target))
    assert len(found) == 1
    line, field, message, fix = found[0]
    assert (line, field) == (3, "run.entrypoint")
    assert "is not code of the paper folder" in message
    assert "list it under trusted: if you trust it" in fix
    assert f"trusted: [{target}]" in fix


def test_a_data_source_calling_os_system_is_refused_at_its_line(tmp_path: Path) -> None:
    source = 'data:\n  x: {python: "os:system", args: {command: "id > pwned.txt"}}\n'
    path = write(tmp_path / "p", data=source)
    found = problems(path)
    assert [(line, field) for line, field, _, _ in found] == [(5, "data.x.python")]
    assert "list it under trusted: if you trust it" in found[0][3]
    assert not (tmp_path / "p" / "pwned.txt").exists()


def test_an_entrypoint_in_a_subpackage_of_the_folder_is_accepted(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    (folder / "models" / "nets").mkdir(parents=True)
    (folder / "models" / "__init__.py").write_text("")
    (folder / "models" / "nets" / "__init__.py").write_text("def fit(ctx):\n    pass\n")
    (folder / "models" / "train.py").write_text("def run(ctx):\n    pass\n")
    spec = load_spec(write(folder, entrypoint="models.train:run"))
    assert spec.run.entrypoint == "models.train:run"
    spec = load_spec(write(folder, entrypoint="models.nets:fit"))
    assert spec.run.entrypoint == "models.nets:fit"
    assert spec.trusted == ()


def test_a_module_that_links_outside_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "evil.py").write_text("def run(ctx):\n    pass\n")
    folder = tmp_path / "p"
    folder.mkdir()
    os.symlink(outside / "evil.py", folder / "evil.py")
    os.symlink(outside, folder / "pkg")
    (outside / "__init__.py").write_text("def run(ctx):\n    pass\n")
    for target in ("evil:run", "pkg:run", "pkg.evil:run"):
        found = problems(write(folder, entrypoint=target))
        assert [(f[0], f[1]) for f in found] == [(3, "run.entrypoint")], target
        assert "leads outside the paper folder" in found[0][2]


def test_a_trusted_installed_callable_is_accepted(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p",
        entrypoint="json:dumps",
        data="data:\n  d: {python: 'json.decoder:JSONDecoder'}\n",
        trusted="trusted: [json:dumps, json.decoder:JSONDecoder]\n",
    )
    spec = load_spec(path)
    assert spec.trusted == ("json:dumps", "json.decoder:JSONDecoder")
    assert spec.run.entrypoint == "json:dumps"
    assert spec.data_source("d").trusted is True


def test_trust_is_per_callable_not_per_module(tmp_path: Path) -> None:
    path = write(tmp_path / "p", entrypoint="os:system", trusted="trusted: [os:getcwd]\n")
    assert [(f[0], f[1]) for f in problems(path)] == [(4, "run.entrypoint")]


def test_a_trusted_module_that_is_not_installed_is_refused_at_its_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p",
        trusted="trusted:\n  - json:dumps\n  - no_such_module_xyz.sub:make\n  - not-a-target\n",
    )
    found = problems(path)
    assert [(f[0], f[1]) for f in found] == [(4, "trusted[1]"), (5, "trusted[2]")]
    assert "no module 'no_such_module_xyz.sub' is installed" in found[0][2]
    assert "is not module:function" in found[1][2]


def test_checking_a_trusted_module_imports_nothing(tmp_path: Path) -> None:
    package = tmp_path / "noisy_pkg_xyz"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    (package / "sub.py").write_text("")
    sys.path.insert(0, str(tmp_path))
    try:
        assert installed("noisy_pkg_xyz.sub")
        assert not installed("noisy_pkg_xyz.missing")
        assert "noisy_pkg_xyz" not in sys.modules
    finally:
        sys.path.remove(str(tmp_path))


def _source(target: str, *, trusted: bool = False) -> DataSource:
    return DataSource(
        name="x",
        kind="python",
        target=target,
        trusted=trusted,
        args={"command": "id > pwned.txt"},
        loc=Location("papers/p/paper.yaml", 5),
    )


def test_loading_data_never_calls_an_untrusted_module_from_outside_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"paper.yaml:5: data\.x\.python: 'os' is not a module"):
        data.load(_source("os:system"), tmp_path)
    assert not (tmp_path / "pwned.txt").exists()


def test_loading_data_refuses_a_module_file_linking_outside_the_folder(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "data.py").write_text("def make(**kw):\n    return 1\n")
    folder = tmp_path / "p"
    folder.mkdir()
    os.symlink(outside / "data.py", folder / "data.py")
    with pytest.raises(DataError, match="leads outside the paper folder"):
        data.load(_source("data:make"), folder)


def test_loading_data_calls_a_trusted_installed_module(tmp_path: Path) -> None:
    source = DataSource(
        name="x",
        kind="python",
        target="json:loads",
        trusted=True,
        args={"s": "[1, 2]"},
        loc=Location("papers/p/paper.yaml", 5),
    )
    value, _ = data.load(source, tmp_path)
    assert value == [1, 2]
