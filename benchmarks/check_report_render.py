"""Render the HTML report (``stancekit report ... --out report/``) in a real headless browser
and check what a reader would see.

    stancekit report seeds/csto-armenia-2022-11-28.txt --out report/
    python benchmarks/check_report_render.py --article seeds/csto-armenia-2022-11-28.txt
    PYTHONPATH=. python benchmarks/check_report_render.py --build   # build report/ first

The browser is Chromium (``--browser``, ``$CHROME``, or the first of chromium,
chromium-browser, google-chrome, google-chrome-stable on PATH), run headless with a fresh
temporary profile. Checks:

1. **screenshot** (``--screenshot=...``, window 1280 x 2000): a PNG of the window's size that
   is not blank (enough pixels differ from the background, enough distinct colours);
2. **console**: the page logs nothing to the browser console (the report has no scripts, so
   any message, e.g. an uncaught error or a blocked resource, fails); a probe page that
   logs on purpose is rendered first, so a browser whose console cannot be captured fails
   rather than passing silently;
3. **DOM** (``--dump-dom``): the title heading, the sections (actor x target, evidence,
   actor merges), at least one evidence quote; every ``<img>`` is an inline PNG that
   decodes and is not blank, one per PNG written beside ``index.html``; with ``--article``,
   every evidence quote from that article is the article's text at the character offsets
   the quote cites.

Writes ``OUT/screenshot.png``, ``OUT/dom.html``, ``OUT/browser.log`` and ``OUT/check.json``
(``OUT`` defaults to ``REPORT/render-check``). Exit status 0 when every check passes, 1 when
one fails, 2 when no browser or no report is found.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "csto-armenia-2022-11-28.txt"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WINDOW = (1280, 2000)
TITLE = "stancekit corpus report"
SECTIONS = ("Actor × target", "Evidence", "Actor merges")
PROBE = "stancekit-console-probe"
_CONSOLE = re.compile(r":CONSOLE[:(]?\d*\)?\] (.*)$")
#: An evidence line: "<stance> <p> — <sentence as printed> (<doc>, sentence i, chars a–b)".
#: The report wraps a sentence in “…” unless it opens with a quotation mark of its own.
_QUOTE = re.compile(
    r" — (?P<text>.+) \((?P<doc>.+), sentence (?P<i>\d+), chars (?P<a>\d+)–(?P<b>\d+)\)$"
)
_OPENING_QUOTES = ('"', "“", "‘", "'", "«", "„")


def evidence_problem(printed: str, text: str, start: int, end: int) -> str | None:
    """None when ``printed`` (a quote as the report shows it) is ``text[start:end]`` as the
    report prints a sentence (in “…” unless it opens with its own quotation mark, white
    space collapsed); else what differs."""
    cited = " ".join(text[start:end].split())
    if not cited.startswith(_OPENING_QUOTES):
        cited = f"“{cited}”"
    if cited == printed:
        return None
    return f"chars {start}–{end} are {cited[:60]!r}, the quote is {printed[:60]!r}"


class _Page(HTMLParser):
    """Headings, images and evidence quotes of the report's DOM."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.headings: dict[str, list[str]] = {"h1": [], "h2": []}
        self.images: list[str] = []
        self.quotes: list[str] = []
        self._open: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.images.append(dict(attrs).get("src") or "")
        elif tag in ("h1", "h2", "blockquote") and self._open is None:
            self._open, self._text = tag, []

    def handle_endtag(self, tag: str) -> None:
        if tag == self._open:
            text = " ".join("".join(self._text).split())
            (self.quotes if tag == "blockquote" else self.headings[tag]).append(text)
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)


def find_browser(name: str | None = None) -> str | None:
    """The browser to use: ``name``, ``$CHROME``, or the first Chromium on PATH."""
    for candidate in (name, os.environ.get("CHROME"), *BROWSERS):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def run_browser(browser: str, url: str, *flags: str, timeout: float = 120.0) -> tuple[str, str]:
    """Run the browser headless on ``url`` with a fresh profile; ``(stdout, stderr)``."""
    with tempfile.TemporaryDirectory(prefix="stancekit-chromium-") as profile:
        cmd = [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *flags,
            url,
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{browser} exited with {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout, done.stderr


def console_messages(log: str) -> list[str]:
    """The page's console messages in a Chromium ``--enable-logging=stderr`` log."""
    return [m.group(1) for line in log.splitlines() if (m := _CONSOLE.search(line))]


def ink(image: Image.Image) -> tuple[float, int]:
    """``(share of pixels that differ from the most common colour, distinct colours)``."""
    rgb = image.convert("RGB")
    colours = rgb.getcolors(maxcolors=1 << 24) or []
    total = rgb.width * rgb.height
    background = max((n for n, _ in colours), default=total)
    return 1.0 - background / total, len(colours)


def check_report(
    report: Path,
    out: Path,
    *,
    browser: str,
    articles: Sequence[Path] = (),
    min_ink: float = 0.02,
) -> dict[str, Any]:
    """Render ``report/index.html`` and run the checks; returns the findings (``ok`` and a
    ``problems`` list among them)."""
    out.mkdir(parents=True, exist_ok=True)
    index = (report / "index.html").resolve()
    problems: list[str] = []
    found: dict[str, Any] = {"report": str(index), "browser": browser}
    logs: list[str] = []

    # 0. the console can be captured at all
    probe = out / "probe.html"
    probe.write_text(f'<!DOCTYPE html><script>console.error("{PROBE}")</script>\n')
    _, log = run_browser(browser, probe.resolve().as_uri(), "--dump-dom")
    logs.append(f"==== probe\n{log}")
    if not any(PROBE in m for m in console_messages(log)):
        problems.append("console: the probe page's console.error was not captured")

    # 1. screenshot
    shot = out / "screenshot.png"
    shot.unlink(missing_ok=True)
    t0 = time.perf_counter()
    _, log = run_browser(
        browser, index.as_uri(), f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}"
    )
    found["screenshot_s"] = round(time.perf_counter() - t0, 2)
    logs.append(f"==== screenshot\n{log}")
    console = console_messages(log)
    if not shot.is_file():
        problems.append("screenshot: no PNG written")
    else:
        with Image.open(shot) as img:
            found["screenshot"] = {"path": str(shot), "size": list(img.size)}
            share, n_colours = ink(img)
        found["screenshot"].update(ink=round(share, 4), colours=n_colours)
        if tuple(found["screenshot"]["size"]) != WINDOW:
            problems.append(f"screenshot: size {found['screenshot']['size']}, not {WINDOW}")
        if share < min_ink or n_colours < 16:
            problems.append(
                f"screenshot: looks blank ({share:.1%} of pixels off the background, "
                f"{n_colours} colours)"
            )

    # 2. DOM
    dom, log = run_browser(browser, index.as_uri(), "--dump-dom")
    logs.append(f"==== dump-dom\n{log}")
    console += console_messages(log)
    (out / "dom.html").write_text(dom, encoding="utf-8")
    page = _Page()
    page.feed(dom)
    found["headings"] = page.headings
    if TITLE not in page.headings["h1"]:
        problems.append(f"dom: no <h1> {TITLE!r} (got {page.headings['h1']})")
    for section in SECTIONS:
        if section not in page.headings["h2"]:
            problems.append(f"dom: no <h2> section {section!r} (got {page.headings['h2']})")
    quotes = [m for q in page.quotes if (m := _QUOTE.search(q))]
    found["evidence_quotes"] = len(page.quotes)
    if not quotes or len(quotes) != len(page.quotes):
        problems.append(f"dom: {len(quotes)} of {len(page.quotes)} evidence quotes readable")
    pngs = sorted(p.name for p in report.glob("*.png"))
    found["images"] = {"img_tags": len(page.images), "png_files": pngs}
    if len(page.images) != len(pngs) or not pngs:
        problems.append(f"dom: {len(page.images)} <img> tags for {len(pngs)} PNG files {pngs}")
    for k, src in enumerate(page.images):
        head = "data:image/png;base64,"
        if not src.startswith(head):
            problems.append(f"dom: image {k} is not an inline PNG ({src[:40]!r})")
            continue
        try:
            with Image.open(io.BytesIO(base64.b64decode(src[len(head) :]))) as img:
                share, n_colours = ink(img)
        except (OSError, ValueError) as exc:
            problems.append(f"dom: image {k} does not decode ({exc})")
            continue
        if share < 0.01 or n_colours < 4:
            problems.append(f"dom: image {k} looks blank ({share:.1%} ink, {n_colours} colours)")

    # evidence offsets against the article text
    checked = 0
    texts = {a.name: a.read_text(encoding="utf-8-sig") for a in articles}
    for m in quotes:
        text = texts.get(Path(m["doc"]).name)
        if text is None:
            continue
        checked += 1
        problem = evidence_problem(m["text"], text, int(m["a"]), int(m["b"]))
        if problem:
            problems.append(f"evidence: {m['doc']} {problem}")
    found["evidence_checked_against_article"] = checked
    if articles and not checked:
        problems.append(f"evidence: no quote comes from {[a.name for a in articles]}")

    found["console"] = [m for m in console if PROBE not in m]
    problems += [f"console: {m}" for m in found["console"]]
    (out / "browser.log").write_text("\n".join(logs), encoding="utf-8")
    probe.unlink(missing_ok=True)
    found["problems"] = problems
    found["ok"] = not problems
    (out / "check.json").write_text(json.dumps(found, indent=2, ensure_ascii=False) + "\n")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--report", default="report", help="the report folder (index.html)")
    parser.add_argument("--out", help="where the screenshot etc. go (REPORT/render-check)")
    parser.add_argument("--browser", help="Chromium binary (default: $CHROME, then PATH)")
    parser.add_argument(
        "--article",
        action="append",
        default=[],
        help="an article of the report: its evidence offsets are checked (repeatable)",
    )
    parser.add_argument(
        "--build",
        action="store_true",
        help="first build REPORT from the seed article (stancekit report SEED --out REPORT)",
    )
    args = parser.parse_args(argv)
    report = Path(args.report)
    articles = [Path(a) for a in args.article]
    if args.build:
        from stancekit.corpus import report_main

        t0 = time.perf_counter()
        if report_main([os.path.relpath(SEED)], str(report)) != 0:
            return 2
        print(f"built {report}/index.html in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        articles = articles or [SEED]
    if not (report / "index.html").is_file():
        print(
            f"no {report}/index.html: run `stancekit report "
            f"seeds/csto-armenia-2022-11-28.txt --out {report}/` (or --build)",
            file=sys.stderr,
        )
        return 2
    browser = find_browser(args.browser)
    if browser is None:
        print(
            f"no browser: install Chromium (apt-get install chromium) or set $CHROME; "
            f"looked for {', '.join(BROWSERS)}",
            file=sys.stderr,
        )
        return 2
    t0 = time.perf_counter()
    out = Path(args.out) if args.out else report / "render-check"
    found = check_report(report, out, browser=browser, articles=articles)
    seconds = time.perf_counter() - t0
    shot = found.get("screenshot", {})
    print(
        f"{found['report']}: screenshot {shot.get('size')} ink {shot.get('ink')} "
        f"colours {shot.get('colours')}; {found['images']['img_tags']} images; "
        f"{found['evidence_quotes']} evidence quotes "
        f"({found['evidence_checked_against_article']} checked against the article); "
        f"{len(found['console'])} console messages; {seconds:.1f} s"
    )
    for problem in found["problems"]:
        print(f"FAIL {problem}")
    print("OK" if found["ok"] else f"{len(found['problems'])} problems")
    return 0 if found["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
