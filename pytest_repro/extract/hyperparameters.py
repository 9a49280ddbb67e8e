"""Hyperparameters a paper states: in its prose, and in tables that list them.

Each sentence is matched against one small pattern set per hyperparameter kind, most
specific kind first, so "a warmup of 5 epochs" is a warmup and not an epoch count; a
value outside a kind's plausible range is dropped. A table whose first column names
hyperparameters (:func:`is_hyperparameter_table`) gives one fact per value cell, scoped to
its column (a dataset or a model) where the table has several.
"""

from __future__ import annotations

import re

from pytest_repro.extract.datasets import DATASET_PATTERN
from pytest_repro.extract.model import Fact, Table
from pytest_repro.extract.numbers import NUMBER, to_number

_NUM = f"(?P<num>{NUMBER})"


# -- hyperparameters in prose ---------------------------------------------------------------
#: between a name and its value: "of", "is set to", "=", "with rate", "η =".
_LINK = (
    r"(?:\s*\([^)]{0,20}\))?"
    r"(?:\s*[ηλαγ](?:_\w)?)?"
    r"\s*(?:(?:is|was|were|are)\s+)?(?:(?:set|fixed|chosen|kept)\s+)?"
    r"(?:(?:to|of|at|as|=|:|equal\s+to|with\s+(?:a\s+)?(?:rate|probability|p)\s*(?:of|=)?)\s*)?"
    r"(?:a\s+|an\s+)?(?:value\s+of\s+|constant\s+)?"
)
_UNIT_STEPS = r"(?:training\s+|optimi[sz]ation\s+|gradient\s+)?(?:steps|iterations|updates)"


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


#: (kind, patterns): each pattern has a ``num`` group or a ``val`` group. Most specific first.
PROSE_PATTERNS: tuple[tuple[str, tuple[re.Pattern[str], ...]], ...] = (
    (
        "warmup",
        (
            _p(
                r"warm[\s-]?up(?:\s+phase)?(?:\s+(?:of|for|over|during))?(?:\s+the\s+first)?\s+"
                + _NUM
                + r"\s+(?P<unit>epochs?|"
                + _UNIT_STEPS
                + r")"
            ),
            _p(_NUM + r"\s+(?P<unit>epochs?|steps|iterations)\s+of\s+(?:linear\s+)?warm[\s-]?up"),
            _p(_NUM + r"\s+warm[\s-]?up\s+(?P<unit>epochs?|steps|iterations)"),
            _p(r"(?P<val>\bno\s+(?:learning[\s-]rate\s+)?warm[\s-]?up|without\s+warm[\s-]?up)"),
        ),
    ),
    (
        "betas",
        (
            _p(
                r"(?:β|beta)\s*_?\s*\{?1\}?\s*(?:=|of)\s*(?P<b1>" + NUMBER + r")"
                r"[^.;]{0,20}?(?:β|beta)\s*_?\s*\{?2\}?\s*(?:=|of)\s*(?P<b2>" + NUMBER + r")"
            ),
            _p(
                r"(?:betas|\(β\s*_?1\s*,\s*β\s*_?2\s*\))\s*(?:of|=|:)?\s*\(?\s*(?P<b1>"
                + NUMBER
                + r")\s*,\s*(?P<b2>"
                + NUMBER
                + r")"
            ),
        ),
    ),
    (
        "weight_decay",
        (
            _p(
                r"(?:weight[\s-]decay|L2\s+(?:regulari[sz]ation|penalty)(?:\s+(?:coefficient|strength))?)"
                + _LINK
                + _NUM
            ),
            _p(r"(?P<val>\bno\s+weight[\s-]decay)"),
        ),
    ),
    (
        "dropout",
        (
            _p(r"dropout(?:\s+(?:rate|probability))?" + _LINK + _NUM),
            _p(r"(?P<val>\bno\s+dropout|dropout\s+is\s+not\s+used|without\s+dropout)"),
        ),
    ),
    (
        "momentum",
        (_p(r"momentum(?:\s+(?:coefficient|parameter|term))?" + _LINK + _NUM),),
    ),
    (
        "learning_rate",
        (
            _p(r"(?:learning[\s-]rates?|\blr\b|step[\s-]size)" + _LINK + _NUM),
            _p(_NUM + r"\s+(?:as\s+(?:the\s+)?)?(?:initial\s+|base\s+|peak\s+)?learning[\s-]rate"),
        ),
    ),
    (
        "batch_size",
        (
            _p(r"(?:mini[\s-]?)?batch[\s-]?sizes?" + _LINK + _NUM),
            _p(r"(?:mini[\s-]?)?batches\s+of\s+(?:size\s+)?" + _NUM),
            _p(
                _NUM
                + r"\s+(?:examples|images|samples|sequences|tokens)\s+per\s+(?:mini[\s-]?)?batch"
            ),
        ),
    ),
    (
        "steps",
        (
            _p(_NUM + r"\s+" + _UNIT_STEPS),
            _p(r"(?:number\s+of\s+)?(?:training\s+)?(?:steps|iterations)" + _LINK + _NUM),
        ),
    ),
    (
        "epochs",
        (
            _p(_NUM + r"\s+(?:training\s+)?epochs"),
            _p(r"(?:number\s+of\s+)?epochs" + _LINK + _NUM),
        ),
    ),
    (
        "seeds",
        (
            _p(
                r"(?P<num>"
                + NUMBER
                + r"|\b(?:one|single|two|three|four|five|six|seven|eight|nine|ten|twenty)\b)"
                r"\s+(?:random\s+|different\s+|independent\s+)*(?:random\s+)?(?:seeds|seed|runs|trials|repetitions)\b"
            ),
            _p(
                r"(?:averaged|mean|median)\s+(?:over|across|of)\s+(?P<num>"
                + NUMBER
                + r"|\b(?:three|five|ten)\b)\b(?!\s*(?:%|epochs|steps))"
            ),
        ),
    ),
    (
        "depth",
        (
            _p(_NUM + r"[\s-](?:hidden\s+|convolutional\s+|transformer\s+|residual\s+)?layers?\b"),
            _p(r"\bdepth" + _LINK + _NUM),
        ),
    ),
    (
        "width",
        (
            _p(
                r"\b(?:width|hidden\s+(?:size|dimension|units)|embedding\s+(?:size|dimension)|model\s+dimension|d_model)"
                + _LINK
                + _NUM
            ),
            _p(_NUM + r"\s+(?:hidden\s+units|channels|filters|neurons|units)"),
        ),
    ),
)
_OPTIMIZERS = re.compile(
    r"\b(?P<val>AdamW|Adam|SGD|RMSProp|RMSprop|Adagrad|AdaGrad|Adadelta|Adafactor|LAMB|LARS|"
    r"Lion|Shampoo|L-BFGS|LBFGS|stochastic\s+gradient\s+descent)\b"
)
_SCHEDULES = re.compile(
    r"(?P<val>\bcosine(?:\s+annealing)?|\bstep(?:[\s-]wise)?\s+decay|\blinear(?:ly)?\s+(?:decay|decayed|decreas\w*)|"
    r"\bexponential(?:ly)?\s+decay\w*|\bpolynomial\s+decay|\binverse\s+square[\s-]root|"
    r"\bone[\s-]cycle|\breduce[\s-]on[\s-]plateau|\bconstant\s+learning[\s-]rate|"
    r"\b(?:divided|decayed|reduced|multiplied)\s+by\s+(?:a\s+factor\s+of\s+)?"
    + NUMBER
    + r"(?:\s+at\s+epochs?\s+[\d,\sand]+)?)",
    re.I,
)
_INIT = re.compile(
    r"(?P<val>\b(?:He|Kaiming|Xavier|Glorot|LeCun|orthogonal|truncated\s+normal)"
    r"(?:[\s-](?:normal|uniform))?)(?:\s+initiali[sz]ation|\s+init\b|\s+scheme)"
    r"|initiali[sz]ed\s+(?:with|using|from|to|by)\s+(?:the\s+)?(?P<val2>He|Kaiming|Xavier|Glorot|"
    r"LeCun|orthogonal|zeros?|ones|N\s?\([^)]{1,20}\)|a\s+(?:normal|uniform|Gaussian)\s+distribution[^,.;]{0,30})",
    re.I,
)
_AUGMENT = re.compile(
    r"\b(?P<val>random(?:ly)?\s+(?:resized\s+)?crop\w*|(?:random\s+)?horizontal(?:ly)?\s+flip\w*|"
    r"cutout|mixup|cutmix|auto[\s-]?augment|rand[\s-]?augment|colou?r\s+jitter\w*|random\s+erasing|"
    r"no\s+data\s+augmentation|without\s+(?:any\s+)?(?:data\s+)?augmentation)\b",
    re.I,
)


def _overlaps(span: tuple[int, int], taken: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in taken)


def prose_facts(sentence: str, where: str) -> list[Fact]:
    """Every hyperparameter ``sentence`` states, each with its value as written."""
    facts: list[Fact] = []
    taken: list[tuple[int, int]] = []
    scope = _scope(sentence)

    def add(kind: str, value: str, number: float | None, span: tuple[int, int]) -> None:
        taken.append(span)
        facts.append(
            Fact(
                kind=kind,
                value=" ".join(value.split()),
                number=number,
                where=where,
                evidence=sentence,
                scope=scope,
            )
        )

    for kind, patterns in PROSE_PATTERNS:
        for pattern in patterns:
            for m in pattern.finditer(sentence):
                groups = m.groupdict()
                if groups.get("b1"):
                    span = (m.start("b1"), m.end("b2"))
                    if not _overlaps(span, taken):
                        add(kind, f"{_clean(m.group('b1'))}, {_clean(m.group('b2'))}", None, span)
                    continue
                if groups.get("val"):
                    span = m.span("val")
                    if not _overlaps(span, taken):
                        add(kind, "none", 0.0, span)
                    continue
                span = m.span("num")
                if _overlaps(span, taken):
                    continue
                number = to_number(m.group("num"))
                if number is None or not _plausible(kind, number):
                    continue
                unit = groups.get("unit")
                text = _clean(m.group("num")) + (f" {_unit(unit)}" if unit else "")
                add(kind, text, number, span)
    for kind, regex in (("optimizer", _OPTIMIZERS), ("schedule", _SCHEDULES)):
        for m in regex.finditer(sentence):
            if not _overlaps(m.span(), taken):
                add(kind, _canonical(kind, m.group("val")), None, m.span())
    for m in _INIT.finditer(sentence):
        value = m.group("val") or m.group("val2")
        add("init", value, None, m.span())
    augmentations = [m.group("val").lower() for m in _AUGMENT.finditer(sentence)]
    if augmentations:
        unique = list(dict.fromkeys(" ".join(a.split()) for a in augmentations))
        add("augmentation", ", ".join(unique), None, (0, 0))
    return facts


def _clean(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _unit(unit: str) -> str:
    low = unit.lower()
    if low.startswith("epoch"):
        return "epochs"
    return "steps" if ("step" in low or "iteration" in low or "update" in low) else low


def _canonical(kind: str, value: str) -> str:
    value = " ".join(value.split())
    if kind == "optimizer" and value.lower() == "stochastic gradient descent":
        return "SGD"
    return value.lower() if kind == "schedule" else value


_LIMITS = {
    "learning_rate": (1e-8, 100.0),
    "momentum": (0.0, 1.0),
    "dropout": (0.0, 1.0),
    "weight_decay": (0.0, 1.0),
    "batch_size": (1.0, 1e7),
    "epochs": (1.0, 1e5),
    "steps": (1.0, 1e10),
    "seeds": (1.0, 1000.0),
    "depth": (1.0, 10000.0),
    "width": (1.0, 1e6),
    "warmup": (0.0, 1e8),
}


def _plausible(kind: str, number: float) -> bool:
    low, high = _LIMITS.get(kind, (float("-inf"), float("inf")))
    return low <= number <= high


def _scope(sentence: str) -> str:
    match = re.search(r"\b(?:For|On)\s+(?:the\s+)?(" + DATASET_PATTERN + r")", sentence)
    return match.group(1) if match else ""


# -- hyperparameter tables ------------------------------------------------------------------
#: (kind, words a table's label cell uses for it), the most specific first.
LABEL_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("warmup", ("warmup", "warm-up", "warm up")),
    ("schedule", ("schedule", "lr decay", "learning rate decay", "decay schedule", "scheduler")),
    ("betas", ("beta", "β", "betas")),
    ("weight_decay", ("weight decay", "l2", "wd")),
    ("learning_rate", ("learning rate", "lr", "step size")),
    ("batch_size", ("batch size", "batch", "minibatch")),
    ("momentum", ("momentum",)),
    ("dropout", ("dropout",)),
    ("optimizer", ("optimizer", "optimiser", "optimization method")),
    ("epochs", ("epochs", "epoch", "training epochs")),
    ("steps", ("steps", "iterations", "training steps", "updates")),
    ("seeds", ("seeds", "runs", "random seeds")),
    ("init", ("initialization", "initialisation", "init")),
    ("augmentation", ("augmentation", "data augmentation")),
    ("depth", ("depth", "layers", "number of layers")),
    ("width", ("width", "hidden size", "hidden units", "channels", "hidden dimension")),
)


def label_kind(label: str) -> str | None:
    """The hyperparameter kind a table's label cell names, or None."""
    low = re.sub(r"\s+", " ", label.lower()).strip(" :")
    if not low or len(low) > 60:
        return None
    for kind, words in LABEL_WORDS:
        for word in words:
            if re.search(r"(?<![a-z])" + re.escape(word) + r"(?![a-z])", low):
                return kind
    return None


def is_hyperparameter_table(table: Table) -> bool:
    """Whether ``table`` lists hyperparameters row by row (label | value...)."""
    rows = [r for r in table.rows if r and r[0].strip()]
    if not rows:
        return False
    named = sum(1 for r in rows if label_kind(r[0]) is not None)
    head = " ".join(c.lower() for r in table.header for c in r[:1])
    caption = table.caption.lower()
    hinted = "hyperparameter" in head or "hyper-parameter" in caption or "hyperparameter" in caption
    return named * 2 >= len(rows) and (named >= 3 or hinted)


def table_facts(table: Table) -> list[Fact]:
    columns = table.columns()
    out: list[Fact] = []
    for row in table.rows:
        if not row:
            continue
        kind = label_kind(row[0])
        if kind is None:
            continue
        for i, cell in enumerate(row[1:], start=1):
            cell = " ".join(cell.split())
            if not cell or cell in ("-", "—", "–", "n/a", "N/A"):
                continue
            number = to_number(cell) if re.fullmatch(NUMBER, cell.strip()) else None
            scope = columns[i] if len(row) > 2 and i < len(columns) else ""
            if scope.lower() in ("value", "values", "setting"):
                scope = ""
            label_scope = re.search(r"\(([^)]*)\)", row[0])
            out.append(
                Fact(
                    kind=kind,
                    value=cell,
                    number=number,
                    where=table.ref,
                    evidence=f"{row[0]}: {cell}",
                    scope=scope or (label_scope.group(1) if label_scope else ""),
                )
            )
    return out


__all__ = [
    "LABEL_WORDS",
    "PROSE_PATTERNS",
    "is_hyperparameter_table",
    "label_kind",
    "prose_facts",
    "table_facts",
]
