"""Reading a paper.yaml with a very large ``run.config``: libyaml against pure Python.

    python benchmarks/collect_large_spec.py [--keys 150000] [--repeat 1]

Writes a paper.yaml whose ``run.config`` has ``--keys`` entries and prints, best of
``--repeat``:
  * ``parse()`` with libyaml (the default when PyYAML has it) and with the pure-Python
    parser (``parse(text, libyaml=False)``), and their ratio;
  * the whole spec load (``load_spec``), which parses with libyaml;
  * ``parse()`` of the same number of keys split into halves and quarters, to show the
    time grows linearly with the size of the document.
Compare figures as ratios measured in one invocation; a shared machine is noisy.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pytest_repro.spec import load_spec
from pytest_repro.spec.yamlnodes import HAS_LIBYAML, parse

HEAD = """\
paper: {id: bench, title: A large config}
run:
  entrypoint: train:run
  config:
"""
TAIL = """\
claims:
  - {id: acc, text: t, source: s, metric: acc, at: {step: 1}, paper: 0.5, tolerance: 0.1}
"""


def spec_text(keys: int) -> str:
    lines = (f"    k{i}: {{value: {i * 0.5}, source: Table {i % 7}}}\n" for i in range(keys))
    return HEAD + "".join(lines) + TAIL


def best(repeat: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=150_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    text = spec_text(args.keys)
    print(f"run.config keys: {args.keys:,}; paper.yaml: {len(text) / 1e6:.1f} MB")
    print(f"libyaml available: {HAS_LIBYAML}")
    python = best(args.repeat, lambda: parse(text, libyaml=False))
    print(f"parse, pure Python: {python:7.2f} s")
    if HAS_LIBYAML:
        fast = best(args.repeat, lambda: parse(text, libyaml=True))
        print(f"parse, libyaml:     {fast:7.2f} s  ({python / fast:.1f}x faster)")
        for part in (2, 4):
            smaller = spec_text(args.keys // part)
            t = best(args.repeat, lambda smaller=smaller: parse(smaller, libyaml=True))
            print(f"parse, libyaml, 1/{part} of the keys: {t:5.2f} s  (x{part} = {t * part:.2f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "papers" / "bench"
        folder.mkdir(parents=True)
        (folder / "train.py").write_text("def run(ctx):\n    pass\n")
        path = folder / "paper.yaml"
        path.write_text(text)
        whole = best(args.repeat, lambda: load_spec(path))
        print(f"load_spec (libyaml when available): {whole:7.2f} s")


if __name__ == "__main__":
    main()
