"""Recall and precision of ``pytest-repro extract`` against the fixtures' answer keys.

    python benchmarks/extract.py [--verbose]

Reads every fixture paper under tests/extract/fixtures (each ``NAME.answers.json`` with
its ``NAME.tex``, ``NAME.html`` and ``NAME.pdf``), extracts it, and prints per document
and in total the recall and precision of the hyperparameters (one per kind and value)
and of the results tables' numbers. The goal: recall >= 0.9, precision >= 0.8.
``--verbose`` lists what was missed and what the key does not confirm.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pytest_repro.extract import read_paper
from pytest_repro.extract.score import Score, score_hyperparameters, score_results

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "extract" / "fixtures"


def _line(name: str, what: str, score: Score) -> str:
    return (
        f"{name:<28} {what:<16} recall {score.recall:5.3f} ({score.found}/{score.expected})"
        f"  precision {score.precision:5.3f} ({score.right}/{score.extracted})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    totals = {"hyperparameters": [0, 0, 0, 0], "table values": [0, 0, 0, 0]}
    for key_file in sorted(FIXTURES.glob("*.answers.json")):
        key = json.loads(key_file.read_text(encoding="utf-8"))
        stem = key_file.name.removesuffix(".answers.json")
        for document in sorted(FIXTURES.glob(f"{stem}.*")):
            if document.name.endswith(".json"):
                continue
            extract = read_paper(document)
            for what, score in (
                ("hyperparameters", score_hyperparameters(extract, key["hyperparameters"])),
                ("table values", score_results(extract, key["results"])),
            ):
                print(_line(document.name, what, score))
                total = totals[what]
                total[0] += score.found
                total[1] += score.expected
                total[2] += score.right
                total[3] += score.extracted
                if args.verbose:
                    for item in score.missed:
                        print(f"    missed: {item}")
                    for item in score.wrong:
                        print(f"    not in the key: {item}")
    for what, (found, expected, right, extracted) in totals.items():
        total = Score(found=found, expected=expected, right=right, extracted=extracted)
        print(_line("all fixtures", what, total))


if __name__ == "__main__":
    main()
