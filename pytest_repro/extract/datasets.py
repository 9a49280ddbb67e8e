"""Datasets a paper names, and the split sizes it gives for them.

A fixed list of well-known dataset names (:data:`DATASET_NAMES`), matched with or without
their hyphens and spaces; a sentence that names one may also say how many training, test
or validation examples it has ("50,000 training images").
"""

from __future__ import annotations

import re

from pytest_repro.extract.model import DatasetFact
from pytest_repro.extract.numbers import to_number

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


def dataset_names(text: str) -> list[str]:
    """Every known dataset ``text`` names, once each, in the order they appear."""
    return list(dict.fromkeys(dataset_name(m.group(0)) for m in _DATASET.finditer(text)))


def dataset_facts(sentence: str, where: str) -> list[DatasetFact]:
    names = dataset_names(sentence)
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


__all__ = ["DATASET_NAMES", "DATASET_PATTERN", "dataset_facts", "dataset_name", "dataset_names"]
