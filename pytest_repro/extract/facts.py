"""A :class:`~pytest_repro.extract.model.Document` → its candidate facts.

Deterministic text processing: prose is split into sentences and each sentence is
matched against one small pattern set per hyperparameter kind, most specific kind
first, so "a warmup of 5 epochs" is a warmup and not an epoch count. Tables are
classified from their cells: a table whose first column names hyperparameters gives
hyperparameter facts; any other table with numbers gives reported results (row: the
model or variant, column: the dataset or metric, caption: the metric, what ± means and
how many seeds).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pytest_repro.extract.model import (
    DatasetFact,
    Document,
    Extract,
    Fact,
    Result,
    Spread,
    Table,
)

# -- numbers --------------------------------------------------------------------------------
_MINUS = "-−–"
NUMBER = (
    r"(?:(?<![\w.])10\s?\^\s?\{?\s?[" + _MINUS + r"]?\s?\d+\s?\}?"
    r"|(?<![\w.])(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
    r"(?:\s?[eE]\s?[" + _MINUS + r"+]?\s?\d+)?"
    r"(?:\s?[×x·*]\s?10\s?\^?\s?\{?\s?[" + _MINUS + r"]?\s?\d+\s?\}?)?)"
    r"(?:\s?[kKM](?![\w]))?"
)
_NUM = f"(?P<num>{NUMBER})"
_WORD_NUMBERS = {
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twenty": 20,
}


def to_number(text: str) -> float | None:
    """``3e-4`` from ``3 × 10^-4``, ``3·10^{-4}``, ``3e-4``; ``100000`` from ``100k``."""
    t = text.strip()
    for dash in _MINUS:
        t = t.replace(dash, "-")
    t = re.sub(r"[\s{}]", "", t)
    if t.lower() in _WORD_NUMBERS:
        return float(_WORD_NUMBERS[t.lower()])
    factor = 1.0
    if t[-1:] in "kKM" and t[:-1]:
        factor = 1e6 if t[-1] == "M" else 1e3
        t = t[:-1]
    match = re.fullmatch(r"(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)[×x·*])?10\^(-?\d+)", t)
    try:
        if match:
            return float(f"{match.group(1) or '1'}e{int(match.group(2))}") * factor
        return float(t.replace(",", "")) * factor
    except (ValueError, OverflowError):
        return None


def number_text(value: float) -> str:
    """A number as a spec writes it: ``0.1``, ``0.0005``, ``128``."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.10g}"


# -- sentences ------------------------------------------------------------------------------
_ABBREVIATIONS = re.compile(
    r"\b(?:e\.g|i\.e|et al|Fig|Figs|Sec|Secs|Eq|Eqs|Tab|vs|cf|resp|approx|App|Ref|Refs|No)\.$",
    re.I,
)


def sentences(text: str) -> Iterator[str]:
    """The sentences of ``text``; abbreviations and decimals do not end one."""
    start = 0
    for match in re.finditer(r"[.!?;](?=\s+[A-Z(\[0-9])", text):
        candidate = text[start : match.end()]
        if _ABBREVIATIONS.search(candidate):
            continue
        if candidate.strip():
            yield candidate.strip()
        start = match.end()
    rest = text[start:].strip()
    if rest:
        yield rest


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


# -- datasets -------------------------------------------------------------------------------
DATASET_NAMES = (
    "CIFAR-100",
    "CIFAR-10",
    "Fashion-MNIST",
    "KMNIST",
    "EMNIST",
    "MNIST-1D",
    "MNIST",
    "SVHN",
    "STL-10",
    "Tiny ImageNet",
    "ImageNet-21k",
    "ImageNet-1k",
    "ImageNet",
    "CelebA",
    "LSUN",
    "MS COCO",
    "COCO",
    "Pascal VOC",
    "Cityscapes",
    "ADE20K",
    "Omniglot",
    "CUB-200",
    "Places365",
    "WikiText-103",
    "WikiText-2",
    "Penn Treebank",
    "enwik8",
    "text8",
    "OpenWebText",
    "C4",
    "GLUE",
    "SuperGLUE",
    "SST-2",
    "MNLI",
    "SQuAD",
    "IMDB",
    "AG News",
    "LibriSpeech",
    "UCI",
    "Iris",
)
DATASET_PATTERN = "|".join(
    re.escape(n).replace(r"\-", "[-\\s]?").replace(r"\ ", "[-\\s]?") for n in DATASET_NAMES
)
_DATASET = re.compile(r"(?<![\w-])(?P<name>" + DATASET_PATTERN + r")(?![\w])", re.I)
_SIZES = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?\s?[kKM]?)\s+(?P<split>training|train|test|testing|"
    r"validation|held[\s-]out|dev)\s+(?:images|examples|samples|sentences|documents|points|sequences)"
    r"(?=(?P<after>[^;.]{0,40}))",
    re.I,
)


def dataset_name(text: str) -> str:
    """The known dataset ``text`` names (``CIFAR-10``), or ``""``."""
    match = _DATASET.search(text)
    if not match:
        return ""
    found = match.group("name").lower().replace(" ", "").replace("-", "")
    for name in DATASET_NAMES:
        if name.lower().replace(" ", "").replace("-", "") == found:
            return name
    return match.group("name")


def dataset_facts(sentence: str, where: str) -> list[DatasetFact]:
    names = list(dict.fromkeys(dataset_name(m.group(0)) for m in _DATASET.finditer(sentence)))
    if not names:
        return []
    out: list[DatasetFact] = []
    sized: set[str] = set()
    for m in _SIZES.finditer(sentence):
        number = to_number(m.group("num"))
        split = m.group("split").lower()
        after = m.group("after").lower()
        for other in ("validation", "test", "dev"):
            if re.search(rf"\bas\s+(?:a|the)\s+{other}\s+set", after):
                split = other
        split = {"train": "training", "testing": "test", "held out": "held-out"}.get(split, split)
        name = _nearest_name(sentence, m.start(), names)
        if number is not None:
            out.append(
                DatasetFact(
                    name=name, where=where, evidence=sentence, split=split, size=int(number)
                )
            )
            sized.add(name)
    out.extend(DatasetFact(name=n, where=where, evidence=sentence) for n in names if n not in sized)
    return out


def _nearest_name(sentence: str, position: int, names: list[str]) -> str:
    best, distance = names[0], len(sentence) + 1
    for m in _DATASET.finditer(sentence):
        if m.start() <= position and position - m.start() < distance:
            best, distance = dataset_name(m.group(0)), position - m.start()
    return best


# -- tables ---------------------------------------------------------------------------------
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


_CELL = re.compile(
    r"^\s*(?P<value>[" + _MINUS + r"]?\d+(?:\.\d+)?)\s*(?P<pct>%)?\s*"
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
    caption_datasets = list(
        dict.fromkeys(dataset_name(m.group(0)) for m in _DATASET.finditer(table.caption))
    )
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


# -- the whole document ---------------------------------------------------------------------
def extract(document: Document) -> Extract:
    """Every candidate fact of ``document``."""
    hyper: list[Fact] = []
    datasets: list[DatasetFact] = []
    for section in document.sections:
        where = section.ref
        for sentence in sentences(section.text):
            hyper.extend(prose_facts(sentence, where))
            datasets.extend(dataset_facts(sentence, where))
    results: list[Result] = []
    for table in document.tables:
        if is_hyperparameter_table(table):
            hyper.extend(table_facts(table))
        else:
            results.extend(table_results(table))
    problems = list(document.problems)
    if document.sections and not document.tables:
        problems.append("no table was found: reported results could not be read")
    if not hyper and not results and not any(p.startswith("no section") for p in problems):
        problems.append(
            "no hyperparameter and no reported result was found: is this a paper's text?"
        )
    return Extract(
        source=document.source,
        format=document.format,
        title=document.title,
        authors=document.authors,
        sections=tuple((s.ref, s.title) for s in document.sections),
        hyperparameters=tuple(dict.fromkeys(hyper)),
        datasets=tuple(dict.fromkeys(datasets)),
        results=tuple(results),
        tables=document.tables,
        problems=tuple(problems),
    )


__all__ = [
    "NUMBER",
    "dataset_name",
    "extract",
    "label_kind",
    "number_text",
    "prose_facts",
    "sentences",
    "spread_meaning",
    "table_results",
    "to_number",
]
