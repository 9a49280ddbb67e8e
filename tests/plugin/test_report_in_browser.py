"""The HTML report as a person sees it: rendered by headless Chromium (skipped without it)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .conftest import MakePaper, claim

BROWSER = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
HOSTILE = "<script>document.title='pwned'</script>"


@pytest.mark.skipif(BROWSER is None, reason="no headless Chromium (apt-get install chromium)")
def test_the_rendered_report_has_a_row_per_claim_figures_and_no_script_errors(
    pytester: pytest.Pytester, make_paper: MakePaper
) -> None:
    gap = claim("gap", extra="config: {base: 0.88}").replace(
        "text: accuracy reaches the paper's value", f'text: "{HOSTILE}"'
    )
    make_paper(claims=claim() + gap)
    pytester.runpytest("--html=report.html", "--self-contained-html", "-p", "no:cacheprovider")
    assert BROWSER is not None
    shown = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            (pytester.path / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    dom = shown.stdout
    rows = re.findall(r'<tbody class="results-table-row (\w+)"', dom)
    assert sorted(rows) == ["failed", "passed"]  # one row per claim
    assert dom.count("<svg") >= 2  # the failing claim's panel shows its seeds and its curve
    assert "test_acc at epoch 5" in dom or "acc at epoch 5" in dom  # an axis label
    assert "pwned" not in dom.split("<body", 1)[0]  # the hostile text did not run
    errors = [line for line in shown.stderr.splitlines() if "Uncaught" in line]
    assert errors == []
