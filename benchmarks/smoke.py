"""Wall time of ``pytest papers --repro-smoke`` on a fresh ``--repro-dir``, stage by stage.

    python benchmarks/smoke.py [--papers papers] [--target 60]

Runs the shipped papers' smoke stages with nothing to reuse (a new temporary ledger and
worker folder), prints the session's wall time against the target, and the stage table
read from the session's ``--repro-json``: claim, stage, status, wall time, peak memory.
Exits 1 when the session failed or ran past the target.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_repro.report.format import size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", default="papers", help="the papers folder (default: papers)")
    parser.add_argument("--target", type=float, default=60.0, help="seconds (default: 60)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="repro-smoke-") as tmp:
        out = Path(tmp) / "smoke.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            args.papers,
            "--repro-smoke",
            f"--repro-dir={tmp}/repro",
            f"--repro-json={out}",
            "-p",
            "no:cacheprovider",
            "-q",
        ]
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        document = json.loads(out.read_text()) if out.exists() else {"papers": []}
    rows = [("claim", "stage", "status", "wall", "peak rss")]
    for paper in document["papers"]:
        for claim in paper.get("claims", []):
            for s in claim.get("smoke_stages", []):
                peak = size(s["peak_rss"]) if s.get("peak_rss") is not None else "-"
                rows.append(
                    (
                        f"{paper['id']}::{claim['id']}",
                        s["stage"],
                        s["status"],
                        f"{s['wall_s']:.2f} s",
                        peak,
                    )
                )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    verdict = "within" if wall <= args.target else "over"
    print(
        f"\nsmoke session: {wall:.1f} s wall, {verdict} the {args.target:g} s target "
        f"(pytest exit {proc.returncode}, {len(rows) - 1} stage runs)"
    )
    if proc.returncode != 0:
        print(proc.stdout[-4000:], proc.stderr[-2000:], sep="\n")
    return 0 if proc.returncode == 0 and wall <= args.target else 1


if __name__ == "__main__":
    sys.exit(main())
