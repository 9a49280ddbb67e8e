"""Spec nodes to and from JSON, for tasks sent to worker processes.

Workers may run in an isolated environment without PyYAML, so they receive the
parts of the spec they need as JSON instead of re-reading ``paper.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from pytest_repro.spec.node import Location
from pytest_repro.spec.schema import DataSource, FileRef, HFRef


def data_source_to_json(source: DataSource) -> dict[str, Any]:
    return asdict(source)


def data_source_from_json(data: Mapping[str, Any]) -> DataSource:
    def loc(value: Mapping[str, Any]) -> Location:
        return Location(str(value["path"]), int(value["line"]))

    hf = data.get("hf")
    return DataSource(
        name=data["name"],
        kind=data["kind"],
        target=data.get("target"),
        trusted=bool(data.get("trusted", False)),
        args=dict(data.get("args") or {}),
        files=tuple(
            FileRef(path=f["path"], sha256=f.get("sha256"), loc=loc(f["loc"]))
            for f in data.get("files") or ()
        ),
        hf=None
        if hf is None
        else HFRef(
            path=hf["path"],
            name=hf.get("name"),
            revision=hf.get("revision"),
            split=hf.get("split"),
            data_files=hf.get("data_files"),
            from_disk=bool(hf.get("from_disk")),
            loc=loc(hf["loc"]),
        ),
        fingerprint=data.get("fingerprint"),
        loc=loc(data["loc"]),
    )
