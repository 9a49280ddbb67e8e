"""Reported results: the numbers of a paper's results tables.

Each numeric cell becomes a :class:`~pytest_repro.extract.model.Result`: the row names the
model or variant, the column the dataset or metric, and the caption (or the column heads)
says the metric, what ``±`` means (:func:`spread_meaning`) and over how many seeds.
"""

from __future__ import annotations

import re

from pytest_repro.extract.datasets import dataset_name, dataset_names
from pytest_repro.extract.model import Result, Spread, Table
from pytest_repro.extract.numbers import MINUS_SIGNS, to_number

_CELL = re.compile(
    r"^\s*(?P<value>[" + MINUS_SIGNS + r"]?\d+(?:\.\d+)?)\s*(?P<pct>%)?\s*"
    r"(?:(?:±|\+/-|\+-|\\pm)\s*(?P<pm>\d+(?:\.\d+)?)|\((?P<paren>\d+(?:\.\d+)?)\))?\s*%?\s*"
    r"(?:[*†‡§¶]+)?\s*$"
)
_METRICS = re.compile(
    r"\b(?P<m>top-?[15]\s+(?:accuracy|error)|test\s+(?:accuracy|error|loss|perplexity)|"
    r"(?:validation|train(?:ing)?)\s+(?:accuracy|error|loss)|accuracy|error\s+rate|error|"
    r"perplexity|BLEU|ROUGE(?:-\w+)?|F1|AUC|mAP|mIoU|FID|loss|NLL|MSE|RMSE|R\^?2|exact\s+match)\b",
    re.I,
)


def spread_meaning(text: str) -> Spread:
    low = text.lower()
    if re.search(r"standard\s+deviation|\bstd\b|\bs\.d\.|\bsd\b", low):
        return "sd"
    if re.search(r"standard\s+error|\bs\.e\.m?\b|\bsem\b|\bse\b", low):
        return "se"
    if re.search(r"confidence\s+interval|\bci\b|95\s?%", low):
        return "ci95"
    if re.search(r"\bmin(?:imum)?\b.*\bmax(?:imum)?\b|\brange\b", low):
        return "range"
    return "unspecified"


def _caption_seeds(caption: str) -> int | None:
    match = re.search(
        r"(?:over|across|of)\s+(\d+|three|five|ten|two|four)\s+(?:random\s+|independent\s+|different\s+)*"
        r"(?:seeds|runs|trials|repetitions)",
        caption,
        re.I,
    )
    if not match:
        return None
    number = to_number(match.group(1))
    return int(number) if number is not None else None


def table_results(table: Table) -> list[Result]:
    """Every number of a results table, with its row, column, ± and what the caption says."""
    columns = table.columns()
    caption_metric = _METRICS.search(table.caption)
    metric_default = caption_metric.group("m") if caption_metric else ""
    caption_datasets = dataset_names(table.caption)
    heads = " ".join(columns)
    spread = spread_meaning(table.caption + " " + heads)
    seeds = _caption_seeds(table.caption)
    out: list[Result] = []
    for row in table.rows:
        if len(row) < 2:
            continue
        model = " ".join(row[0].split())
        for i, cell in enumerate(row[1:], start=1):
            match = _CELL.match(cell.replace("−", "-").replace("–", "-"))
            if not match:
                continue
            value = float(match.group("value").replace("−", "-").replace("–", "-"))
            pm_text = match.group("pm") or match.group("paren")
            column = columns[i] if i < len(columns) else ""
            dataset = dataset_name(column) or (
                caption_datasets[0] if len(caption_datasets) == 1 else ""
            )
            column_metric = _METRICS.search(column)
            metric = column_metric.group("m") if column_metric else metric_default
            variant = model
            if column and not dataset_name(column) and not column_metric:
                variant = f"{model} ({column})" if model else column
            percent = bool(match.group("pct")) or "%" in table.caption or "%" in column
            out.append(
                Result(
                    table=table.ref,
                    model=variant,
                    metric=metric,
                    dataset=dataset,
                    value=value,
                    text=" ".join(cell.split()),
                    pm=float(pm_text) if pm_text else None,
                    spread=spread if pm_text else "unspecified",
                    seeds=seeds,
                    percent=percent,
                )
            )
    return out


__all__ = ["spread_meaning", "table_results"]
