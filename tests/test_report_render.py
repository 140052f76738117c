"""The seed article's HTML report renders in a real headless browser (Chromium): not
blank, no console errors, sections and inline figures present, evidence offsets exact.
Skipped where no Chromium is installed (``apt-get install chromium``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "csto-armenia-2022-11-28.txt"
sys.path.insert(0, str(ROOT / "benchmarks"))

from check_report_render import _QUOTE, check_report, evidence_problem, find_browser  # noqa: E402

from stancekit.corpus.report import _quoted  # noqa: E402


@pytest.mark.parametrize(
    "sentence", ["Zas praised the CSTO.", "“What the CSTO must do first,” he said.", "“All.”"]
)
def test_the_checker_reads_evidence_lines_as_the_report_prints_them(sentence: str) -> None:
    text = "Intro. " + sentence + " Outro."
    a, b = 7, 7 + len(sentence)
    line = f"against 0.73 — {_quoted(sentence)} (seed.txt, sentence 1, chars {a}–{b})"
    m = _QUOTE.search(line)
    assert m is not None and (m["doc"], m["a"], m["b"]) == ("seed.txt", str(a), str(b))
    assert evidence_problem(m["text"], text, a, b) is None
    assert evidence_problem(m["text"], text, a + 1, b) is not None  # offsets off by one


@pytest.mark.slow
@pytest.mark.skipif(find_browser() is None, reason="no Chromium on this machine")
def test_seed_report_renders_in_headless_chromium(tmp_path: Path, tiny_model_dir: Path) -> None:
    from stancekit.corpus import report_main

    out = tmp_path / "report"
    assert report_main([str(SEED)], str(out), model=str(tiny_model_dir)) == 0
    browser = find_browser()
    assert browser is not None  # the skipif above
    result = check_report(out, tmp_path / "render", browser=browser, articles=[SEED])
    assert result["ok"], result
