"""What a paper's text yields: its document, and the candidate facts read from it.

A reader (``latex.py``, ``html.py``, ``pdf.py``) turns a source into a :class:`Document`
(title, authors, sections of prose, tables as rows of cells, and what it could not read);
:mod:`pytest_repro.extract.facts` turns a document into an :class:`Extract`. Every fact
keeps where it was found (``Sec. 4.1``, ``Table 2``) and the sentence or cells that say
it, so a user can check each one against the paper. Nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

Format = Literal["latex", "html", "pdf"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """A numbered part of the paper: ``number`` is ``4.1``, ``A`` or empty (Abstract)."""

    number: str
    title: str
    text: str

    @property
    def ref(self) -> str:
        """How a spec cites it: ``Sec. 4.1``, ``App. A``, or the title."""
        if not self.number:
            return self.title or "front matter"
        if self.number[0].isalpha():
            return f"App. {self.number}"
        return f"Sec. {self.number}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    """A table read as a table: header rows, body rows, its caption and section."""

    number: str
    caption: str
    section: str
    header: tuple[tuple[str, ...], ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def ref(self) -> str:
        return f"Table {self.number}" if self.number else "a table"

    def columns(self) -> tuple[str, ...]:
        """One name per column: the header rows joined (``CIFAR-10 / Acc``)."""
        width = max([len(r) for r in (*self.header, *self.rows)] or [0])
        names: list[str] = []
        for i in range(width):
            parts = [r[i] for r in self.header if i < len(r) and r[i]]
            unique = [p for j, p in enumerate(parts) if p not in parts[:j]]
            names.append(" / ".join(unique))
        return tuple(names)


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """A paper as a reader saw it, before any fact is read out of it."""

    source: str
    format: Format
    title: str = ""
    authors: tuple[str, ...] = ()
    sections: tuple[Section, ...] = ()
    tables: tuple[Table, ...] = ()
    #: what could not be read, in words a user can act on; empty when all was read.
    problems: tuple[str, ...] = ()


FactKind = Literal[
    "learning_rate",
    "batch_size",
    "epochs",
    "steps",
    "optimizer",
    "betas",
    "momentum",
    "weight_decay",
    "schedule",
    "warmup",
    "dropout",
    "width",
    "depth",
    "init",
    "augmentation",
    "seeds",
]
#: Every hyperparameter kind the extract looks for, in the order reports list them.
HYPERPARAMETER_KINDS: tuple[FactKind, ...] = (
    "learning_rate",
    "batch_size",
    "epochs",
    "steps",
    "optimizer",
    "betas",
    "momentum",
    "weight_decay",
    "schedule",
    "warmup",
    "dropout",
    "width",
    "depth",
    "init",
    "augmentation",
    "seeds",
)
#: How each kind is said in a report.
KIND_WORDS: dict[str, str] = {
    "learning_rate": "learning rate",
    "batch_size": "batch size",
    "epochs": "epochs",
    "steps": "training steps",
    "optimizer": "optimizer",
    "betas": "Adam betas",
    "momentum": "momentum",
    "weight_decay": "weight decay",
    "schedule": "learning-rate schedule",
    "warmup": "warmup",
    "dropout": "dropout",
    "width": "width",
    "depth": "depth",
    "init": "initialisation",
    "augmentation": "data augmentation",
    "seeds": "seeds / runs",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Fact:
    """One candidate hyperparameter: ``kind`` with ``value`` as the paper writes it.

    ``number`` is the value as a float where it is one number (``3e-4`` for
    ``3 × 10^-4``); ``where`` is ``Sec. 4.1`` or ``Table 5``; ``evidence`` the sentence,
    or the table row, that states it; ``scope`` a variant or dataset the statement is
    limited to, when the text says so (``CIFAR-10``).
    """

    kind: str
    value: str
    number: float | None
    where: str
    evidence: str
    scope: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetFact:
    """A dataset named in the paper, with a split or size where a sentence gives one."""

    name: str
    where: str
    evidence: str
    split: str = ""
    size: int | None = None


Spread = Literal["sd", "se", "ci95", "range", "unspecified"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """A reported number from a results table.

    ``pm`` is the ± part and ``spread`` what it means, from the caption or header
    (``sd`` when the caption says standard deviation, ``unspecified`` when nothing says);
    ``seeds`` the number of runs the caption names.
    """

    table: str
    model: str
    metric: str
    dataset: str
    value: float
    text: str
    pm: float | None = None
    spread: Spread = "unspecified"
    seeds: int | None = None
    percent: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Extract:
    """Everything read from one paper."""

    source: str
    format: Format
    title: str
    authors: tuple[str, ...]
    sections: tuple[tuple[str, str], ...]  # (ref, title)
    hyperparameters: tuple[Fact, ...]
    datasets: tuple[DatasetFact, ...]
    results: tuple[Result, ...]
    tables: tuple[Table, ...]
    problems: tuple[str, ...] = ()
    version: int = 1

    @property
    def partial(self) -> bool:
        return bool(self.problems)

    def stated_kinds(self) -> set[str]:
        return {f.kind for f in self.hyperparameters}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Extract:
        """The inverse of :meth:`to_json`; raises ``KeyError``/``TypeError`` on other data."""
        tables = tuple(
            Table(
                number=str(t["number"]),
                caption=str(t["caption"]),
                section=str(t["section"]),
                header=tuple(tuple(str(c) for c in r) for r in t["header"]),
                rows=tuple(tuple(str(c) for c in r) for r in t["rows"]),
            )
            for t in data["tables"]
        )
        return cls(
            source=str(data["source"]),
            format=data["format"],
            title=str(data["title"]),
            authors=tuple(str(a) for a in data["authors"]),
            sections=tuple((str(a), str(b)) for a, b in data["sections"]),
            hyperparameters=tuple(Fact(**f) for f in data["hyperparameters"]),
            datasets=tuple(DatasetFact(**d) for d in data["datasets"]),
            results=tuple(Result(**r) for r in data["results"]),
            tables=tables,
            problems=tuple(str(p) for p in data["problems"]),
            version=int(data.get("version", 1)),
        )


__all__ = [
    "HYPERPARAMETER_KINDS",
    "KIND_WORDS",
    "DatasetFact",
    "Document",
    "Extract",
    "Fact",
    "Format",
    "Result",
    "Section",
    "Table",
]
