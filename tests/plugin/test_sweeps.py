"""Claims about curves: a sweep generates variants, its claims share runs, and a new grid
point runs only that point; trend, peak and curve claims are decided and drawn."""

from __future__ import annotations

import io
import json

import pytest

from pytest_repro.cli import main

from .conftest import HEADER, MakePaper, calls

#: A metric that falls as 1/sqrt(width), with a bump at width 32 when `bump` is set;
#: seed s shifts it by 0.0005 * (s - 1) * (1 + width / 64), so each point's seeds spread evenly.
CURVE_TRAIN = """\
import json, pathlib

def run(ctx):
    c = ctx.config
    with (pathlib.Path(ctx.paper_dir) / "calls.log").open("a") as f:
        f.write(json.dumps({"seed": ctx.seed, "config": dict(c)}) + "\\n")
    w = c["width"]
    bump = 0.5 if c["bump"] and w == 32 else 0.0
    for epoch in range(1, 4):
        ctx.log(epoch=epoch, loss=w ** -0.5 + bump + 0.0005 * (ctx.seed - 1) * (1 + w / 64))
"""

CURVE_HEADER = HEADER.replace("    epochs: 5\n", "    epochs: 5\n    width: 16\n    bump: false\n")


def curve_claim(cid: str, body: str, sweep: str = "{width: [16, 32, 64, 128]}") -> str:
    lines = [
        f"  - id: {cid}",
        "    text: a claim about a curve",
        "    source: Figure 1",
        "    metric: loss",
        "    at: {epoch: 3}",
        f"    sweep: {sweep}",
        *(f"    {line}" for line in body.strip().splitlines()),
    ]
    return "\n".join(lines) + "\n"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--repro-inprocess", "-p", "no:cacheprovider", *args)


def test_a_sweep_generates_one_variant_per_point_and_two_claims_share_their_runs(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(
        claims=curve_claim("falls", "kind: trend\ndirection: decreasing")
        + curve_claim("follows", 'kind: curve\nformula: "1 / sqrt(width)"\ntolerance: 5%'),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    result = run(pytester, "-v", "--repro-json=out.json")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(
        [
            "*::falls [[]matched: decreasing at every step of width[]]*",
            "*::follows [[]matched: every point within 5% of the paper[]]*",
        ]
    )
    assert calls(folder) == 12  # 4 points x 3 seeds, once for both claims
    doc = json.loads((pytester.path / "out.json").read_text())
    falls = doc["papers"][0]["claims"][0]
    assert falls["kind"] == "trend"
    assert falls["claimed"] == "decreasing in width"
    assert falls["variants"] == ["width=16", "width=32", "width=64", "width=128"]
    assert [p["x"] for p in falls["sweep"]["points"]] == [16, 32, 64, 128]
    assert len(falls["sweep"]["steps"]) == 3
    follows = doc["papers"][0]["claims"][1]
    assert follows["sweep"]["points"][0]["paper"] == pytest.approx(0.25)


def test_adding_one_grid_point_runs_only_that_point(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    body = "kind: trend\ndirection: decreasing"
    folder = make_paper(
        claims=curve_claim("falls", body, "{width: [16, 32, 64]}"),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    run(pytester).assert_outcomes(passed=1)
    assert calls(folder) == 9
    make_paper(
        claims=curve_claim("falls", body, "{width: [16, 32, 64, 128]}"),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    result = run(pytester)
    result.assert_outcomes(passed=1)
    assert calls(folder) == 12  # only width=128's three seeds ran
    result.stdout.fnmatch_lines(["*3 run(s) executed*9 reused from the ledger*"])


def test_a_swept_point_shares_its_runs_with_a_hand_written_variant(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    point = """\
  - id: at-64
    text: the point claim
    source: Table 1
    metric: loss
    at: {epoch: 3}
    paper: 0.125
    tolerance: 0.01
    config: {width: 64}
"""
    folder = make_paper(
        claims=point + curve_claim("falls", "kind: trend\ndirection: decreasing"),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    run(pytester).assert_outcomes(passed=2)
    assert calls(folder) == 12


def test_a_peak_outside_the_claimed_range_is_a_disagreement_with_its_figure(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(
        claims=curve_claim(
            "peak", "kind: peak\nextremum: max\nwithin: [60, 130]\nconfig: {bump: true}"
        ),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    result = run(pytester, "-v")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*::peak [[]fundamental disagreement: max at width = 32, outside [[]60, 130[]]*",
            "*paper      max at width in [[]60, 130[]]*",
            "*width=32: mean*",
        ]
    )
    svg = (folder / "figures" / "peak.svg").read_text()
    assert "loss against width (peak)" in svg
    assert 'class="range"' in svg
    md = (folder / "results.md").read_text()
    assert "| width | Mean | 95% band (simultaneous) | Seeds |" in md
    assert "![loss against width](figures/peak.svg)" in md


def test_a_peak_inside_the_claimed_range_matches(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(
        claims=curve_claim(
            "peak", "kind: peak\nextremum: max\nwithin: [20, 40]\nconfig: {bump: true}"
        ),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*[[]matched: max at width = 32, within [[]20, 40[]][]]*"])


def test_a_slope_on_log_log_axes_is_compared_with_the_paper(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(
        claims=curve_claim(
            "exponent", "kind: trend\nslope: {paper: -0.5, tolerance: 0.05, scale: log-log}"
        )
        + curve_claim(
            "wrong", "kind: trend\nslope: {paper: -1.0, tolerance: 0.05, scale: log-log}"
        ),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    result = run(pytester, "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*::exponent [[]matched: slope -0.5*within 0.05 of -0.5[]]*", "*::wrong [[]*slope -0.5*"]
    )


@pytest.mark.parametrize(
    ("body", "sweep", "key", "message"),
    [
        (
            "kind: trend\ndirection: decreasing",
            "{width: []}",
            "sweep",
            "claims[c].sweep.width: is empty",
        ),
        (
            "kind: trend\ndirection: decreasing\nover: depth",
            "{width: [16, 32]}",
            "over",
            "claims[c].over: 'depth' is not swept (did you mean 'width'?)",
        ),
        (
            'kind: curve\nformula: "1 / sqrt(widht)"\ntolerance: 0.01',
            "{width: [16, 32]}",
            "formula",
            "claims[c].formula: unknown name 'widht'",
        ),
        (
            "kind: trend\ndirection: decreasing",
            "{depth: [1, 2]}",
            "sweep",
            "claims[c].sweep.depth: sweeps 'depth', which run.config does not define",
        ),
        (
            "kind: trend",
            "{width: [16, 32]}",
            "id",
            "claims[c].direction: a trend claim needs exactly one",
        ),
        (
            "kind: peak\nextremum: max\nwithin: [100, 200]",
            "{width: [16, 32, 64]}",
            "within",
            "claims[c].within: [100, 200] holds none of the swept values",
        ),
        (
            "direction: decreasing",
            "{width: [16, 32]}",
            "sweep",
            "claims[c].sweep: belongs to a claim about a curve",
        ),
    ],
)
def test_a_bad_sweep_is_an_error_at_its_line(
    pytester: pytest.Pytester, make_paper: MakePaper, body: str, sweep: str, key: str, message: str
) -> None:
    folder = make_paper(
        claims=curve_claim("c", body, sweep), train=CURVE_TRAIN, header=CURVE_HEADER
    )
    lines = (folder / "paper.yaml").read_text().splitlines()
    claims = lines.index("claims:")
    line = next(
        i
        for i, text in enumerate(lines, 1)
        if i > claims and text.lstrip(" -").startswith(f"{key}:")
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    literal = "".join({"[": "[[]", "]": "[]]"}.get(ch, ch) for ch in message)
    result.stdout.fnmatch_lines([f"*papers/p1/paper.yaml:{line}: {literal}*"])


def test_the_html_report_draws_the_curve_and_lists_its_points(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    make_paper(
        claims=curve_claim("falls", "kind: trend\ndirection: decreasing"),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    run(pytester, "--html=report.html", "--self-contained-html").assert_outcomes(passed=1)
    page = (pytester.path / "report.html").read_text()
    assert "loss against width (falls)" in page
    assert "repro-points" in page
    out = io.StringIO()
    assert main(["report", "papers", "--html", "page.html"], out=out) == 0
    text = (pytester.path / "page.html").read_text()
    assert "loss against width (falls)" in text
    assert "decreasing in width" in text


def test_a_smoke_run_proves_a_sweep_at_its_smallest_and_largest_value(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    folder = make_paper(
        claims=curve_claim("falls", "kind: trend\ndirection: decreasing"),
        train=CURVE_TRAIN,
        header=CURVE_HEADER,
    )
    result = run(pytester, "--repro-smoke")
    result.assert_outcomes(passed=1)
    logged = [json.loads(line) for line in (folder / "calls.log").read_text().splitlines()]
    assert sorted({entry["config"]["width"] for entry in logged}) == [16, 128]
    assert calls(folder) == 4  # two stages (one step, 20 steps) of two points, seed 0
