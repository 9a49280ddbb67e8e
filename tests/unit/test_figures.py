"""A claim's figures: learning curves and seed strips as plain, escaped, deterministic SVG."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

from pytest_repro.records import RunRecord
from pytest_repro.report import figures, html, markdown, writers
from pytest_repro.report.model import claim_view
from pytest_repro.results import ClaimResult

from .test_report_model import _spec, comparative, result

NS = {"svg": figures.SVG_NS}


def record(seed: int, *, variant: str = "v1", points: int = 5, metric: str = "acc") -> RunRecord:
    series = tuple(
        {"epoch": e, "step": 10 * e, metric: 0.8 + 0.02 * e + 0.001 * seed}
        for e in range(1, points + 1)
    )
    return RunRecord(
        run_id=f"r{seed}" if variant == "v1" else f"{variant}-r{seed}",
        cache_key="k",
        paper_id="p1",
        paper_path="papers/p1/paper.yaml",
        variant=variant,
        config={},
        seed=seed,
        status="ok",
        series=series,
    )


def records(*runs: RunRecord) -> dict[str, RunRecord]:
    return {r.run_id: r for r in runs}


def three(**kw: Any) -> dict[str, RunRecord]:
    return records(*(record(s, **kw) for s in range(3)))


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def classed(root: ET.Element, tag: str, cls: str) -> list[ET.Element]:
    return [e for e in root.iter(f"{{{figures.SVG_NS}}}{tag}") if e.get("class") == cls]


def texts(root: ET.Element, cls: str) -> list[str]:
    return [e.text or "" for e in classed(root, "text", cls)]


def test_the_learning_curve_draws_one_polyline_per_seed_with_the_claims_epoch_and_band() -> None:
    root = parse(figures.learning_curve(result(), three()))
    lines = classed(root, "polyline", "seed")
    assert [e.get("data-seed") for e in lines] == ["0", "1", "2"]
    assert all(len(e.get("points", "").split()) == 5 for e in lines)
    assert len(classed(root, "line", "marker")) == 1  # epoch 5
    assert len(classed(root, "line", "paper")) == 1
    assert len(classed(root, "rect", "band")) == 1
    assert texts(root, "axis-label") == ["acc", "epoch"]
    ticks = texts(root, "tick-label")
    assert any(t.endswith("%") for t in ticks)  # the claim's units (fraction as percent)
    assert {"1", "5"} <= set(ticks)


def test_the_marker_sits_at_the_claims_epoch() -> None:
    root = parse(figures.learning_curve(result(at={"epoch": 3}), three()))
    marker = classed(root, "line", "marker")[0]
    line = classed(root, "polyline", "seed")[0]
    third = line.get("points", "").split()[2].split(",")[0]
    assert marker.get("x1") == marker.get("x2") == third


def test_a_comparative_curve_has_one_colour_per_arm() -> None:
    runs = records(*(record(s, variant=v) for v in ("wide", "narrow") for s in range(3)))
    r = comparative(runs=tuple(runs))
    root = parse(figures.learning_curve(r, runs))
    lines = classed(root, "polyline", "seed")
    assert [e.get("data-arm") for e in lines] == ["A"] * 3 + ["B"] * 3
    colours = {
        e.get("data-arm"): {
            x.get("stroke") for x in lines if x.get("data-arm") == e.get("data-arm")
        }
        for e in lines
    }
    assert colours == {"A": {figures.ARM_COLOURS[0]}, "B": {figures.ARM_COLOURS[1]}}
    assert "A = wide" in texts(root, "legend")


def test_a_hostile_claim_id_and_metric_are_text_in_the_svg() -> None:
    runs = three(metric="<b>&m")
    r = result(id="<script>alert(1)</script>", metric="<b>&m")
    svg = figures.learning_curve(r, runs)
    assert "<script" not in svg and "<b>" not in svg
    root = parse(svg)
    title = root.find("svg:title", NS)
    assert title is not None and title.text == "learning curve of <b>&m (<script>alert(1)</script>)"
    assert "<b>&m" in texts(root, "axis-label")
    assert figures.figure_name(r.id).startswith("claim-")
    assert figures.figure_name("../../etc/passwd") != "../../etc/passwd.svg"
    assert figures.figure_name("acc.top-1_x") == "acc.top-1_x.svg"


def test_the_same_input_gives_byte_identical_figures() -> None:
    r, runs = result(), three()
    assert figures.learning_curve(r, runs) == figures.learning_curve(
        r, dict(reversed(runs.items()))
    )
    assert figures.seed_strip(r) == figures.seed_strip(replace(r))


def test_a_long_series_is_thinned_and_keeps_the_claims_point() -> None:
    runs = records(*(record(s, points=5000) for s in range(3)))
    r = result(at={"epoch": 2501})
    found = figures.curves(r, runs)
    assert all(len(c.points) <= figures.MAX_POINTS for c in found)
    assert all(c.points[0][0] == 1 and c.points[-1][0] == 5000 for c in found)
    assert all(any(x == 2501 for x, _ in c.points) for c in found)
    assert len(figures.learning_curve(r, runs)) < 60_000


def test_claims_without_recorded_series_get_no_figure() -> None:
    runs = three()
    for r in (
        result(verdict="skipped", runs=()),
        result(verdict="error", error="boom"),
        result(runs=()),
        result(runs=("unknown",)),
    ):
        assert figures.learning_curve(r, runs) == ""
        assert figures.figure_file(r, runs) == ""
    assert figures.seed_strip(result(verdict="skipped", values=())) == ""


def test_the_seed_strip_has_seeds_interval_band_paper_and_a_labelled_axis() -> None:
    root = parse(figures.seed_strip(result()))
    assert [c.get("data-seed") for c in classed(root, "circle", "seed")] == ["0", "1", "2"]
    assert len(classed(root, "line", "interval")) == 1
    assert len(classed(root, "rect", "band")) == 1
    assert len(classed(root, "line", "paper")) == 1
    assert texts(root, "axis-label") == ["acc at epoch 5"]
    assert all(t.endswith("%") for t in texts(root, "tick-label"))
    assert "90% CI" in texts(root, "row-label")


def test_a_comparative_strip_shows_improvements_against_the_margin() -> None:
    root = parse(figures.seed_strip(comparative()))
    assert len(classed(root, "line", "margin")) == 1
    assert texts(root, "axis-label") == ["improvement of A over B in acc at epoch 5"]
    assert all(t.endswith("pp") for t in texts(root, "tick-label"))


def test_the_html_panel_holds_both_figures() -> None:
    panel = html.panel(result(), three())
    assert panel.count("<svg ") == 2
    assert panel.count("<polyline") == 3
    assert html.panel(result()).count("<svg ") == 1  # the strip only, without records


def test_figure_files_are_written_once_and_keep_their_mtime(tmp_path: Path) -> None:
    runs = three()
    claims = [result(), result(id="gap", verdict="error", error="x"), result(id="../x")]
    folder = tmp_path / "figures"
    written = writers.write_figures(folder, claims, runs)
    assert [p.name for p in written] == ["acc.svg", figures.figure_name("../x")]
    assert all(p.parent == folder for p in written)
    parse(written[0].read_text().split("\n", 1)[1])
    old = 1_000_000_000 * 10**9
    os.utime(written[0], ns=(old, old))
    assert writers.write_figures(folder, claims, runs) == written
    assert written[0].stat().st_mtime_ns == old
    changed = {k: replace(v, series=v.series[:3]) for k, v in runs.items()}
    writers.write_figures(folder, claims, changed)
    assert written[0].stat().st_mtime_ns != old


def test_results_md_links_each_figure_and_only_where_there_is_one(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    claims = [result(verdict="matched", label="[matched]"), result(id="gap", runs=())]
    text = markdown.render(spec, claims, three(), version="0", settings="s", figures=True)
    assert "- Figure: ![learning curve of acc](figures/acc.svg)" in text
    assert text.count("- Figure: ") == 1
    plain = markdown.render(spec, claims, three(), version="0", settings="s")
    assert "- Figure: " not in plain


def test_the_executive_summary_counts_reproduced_claims_and_names_the_largest_gap(
    tmp_path: Path,
) -> None:
    spec = _spec(tmp_path)
    views = [
        claim_view(result(verdict="matched", label="[matched]", delta=0.0)),
        claim_view(result(id="gap", delta=-0.02)),
        claim_view(result(id="far", delta=-0.05)),
        claim_view(result(id="known", delta=-0.09, expect="gap", hypothesis="h")),
        claim_view(result(id="maybe", verdict="inconclusive", label="[inconclusive]")),
    ]
    (line, blank) = markdown.executive_summary(spec, views)
    assert blank == ""
    assert line == (
        "**Summary.** 1 of 5 claims reproduced (1 matched). 3 gaps (1 expected by the spec); "
        "the largest unexpected one is `far`, gap with Δ -5.0 pp. Caveats: 1 inconclusive claim."
    )


def test_a_claim_result_from_json_draws_the_same_figures() -> None:
    r = result()
    again = ClaimResult.from_json(r.to_json())
    assert figures.learning_curve(again, three()) == figures.learning_curve(r, three())
