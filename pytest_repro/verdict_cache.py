"""Claim results reused across sessions, under the key of everything that decides them.

A claim's result is a function of its spec node, the runs it reads, a few session
settings and the code that decides it. A session whose inputs are all unchanged reuses
the result the last one computed instead of reading the metric and answering the
statistics again (and, when every claim is reused, never imports scipy). The key
(:meth:`VerdictCache.key`) is a sha256 over

- the claim's node with every field and location (``repr`` of the frozen dataclass) and
  its :class:`~pytest_repro.results.ClaimHeader` (paper id, title, path, substitutions);
- each run read, in order: its id, cache key, seed, status, config, and a digest of its
  series and per-example outcomes, so a run read again with a new reader, replaced by a
  rerun or pruned and trained anew gives another key;
- the settings a verdict or its outcome can depend on (:data:`SETTINGS`);
- the pytest-repro version and a digest of the source files that decide a result
  (:data:`VERDICT_CODE`), the Python version and the installed numpy and scipy
  (:func:`code_fingerprint`).

Only results the statistics decided are kept (never errors, skips or smoke runs), claims
with adaptive seeds are always decided afresh, and nothing is read under
``--repro-rerun`` or ``--repro-cache=off|write``. An entry that fails its checksum, does
not parse, is not a decided result of the same claim, or would not read back exactly as
it was computed is never used. results.md has the same kind of key
(:meth:`VerdictCache.report_key`): the writer leaves a report and its figures alone,
without rendering them, while its inputs and the files on disk are those it last wrote.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import importlib.util
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from pytest_repro.records import RunRecord, dumps
from pytest_repro.results import ClaimHeader, ClaimResult, ResultData
from pytest_repro.verdict_text import FORMAT, decode_result, decode_rows, encode_result
from pytest_repro.verdict_text import decode_with_json as _decode
from pytest_repro.vocab import VERDICT_NAMES

if TYPE_CHECKING:
    from pytest_repro.config import ReproConfig
    from pytest_repro.ledger.verdicts import VerdictStore
    from pytest_repro.spec.schema import Claim, PaperSpec

#: The session settings in a claim's key (everything else in ``ReproConfig`` says where
#: and how runs execute, which the runs' own keys and contents already cover).
SETTINGS: Final = ("profile", "interval", "inconclusive", "smoke", "smoke_steps", "deterministic")
#: The verdicts a stored result may carry: those the statistics decide.
DECIDED: Final = frozenset(VERDICT_NAMES) - {"error", "skipped", "smoke"}
#: Installed packages whose version is part of every key.
PACKAGES: Final = ("numpy", "scipy")


#: The code that turns a claim and its runs into its result (the files, or folders of
#: them, under ``pytest_repro/``): the statistics, the evaluator, the words of labels and
#: results, and this cache's own keys. What makes the inputs (the spec loader, the
#: planner, the run service) is not here: what it makes is in the key itself.
#: ``tests/unit/test_verdict_cache.py`` traces a decision and fails on any module it
#: runs that is not listed.
VERDICT_CODE: Final = (
    "__init__.py",
    "stats",
    "evaluate.py",
    "metric_at.py",
    "labels.py",
    "curve_words.py",
    "results.py",
    "records.py",
    "vocab.py",
    "seeding.py",
    "errors.py",
    "report/format.py",
    "report/escape.py",
    "spec/schema.py",
    "spec/claim_nodes.py",
    "spec/node.py",
    "spec/fields.py",
    "execution/metrics.py",
    "execution/reading.py",
    "verdict_cache.py",
    "verdict_text.py",
    "ledger/verdicts.py",
)
#: The code that renders results.md, its figures and the terminal's verdict table.
REPORT_CODE: Final = (*VERDICT_CODE, "report")


@functools.cache
def code_fingerprint(code: tuple[str, ...] = VERDICT_CODE) -> str:
    """A digest of ``code`` (each file's path and bytes), pytest-repro's version, the
    Python version, and the version files of numpy and scipy (found without importing
    them). Computed once per process."""
    from pytest_repro import __version__

    digest = hashlib.sha256(f"pytest-repro {__version__}\n{sys.version_info[:3]}\n".encode())
    package = Path(__file__).resolve().parent
    files: set[Path] = set()
    for part in code:
        where = package / part
        files.update(where.rglob("*.py") if where.is_dir() else [where])
    for path in sorted(files):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        try:
            digest.update(path.read_bytes() + b"\0")
        except OSError:
            digest.update(b"missing\0")
    for name in PACKAGES:
        digest.update(f"{name}\0{_package_version(name)}\0".encode())
    return digest.hexdigest()


def _package_version(name: str) -> str:
    """The text of ``name``'s ``version.py`` (where it is installed, and what it says)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return "absent"
    if spec is None or spec.origin is None:
        return "absent"
    version = Path(spec.origin).parent / "version.py"
    try:
        return f"{spec.origin}\0{version.read_text(encoding='utf-8', errors='replace')}"
    except OSError:
        return f"{spec.origin}\0no version file"


class VerdictCache:
    """Claim results and report fingerprints of one process, over a :class:`VerdictStore`.

    ``read``: whether stored results may be used (``--repro-cache=on|read``); the store
    decides whether new ones are kept (``--repro-cache=on|write``).
    """

    def __init__(
        self,
        store: VerdictStore,
        cfg: ReproConfig,
        *,
        read: bool = True,
        data: ResultData | None = None,
    ) -> None:
        self.store = store
        self.read = read
        self._settings = dumps({name: getattr(cfg, name) for name in SETTINGS})
        self._digests: dict[str, tuple[RunRecord, str]] = {}
        self._full: dict[str, tuple[RunRecord, str]] = {}
        self._encoded: dict[int, tuple[ClaimResult, bytes]] = {}
        self._texts: dict[int, tuple[object, str]] = {}
        self._keys: dict[tuple[int, str, tuple[str, ...]], tuple[Claim, ClaimHeader, str]] = {}
        self._ahead: dict[str, tuple[str, tuple[ClaimResult, dict[str, Any] | None] | None]] = {}
        #: results and their report JSON in this process (the runtime's, when it passes one).
        self.data = data if data is not None else ResultData()
        #: claims this process took from the cache and decided afresh (for tests and notes).
        self.hits = 0
        self.misses = 0

    # -- claims ------------------------------------------------------------------------------
    def key(self, claim: Claim, header: ClaimHeader, records: Sequence[RunRecord]) -> str | None:
        """The key of ``claim``'s result from ``records``; None when it is not to be kept
        (a run that is not ok: the claim fails with its error, which is never kept)."""
        if not records or any(not r.ok for r in records):
            return None
        try:
            runs = tuple(self._run_digest(record) for record in records)
            code = code_fingerprint()
            known = self._keys.get((id(claim), code, runs))
            if (
                known is not None
                and known[0] is claim
                and (known[1] is header or known[1] == header)
            ):
                return known[2]  # keyed before this session (the forecast reads ahead)
            digest = hashlib.sha256(b"claim\0")
            for part in (code, self._settings, self._text(claim), repr(header)):
                digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
            for run in runs:
                digest.update(run.encode() + b"\0")
        except Exception:  # a cache that cannot key a claim costs time, never a result
            return None
        key = digest.hexdigest()
        self._keys[(id(claim), code, runs)] = (claim, header, key)
        return key

    def read_ahead(self, keys: Iterable[str]) -> None:
        """Read the results stored under ``keys`` in one go (the claims about to be
        evaluated): :meth:`get` then finds them without a query each."""
        if self.read:
            for key, payload in self.store.get_many(keys).items():
                self._ahead[key] = (payload, _decode(payload))

    def get(self, key: str, header: ClaimHeader) -> ClaimResult | None:
        """The result stored under ``key`` for the claim of ``header``; None when there is
        none, or reading is off, or the entry is not one to trust."""
        if not self.read:
            return None
        ahead = self._ahead.pop(key, None)
        payload: str | None
        if ahead is not None:
            payload, decoded = ahead
        else:
            payload = self.store.get(key)
            decoded = _decode(payload) if payload is not None else None
        if (
            payload is None
            or decoded is None
            or decoded[0].verdict not in DECIDED
            or (decoded[0].path, decoded[0].id, decoded[0].line)
            != (header.path, header.id, header.line)
        ):
            self.misses += 1
            return None
        self.hits += 1
        result, data = decoded
        # The stored text is what encode_result(result) writes (put() keeps only results that
        # read back equal), and its fields are the report's JSON: neither is made again.
        self._encoded[id(result)] = (result, payload.encode("utf-8", "surrogatepass") + b"\0")
        if data is not None:
            self.data.known(result, data)
        return result

    def put(self, key: str, result: ClaimResult) -> None:
        """Keep ``result`` under ``key`` when it is a decided verdict that reads back equal."""
        if result.verdict not in DECIDED or result.smoke or result.smoke_stages:
            return
        try:
            payload = encode_result(result)
        except Exception:  # a value JSON cannot carry: the claim is decided every time
            return
        if decode_result(payload) != result:  # NaN, or a value that would not read back
            return
        self.store.put(key, payload)

    def _run_digest(self, record: RunRecord) -> str:
        """A digest of what a claim reads from ``record`` (kept per record this session)."""
        known = self._digests.get(record.run_id)
        if known is not None and known[0] is record:
            return known[1]
        text = dumps(
            [
                record.run_id,
                record.cache_key,
                record.seed,
                record.status,
                record.config,
                record.series,
                record.examples,
            ]
        )
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self._digests[record.run_id] = (record, digest)
        return digest

    # -- the verdict table -----------------------------------------------------------------
    def table(
        self,
        results: Sequence[ClaimResult],
        make: Callable[[Sequence[ClaimResult]], list[tuple[str, str | None]]],
    ) -> list[tuple[str, str | None]]:
        """``make(results)`` (the terminal's verdict table, with its paper-level view),
        taken from the cache when these very results and code made it before: it is a
        function of nothing else, and making it imports scipy."""
        try:
            digest = hashlib.sha256(b"table\0")
            digest.update(code_fingerprint(REPORT_CODE).encode() + b"\0")
            for result in results:
                digest.update(self._encoded_result(result))
        except Exception:  # results the cache cannot key: made afresh
            return make(results)
        key = "table:" + digest.hexdigest()
        payload = self.store.get(key) if self.read else None
        if payload is not None:
            rows = decode_rows(payload)
            if rows is not None:
                return rows
        rows = make(results)
        self.store.put(key, json.dumps([[line, colour] for line, colour in rows]))
        return rows

    # -- reports -----------------------------------------------------------------------------
    def report_key(
        self,
        spec: PaperSpec,
        claims: Sequence[ClaimResult],
        records: Mapping[str, RunRecord],
        *,
        settings: str,
    ) -> str | None:
        """The key of a results.md and its figures: everything the writer renders them
        from; None when the inputs cannot be keyed (the report is rendered every time)."""
        try:
            digest = hashlib.sha256(b"report\0")
            for part in (code_fingerprint(REPORT_CODE), settings, self._spec_text(spec)):
                digest.update(part.encode("utf-8", "surrogatepass") + b"\0")
            for result in claims:
                digest.update(self._encoded_result(result))
            for run_id in sorted(records):
                digest.update(run_id.encode("utf-8", "surrogatepass") + b"\0")
                digest.update(self._record_digest(records[run_id]).encode() + b"\0")
        except Exception:
            return None
        return digest.hexdigest()

    def report_current(self, target: Path, key: str) -> bool:
        """Whether ``target`` and its figures are exactly what the writer last left there
        for inputs with ``key``: same key, same bytes, no other figure of ours beside them."""
        if not self.read:
            return False
        payload = self.store.report(str(target))
        if payload is None:
            return False
        try:
            data = json.loads(payload)
            if data.get("format") != FORMAT or data.get("key") != key:
                return False
            files = {str(k): str(v) for k, v in dict(data["files"]).items()}
        except (ValueError, TypeError, KeyError, AttributeError):
            return False
        folder = target.parent
        if files.get(target.name) is None:
            return False
        if any(n != target.name and not _FIGURE.fullmatch(n) for n in files):
            return False  # only the report and its figures are ever recorded
        stats = data.get("stats")
        stats = stats if isinstance(stats, dict) else {}
        checked = data.get("checked")
        checked_ns = int(checked * 1e9) if isinstance(checked, (int, float)) else 0
        seen: dict[str, list[int]] = {}
        for name, expected in files.items():
            path = folder / name
            signature = _signature(path)
            if signature is None:
                return False
            seen[name] = signature
            # Size and modification time as recorded, and older than the record by more
            # than a coarse file system's clock step: the bytes are the ones hashed then.
            if stats.get(name) == signature and signature[1] < checked_ns - _RACY_NS:
                continue
            if file_digest(path) != expected:
                return False
        figures = {f"figures/{p.name}" for p in (folder / "figures").glob("*.svg")}
        extra = figures - set(files)
        if extra:
            from pytest_repro.report.writers import generated_figure

            if any(generated_figure(folder / n) for n in extra):
                return False
        if seen != stats:  # hashed again: next time the signatures answer
            self._put_report(target, key, files, seen)
        return True

    def keep_report(self, target: Path, key: str, written: Iterable[Path]) -> None:
        """Remember that ``target`` and the figures ``written`` hold the report of ``key``."""
        folder = target.parent
        files: dict[str, str] = {}
        stats: dict[str, list[int]] = {}
        for path in (target, *written):
            signature = _signature(path)
            digest = file_digest(path)
            if digest is None or signature is None:
                return
            name = path.relative_to(folder).as_posix()
            files[name], stats[name] = digest, signature
        self._put_report(target, key, files, stats)

    def _put_report(
        self, target: Path, key: str, files: dict[str, str], stats: dict[str, list[int]]
    ) -> None:
        """Record the files of ``target``'s report: each one's sha256, and its size and
        modification time (which spare reading it again while they stay the same)."""
        payload = json.dumps(
            {"format": FORMAT, "key": key, "files": files, "stats": stats, "checked": time.time()},
            sort_keys=True,
        )
        self.store.put_report(str(target), payload)

    def _text(self, claim: Claim) -> str:
        """``repr(claim)``, made once per claim object this session (each claim's key and
        its paper's report key read it)."""
        known = self._texts.get(id(claim))
        if known is not None and known[0] is claim:
            return known[1]
        text = repr(claim)
        self._texts[id(claim)] = (claim, text)
        return text

    def _spec_text(self, spec: PaperSpec) -> str:
        """``spec`` as its repr writes it, each claim's part from :meth:`_text`."""
        parts = []
        for f in dataclasses.fields(spec):
            value = getattr(spec, f.name)
            if f.name == "claims":
                parts.append(f"claims=({', '.join(map(self._text, value))})")
            else:
                parts.append(f"{f.name}={value!r}")
        return f"{type(spec).__name__}({', '.join(parts)})"

    def _encoded_result(self, result: ClaimResult) -> bytes:
        """:func:`encode_result` as bytes with a separator (kept per result this session:
        the table and each report key the same results)."""
        known = self._encoded.get(id(result))
        if known is not None and known[0] is result:
            return known[1]
        text = encode_result(result).encode("utf-8", "surrogatepass") + b"\0"
        self._encoded[id(result)] = (result, text)
        return text

    def _record_digest(self, record: RunRecord) -> str:
        """A digest of the whole record (reports show its evidence and times too)."""
        known = self._full.get(record.run_id)
        if known is not None and known[0] is record:
            return known[1]
        text = dumps(record.to_json())
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        self._full[record.run_id] = (record, digest)
        return digest

    def close(self) -> None:
        self.store.close()


#: A figure as :meth:`VerdictCache.keep_report` records it (no other path is read back).
_FIGURE: Final = re.compile(r"figures/[A-Za-z0-9_.-]+\.svg")


#: Nanoseconds a file's modification time must precede the record of its digest for the
#: time and size to stand for its bytes (file systems with coarse clocks step by 2 s).
_RACY_NS: Final = 2_000_000_000


def _signature(path: Path) -> list[int] | None:
    """The file's size and modification time (ns); None when it cannot be read."""
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def file_digest(path: Path) -> str | None:
    """sha256 of the file's bytes; None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def verdicts_path(cfg: ReproConfig) -> Path:
    """Where the cache lives: beside the ledger, in the working folder."""
    return cfg.workdir / "verdicts.sqlite"


def open_cache(cfg: ReproConfig, data: ResultData | None = None) -> VerdictCache | None:
    """The session's verdict cache; None with ``--repro-cache=off`` or under ``--repro-smoke``.
    ``data``: the session's results and their report JSON (:class:`ResultData`)."""
    if cfg.cache == "off" or cfg.smoke:
        return None
    from pytest_repro.ledger.verdicts import VerdictStore

    store = VerdictStore(verdicts_path(cfg), writable=cfg.record)
    return VerdictCache(store, cfg, read=cfg.reuse, data=data)


__all__ = [
    "DECIDED",
    "FORMAT",
    "REPORT_CODE",
    "SETTINGS",
    "VERDICT_CODE",
    "VerdictCache",
    "code_fingerprint",
    "decode_result",
    "encode_result",
    "file_digest",
    "open_cache",
    "verdicts_path",
]
