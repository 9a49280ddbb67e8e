"""The verdict cache's keys, its stored form and its file: every input of a verdict is in
its key, a stored result reads back exactly or not at all, and an entry or a file that
does not check out is never trusted."""

from __future__ import annotations

import dataclasses
import json
import math
import sqlite3
from pathlib import Path

import pytest

import pytest_repro.verdict_cache as vc
from pytest_repro.config import ReproConfig
from pytest_repro.ledger.verdicts import VerdictStore, checksum
from pytest_repro.records import RunRecord
from pytest_repro.results import ClaimHeader, ClaimResult
from pytest_repro.spec.schema import At, Claim, Location, PaperValue, SeedPlan, Variant

LOC = Location("papers/p/paper.yaml", 7)


def a_claim(**changes: object) -> Claim:
    claim = Claim(
        id="acc",
        text="accuracy",
        source="Table 1",
        kind="absolute",
        metric="acc",
        at=At(axis="epoch", value=5, loc=LOC),
        paper=PaperValue(value=0.9, loc=LOC),
        tolerance=0.01,
        seeds=SeedPlan(seeds=(0, 1, 2), loc=LOC),
        variant=Variant(loc=LOC),
        loc=LOC,
    )
    return dataclasses.replace(claim, **changes)


def header(claim: Claim) -> ClaimHeader:
    return ClaimHeader(
        paper_id="p",
        paper_title="A paper",
        path="papers/p/paper.yaml",
        id=claim.id,
        line=claim.loc.line,
        kind=claim.kind,
        text=claim.text,
        source=claim.source,
        metric=claim.metric,
        at=claim.at.to_json(),
        paper=0.9,
        paper_spread=None,
        tolerance=claim.tolerance,
        better="higher",
        unit=None,
        hypothesis=None,
        expect=None,
        see=None,
        margin=None,
        variants=("defaults",),
        substitutions=(),
    )


def record(seed: int, acc: float = 0.9, run_id: str | None = None) -> RunRecord:
    return RunRecord(
        run_id=run_id or f"p-v-s{seed}",
        cache_key=f"key{seed}",
        paper_id="p",
        paper_path="papers/p/paper.yaml",
        variant="v",
        config={"lr": 0.1},
        seed=seed,
        status="ok",
        series=({"epoch": 5, "acc": acc},),
    )


RECORDS = [record(0), record(1), record(2)]


def a_result(**changes: object) -> ClaimResult:
    result = ClaimResult(
        paper_id="p",
        paper_title="A paper",
        path="papers/p/paper.yaml",
        id="acc",
        line=7,
        kind="absolute",
        text="accuracy",
        source="Table 1",
        metric="acc",
        at={"epoch": 5},
        verdict="matched",
        label="[matched]",
        paper=0.9,
        n=3,
        seeds=(0, 1, 2),
        values=(0.9, 0.9, 0.9),
        estimate=0.9,
        interval=(0.89, 0.91),
        delta=0.0,
        runs=("a", "b", "c"),
        variants=("defaults",),
        substitutions=({"original": "x", "used": "y", "why": "z"},),
        adaptive={"stages": [3, 5], "used": 3},
    )
    return dataclasses.replace(result, **changes)


@pytest.fixture
def cache(tmp_path: Path) -> vc.VerdictCache:
    return vc.VerdictCache(
        VerdictStore(tmp_path / "verdicts.sqlite"), ReproConfig(rootdir=tmp_path)
    )


def test_a_stored_result_reads_back_equal_infinities_included() -> None:
    result = a_result(estimate=math.inf, seeds_needed=None, notes=("a note",))
    assert vc.decode_result(vc.encode_result(result)) == result


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "not json",
        "[]",
        '{"format": 2, "result": {}}',
        '{"format": 1, "result": {"id": "acc"}}',
        vc.encode_result(a_result()).replace('"verdict"', '"unknown_field"'),
    ],
)
def test_anything_but_a_stored_result_decodes_to_nothing(payload: str) -> None:
    assert vc.decode_result(payload) is None


def test_the_key_names_every_input_of_the_verdict(cache: vc.VerdictCache) -> None:
    claim = a_claim()
    base = cache.key(claim, header(claim), RECORDS)
    assert base is not None and base == cache.key(claim, header(claim), RECORDS)
    moved = a_claim(loc=Location("papers/p/paper.yaml", 8))
    others = {
        "tolerance": cache.key(a_claim(tolerance=0.02), header(claim), RECORDS),
        "metric": cache.key(a_claim(metric="loss"), header(claim), RECORDS),
        "interval": cache.key(a_claim(interval="bootstrap-t"), header(claim), RECORDS),
        "line": cache.key(moved, header(moved), RECORDS),
        "title": cache.key(
            claim, dataclasses.replace(header(claim), paper_title="Another"), RECORDS
        ),
        "a value": cache.key(claim, header(claim), [record(0, acc=0.5), *RECORDS[1:]]),
        "a run id": cache.key(claim, header(claim), [record(0, run_id="new"), *RECORDS[1:]]),
        "the order": cache.key(claim, header(claim), RECORDS[::-1]),
        "a run less": cache.key(claim, header(claim), RECORDS[:2]),
    }
    assert len({base, *others.values()}) == len(others) + 1, others


def test_settings_and_code_are_in_the_key(
    cache: vc.VerdictCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claim = a_claim()
    base = cache.key(claim, header(claim), RECORDS)
    store = VerdictStore(tmp_path / "v.sqlite")
    other = vc.VerdictCache(store, ReproConfig(rootdir=tmp_path, interval="t"))
    assert other.key(claim, header(claim), RECORDS) != base
    monkeypatch.setattr(vc, "code_fingerprint", lambda *code: "another version")
    assert cache.key(claim, header(claim), RECORDS) != base


def test_a_run_that_is_not_ok_gives_no_key(cache: vc.VerdictCache) -> None:
    claim = a_claim()
    failed = dataclasses.replace(RECORDS[0], status="failed")
    assert cache.key(claim, header(claim), [failed, *RECORDS[1:]]) is None


def test_a_result_comes_back_for_its_own_claim_only(cache: vc.VerdictCache) -> None:
    claim = a_claim()
    cache.put("k", a_result())
    assert cache.get("k", header(claim)) == a_result()
    assert cache.get("k", dataclasses.replace(header(claim), id="other")) is None
    assert cache.get("k", dataclasses.replace(header(claim), line=8)) is None


@pytest.mark.parametrize(
    "result",
    [
        a_result(verdict="error", error="boom"),
        a_result(verdict="skipped"),
        a_result(verdict="smoke", smoke=True),
        a_result(estimate=math.nan),
    ],
    ids=["error", "skipped", "smoke", "NaN"],
)
def test_only_decided_results_that_read_back_equal_are_kept(
    cache: vc.VerdictCache, result: ClaimResult
) -> None:
    cache.put("k", result)
    assert cache.store.get("k") is None


def test_nothing_is_read_when_reading_is_off(tmp_path: Path) -> None:
    store = VerdictStore(tmp_path / "verdicts.sqlite")
    store.put("k", vc.encode_result(a_result()))
    store.flush()
    blind = vc.VerdictCache(store, ReproConfig(rootdir=tmp_path), read=False)
    assert blind.get("k", header(a_claim())) is None


def test_entries_survive_the_session_that_stored_them(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.sqlite"
    store = VerdictStore(path)
    store.put("k", "payload")
    store.close()
    assert VerdictStore(path).get("k") == "payload"


def test_an_entry_that_fails_its_checksum_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.sqlite"
    store = VerdictStore(path)
    store.put("k", "payload")
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE verdicts SET payload = 'altered'")
    assert VerdictStore(path).get("k") is None
    with sqlite3.connect(path) as conn:  # a checksum of the altered text under another key
        conn.execute("UPDATE verdicts SET checksum = ?", (checksum("other", "altered"),))
    assert VerdictStore(path).get("k") is None


def test_a_damaged_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.sqlite"
    path.write_bytes(b"\x00 not a database " * 400)
    store = VerdictStore(path)
    assert store.get("k") is None
    store.put("k", "payload")
    store.close()
    assert VerdictStore(path).get("k") == "payload"


def test_another_programs_database_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE theirs (x)")
        conn.execute("INSERT INTO theirs VALUES (1)")
    before = path.read_bytes()
    store = VerdictStore(path)
    store.put("k", "payload")
    assert store.get("k") == "payload"  # kept in memory for the session only
    store.close()
    assert path.read_bytes() == before


def test_a_read_only_store_creates_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.sqlite"
    store = VerdictStore(path, writable=False)
    store.put("k", "payload")
    assert store.get("k") is None
    store.close()
    assert not path.exists()


def test_the_table_is_made_once_for_the_same_results(cache: vc.VerdictCache) -> None:
    made: list[int] = []

    def make(results: object) -> list[tuple[str, str | None]]:
        made.append(1)
        return [("row", "green"), ("counts", None)]

    results = [a_result(), a_result(id="b", verdict="gap")]
    assert cache.table(results, make) == make(results)
    made.clear()
    assert cache.table(results, make) == [("row", "green"), ("counts", None)]
    assert made == []
    cache.table([a_result()], make)
    assert made == [1]


def test_the_code_fingerprint_follows_the_package_source() -> None:
    assert vc.code_fingerprint() == vc.code_fingerprint()
    assert len(vc.code_fingerprint()) == 64


GUARD_SPEC = """\
paper: {id: guard, title: Every kind of claim}
run:
  entrypoint: train:run
  config: {base: 0.9, width: 16}
variants:
  strong: {base: 0.95}
claims:
  - {id: absolute, text: t, source: s, metric: acc, at: {epoch: 2}, paper: 0.9, tolerance: 0.01}
  - {id: adaptive, text: t, source: s, metric: acc, at: {epoch: 2}, paper: 0.9, tolerance: 0.01,
     seeds: {min: 3, max: 10}}
  - {id: relative, text: t, source: s, metric: acc, at: final, paper: 0.9, tolerance: 5%,
     unit: fraction, interval: bootstrap-t, seeds: 5}
  - {id: compared, text: t, source: s, metric: acc, at: {epoch: 2},
     compare: {a: strong, b: {config: {base: 0.9}}}, margin: 0.01}
  - {id: falls, text: t, source: s, metric: acc, at: {epoch: 2},
     sweep: {width: [16, 32, 64]}, kind: trend, direction: decreasing}
  - {id: peaks, text: t, source: s, metric: acc, at: {epoch: 2},
     sweep: {width: [16, 32, 64]}, kind: peak, extremum: max, within: [20, 40]}
  - {id: follows, text: t, source: s, metric: acc, at: {epoch: 2},
     sweep: {width: [16, 32, 64]}, kind: curve, formula: "1 / sqrt(width)", tolerance: 5%}
"""


def test_the_code_in_the_key_is_all_the_code_that_decides(tmp_path: Path) -> None:
    """Every pytest-repro module that runs while claims of each kind are decided from
    their runs is in :data:`VERDICT_CODE`: a change to it changes every key."""
    import sys
    from types import FrameType
    from typing import Any

    from pytest_repro.spec import load_spec

    folder = tmp_path / "papers" / "guard"
    folder.mkdir(parents=True)
    (folder / "train.py").write_text("def run(ctx):\n    pass\n")
    (folder / "paper.yaml").write_text(GUARD_SPEC)
    spec = load_spec(folder / "paper.yaml", display="papers/guard/paper.yaml")

    class Request:
        def __init__(self, config: dict[str, Any], seed: int) -> None:
            self.config, self.seed = config, seed

    class Planner:
        def request(self, spec: object, variant: Any, seed: int, **_: object) -> Request:
            return Request({"base": 0.9, "width": 16, **variant.overrides}, seed)

        def claim_requests(
            self, spec: object, variants: Any, seeds: Any, **_: object
        ) -> list[Request]:
            return [self.request(spec, v, s) for v in variants for s in seeds]

    def obtain(requests: list[Request]) -> list[RunRecord]:
        out = []
        for q in requests:
            value = q.config["base"] + 0.001 * (q.seed - 1) - q.config["width"] / 1e4
            if q.config["width"] == 32:
                value += 0.05  # the peak
            out.append(
                dataclasses.replace(
                    record(q.seed),
                    run_id=f"r{q.seed}-{q.config}",
                    series=({"epoch": 1, "acc": value}, {"epoch": 2, "acc": value}),
                )
            )
        return out

    package = Path(vc.__file__).resolve().parent
    seen: set[str] = set()

    def profile(frame: FrameType, event: str, arg: object) -> None:
        if event == "call":
            seen.add(frame.f_code.co_filename)

    evaluator = vc_evaluator(ReproConfig(rootdir=tmp_path), Planner(), obtain)
    verdicts = []
    for claim in spec.claims:
        from pytest_repro.results import ClaimHeader as Header

        sys.setprofile(profile)
        try:
            result = evaluator._decide(spec, claim, Header.of(spec, claim), False)
        finally:
            sys.setprofile(None)
        verdicts.append((claim.id, result.verdict))
    assert all(v not in ("error", "skipped") for _, v in verdicts), verdicts
    ran = {
        Path(f).resolve().relative_to(package).as_posix()
        for f in seen
        if Path(f).resolve().is_relative_to(package)
    }
    covered = {
        p.relative_to(package).as_posix()
        for part in vc.VERDICT_CODE
        for p in ((package / part).rglob("*.py") if (package / part).is_dir() else [package / part])
    }
    assert ran - covered == set()
    assert "stats/trend.py" in ran and "stats/peak.py" in ran  # each kind was decided


def vc_evaluator(cfg: ReproConfig, planner: object, obtain: object) -> object:
    from pytest_repro.evaluate import Evaluator

    return Evaluator(cfg, planner, obtain)  # type: ignore[arg-type]


def test_a_cache_locked_by_another_process_is_skipped_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.sqlite"
    store = VerdictStore(path)
    store.put("k", "payload")
    store.close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        blocked = VerdictStore(path, busy_timeout=0.05)
        assert blocked.get("k") is None  # no cache this session
        blocked.put("other", "payload")
        blocked.close()  # its entry is dropped, the file is not touched
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert VerdictStore(path).get("k") == "payload"


def test_a_read_result_is_built_as_its_constructor_builds_it() -> None:
    """The decoder sets each field itself, which is right only while ``__init__`` does
    nothing else."""
    assert not hasattr(ClaimResult, "__post_init__")
    result = a_result(notes=("a",), interval=(0.1, 0.2), adaptive=None)
    decoded = vc.decode_result(vc.encode_result(result))
    assert decoded == result
    assert type(decoded.seeds) is tuple and hash(decoded.seeds) == hash(result.seeds)
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.verdict = "gap"  # type: ignore[misc]


@pytest.mark.parametrize(
    "result",
    [a_result(), a_result(estimate=math.inf), a_result(notes=("é ✓",), warnings=("w",))],
    ids=["plain", "infinite", "unicode"],
)
def test_a_stored_text_is_the_text_its_result_encodes_to(
    cache: vc.VerdictCache, result: ClaimResult
) -> None:
    """Reports key results by their stored text, taken as read: it must be the very text
    encoding the result writes; and the report JSON a read result brings is its to_json()."""
    cache.put("k", result)
    got = cache.get("k", header(a_claim()))
    assert got == result
    assert cache._encoded_result(got) == vc.encode_result(result).encode() + b"\0"
    data = cache.data.to_json(got)
    assert json.loads(json.dumps(data)) == result.to_json()
    assert cache.data.from_json(data) is got


def test_results_read_ahead_are_taken_without_a_query_each(tmp_path: Path) -> None:
    store = VerdictStore(tmp_path / "verdicts.sqlite")
    first = vc.VerdictCache(store, ReproConfig(rootdir=tmp_path))
    first.put("k1", a_result())
    first.put("k2", a_result(estimate=0.91))
    store.flush()
    asked: list[str] = []
    original = store.get
    store.get = lambda key: asked.append(key) or original(key)  # type: ignore[method-assign]
    cache = vc.VerdictCache(store, ReproConfig(rootdir=tmp_path))
    cache.read_ahead(["k1", "k2", "missing"])
    assert cache.get("k2", header(a_claim())) == a_result(estimate=0.91)
    assert cache.get("k1", header(a_claim())) == a_result()
    assert asked == []
    assert cache.get("missing", header(a_claim())) is None
    assert asked == ["missing"]
    # a result read ahead is handed out once; asked again, it is read again
    assert cache.get("k1", header(a_claim())) == a_result()
    assert asked == ["missing", "k1"]


def test_read_ahead_keeps_the_checksum_rule(tmp_path: Path) -> None:
    path = tmp_path / "verdicts.sqlite"
    store = VerdictStore(path)
    store.put("k", vc.encode_result(a_result()))
    store.close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE verdicts SET payload = replace(payload, '0.9', '0.8')")
    cache = vc.VerdictCache(VerdictStore(path), ReproConfig(rootdir=tmp_path))
    cache.read_ahead(["k"])
    assert cache.get("k", header(a_claim())) is None


def test_a_claims_key_is_the_same_however_often_it_is_asked(cache: vc.VerdictCache) -> None:
    """Keys are remembered per claim and runs: a claim with other runs, or its header
    changed, is keyed anew."""
    claim = a_claim()
    key = cache.key(claim, header(claim), RECORDS)
    copies = [dataclasses.replace(r) for r in RECORDS]
    assert cache.key(claim, header(claim), copies) == key
    fresh = vc.VerdictCache(cache.store, ReproConfig(rootdir=Path("/unused")))
    assert fresh.key(claim, header(claim), RECORDS) == key
    assert cache.key(claim, header(claim), [record(0, acc=0.5), *RECORDS[1:]]) != key
    other = dataclasses.replace(header(claim), paper_title="Another")
    assert cache.key(claim, other, RECORDS) != key


def _report(folder: Path) -> tuple[Path, list[Path]]:
    (folder / "figures").mkdir(parents=True)
    target = folder / "results.md"
    target.write_text("# results\n")
    figure = folder / "figures" / "acc.svg"
    figure.write_text("<svg/>")
    return target, [figure]


def _age(*paths: Path, seconds: float = 10.0) -> None:
    import os
    import time

    for path in paths:
        then = time.time() - seconds
        os.utime(path, (then, then))


def test_a_report_is_current_until_a_file_changes(cache: vc.VerdictCache, tmp_path: Path) -> None:
    target, figures = _report(tmp_path / "paper")
    _age(target, *figures)
    cache.keep_report(target, "key", figures)
    assert cache.report_current(target, "key")
    assert not cache.report_current(target, "another key")
    figures[0].write_text("<svg>changed</svg>")
    assert not cache.report_current(target, "key")


def test_an_unchanged_report_is_not_read_again(
    cache: vc.VerdictCache, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Size and modification time recorded well after the last write stand for the bytes;
    a file written within the clock step of the record, or touched since, is hashed."""
    target, figures = _report(tmp_path / "paper")
    cache.keep_report(target, "key", figures)  # just written: racy, hashed next time
    hashed: list[str] = []
    digest = vc.file_digest
    monkeypatch.setattr(vc, "file_digest", lambda p: hashed.append(p.name) or digest(p))
    assert cache.report_current(target, "key")
    assert sorted(hashed) == ["acc.svg", "results.md"]
    cache.store.flush()
    hashed.clear()
    _age(target, *figures)  # touched: hashed once more, then taken from the record
    assert cache.report_current(target, "key")
    assert sorted(hashed) == ["acc.svg", "results.md"]
    hashed.clear()
    assert cache.report_current(target, "key")
    assert hashed == []
    # rewritten since the record: its size or time differs, so its bytes are read
    figures[0].write_text("<svg>x</svg>")
    _age(figures[0], seconds=5.0)
    assert not cache.report_current(target, "key")
