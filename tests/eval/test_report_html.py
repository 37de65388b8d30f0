"""report.html as a browser renders it: headless Chromium (Debian ``chromium``) loads the real file, then the
test reads the rendered DOM and checks a screenshot's pixels for the plots and the verdict colours."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from ragqa.eval.halueval import run_halueval
from ragqa.eval.report_html import MAX_ITEMS
from ragqa.generation.verify.similarity import SentenceMatcher
from ragqa.retrieval.embedders import Embedder
from tests.browser import CHROMIUM, FLAGS, needs_chromium

pytestmark = needs_chromium


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    profile = tmp_path / "chromium-profile"
    return subprocess.run(
        [CHROMIUM, "--headless", *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


@pytest.fixture
def report_html(embedder: Embedder, halueval_small: Path, tmp_path: Path) -> Path:
    run_halueval(halueval_small, SentenceMatcher(embedder), None, out=tmp_path / "run")
    return tmp_path / "run" / "report.html"


def test_plots_and_tables_render(report_html: Path, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", report_html.as_uri()).stdout
    assert dom.count('<svg class="hist"') == 4  # coverage and similarity, faithful and hallucinated
    assert dom.count("<rect") > 40  # the histograms have bars
    for title in (
        "Metrics",
        "Confusion matrix",
        "Ablation",
        "Claim verdicts by answer label",
        "Per question",
    ):
        assert f"{title}" in dom
    assert dom.count('class="claim v-supported"') >= 25 and 'class="claim v-contradicted"' in dom
    assert "best source sentence:" in dom and "<h2>Versions</h2>" in dom
    assert "http://" not in dom and "https://" not in dom and "<script" not in dom  # self-contained
    assert MAX_ITEMS >= 60 and dom.count("<tr><td>") >= 60  # every answer of the 30 records has a row


def test_screenshot_shows_the_plots(report_html: Path, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,2400", report_html.as_uri())
    image = Image.open(shot).convert("RGB")
    assert image.size == (1200, 2400)
    colours = image.getcolors(maxcolors=1 << 20) or []
    by_colour = {rgb: n for n, rgb in colours}
    assert by_colour.get((0x4F, 0x7C, 0xC8), 0) > 2000  # histogram bars
    assert by_colour.get((0xC8, 0xEC, 0xC9), 0) > 200  # supported claims
    assert by_colour.get((0xF7, 0xB9, 0xB9), 0) > 50  # contradicted claims
