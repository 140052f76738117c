"""Fuzz the spans readers and the command line with hypothesis, for a fixed time.

    PYTHONPATH=. python benchmarks/fuzz.py --minutes 10
    PYTHONPATH=. python benchmarks/fuzz.py --minutes 2 --targets spans_jsonl,cli_analyze

The property, for every generated input: nothing raises except the documented errors.

- ``spans_jsonl`` / ``spans_csv``: bytes made of spans-like JSON documents and CSV rows
  (wrong types, offsets out of range, byte offsets, wrong-case labels, duplicate ids),
  garbage, torn lines and bytes that are not UTF-8, read by ``read_spans`` /
  ``read_spans_csv``: strict reading gives a ``SpanSet`` or ``SpansFormatError``, lenient
  reading gives a ``SpanSet``.
- ``cli_analyze``: a folder of text files (any code point, markup, bytes that are not
  UTF-8) and a ``.jsonl`` file of articles, through ``stancekit analyze`` in-process:
  exit status 0 or 1 (1 only with a ``skipped`` message), every JSON Lines output valid;
  ``--output FILE.jsonl`` then ``--resume`` gives the same file.
- ``cli_evaluate``: a generated spans file through ``stancekit evaluate``: exit status
  0, 1 or 2, and 2 only with a ``stancekit: error:`` message.
- ``cli_report``: a JSONL of articles or of judgement records through ``stancekit
  report``: exit status 0, 1 or 2 (2 only with a message).

The CLI targets use a tiny randomly initialised model (built once into a temporary
folder, as ``tests/conftest.py`` does), so an execution takes tens of milliseconds.
Rounds of hypothesis examples run per target until the time is up; a failure is shrunk
to a minimal input and printed. ``tests/test_fuzz.py`` runs the same targets with a
bounded number of examples in CI. Prints executions per target and the distinct crashes.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stancekit.errors import SpansFormatError

ROOT = Path(__file__).resolve().parent.parent
#: Executions per target (one per generated input, shrinking included).
RUNS: Counter[str] = Counter()

# -- strategies --------------------------------------------------------------------------------

FRAGMENTS = [
    *("\r\n", "\n", "\n\n", "\r", "\t", "\x0b", "\x0c", "\x85", "\u2028", " ", ". ", "? "),
    *("\u200f", "\u202e", "\u200d", "\ufeff", "\ud800", "\udfff", "\x00", "👩\u200d👧", "🇦🇲"),
    *("<p>", "</p>", "<script>x</script>", "&amp;", "<!-- c -->", "---\ndate: x\n---\n"),
    *("“", "”", '"', "U.S.", "Mr.", " said ", " — ", "CSTO", "the CSTO", "Azerbaijan"),
    *("Baku", "Stanislav Zas", "Armenia", "Pashinian", "he", "they", "the alliance"),
    *("Привет", "東京", "İ", "\u0301", "blamed", "praised", "NATO", "Russia"),
]
TEXT = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(st.characters(exclude_categories=()))),
    max_size=12,
).map("".join)
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON = st.recursive(
    SCALAR, lambda c: st.lists(c, max_size=3) | st.dictionaries(TEXT, c, max_size=3), max_leaves=6
)
OFFSET = st.one_of(st.integers(-3, 60), st.just(2**64), st.sampled_from(["3", 1.5, None, True]))
LABEL = st.sampled_from(
    ["favor", "against", "none", "positive", "neutral", "negative", "Favor", "NEGATIVE", "", "x"]
)
NAME = st.one_of(st.sampled_from(["Zas", "CSTO", "Baku", "", " ", None]), TEXT)
MENTION = st.one_of(st.lists(OFFSET, min_size=2, max_size=2), st.lists(OFFSET, max_size=3), JSON)
#: A span: mostly the right keys with near-valid values, sometimes anything.
SPAN = st.one_of(
    st.fixed_dictionaries(
        {"start": OFFSET, "end": OFFSET, "target": NAME},
        optional={
            "holder": NAME,
            "stance": LABEL,
            "sentiment": LABEL,
            "holder_mention": MENTION,
            "target_mention": MENTION,
            "extra": JSON,
        },
    ),
    st.dictionaries(st.sampled_from(["start", "end", "target", "stance", "unit"]), JSON),
    JSON,
)
DOC_ID = st.one_of(st.sampled_from(["d1", "d2", "d3"]), st.sampled_from(["d1", "d4"]), JSON)
#: A document: mostly an id, a text and spans, sometimes anything in their place.
DOCUMENT = st.fixed_dictionaries(
    {"id": DOC_ID, "text": st.one_of(TEXT, TEXT, JSON)},
    optional={"spans": st.one_of(st.lists(SPAN, max_size=4), JSON), "meta": JSON},
)


def _line(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")


#: One line of a JSONL file: a document, any JSON, garbage, or a torn/non-UTF-8 line.
LINE = st.one_of(
    DOCUMENT.map(_line),
    DOCUMENT.map(_line).flatmap(lambda b: st.integers(0, len(b)).map(lambda k: b[:k])),
    JSON.map(_line),
    st.binary(max_size=40),
    st.sampled_from([b"[" * 5000, b"1" * 5000, b"\xef\xbb\xbf{}", b"\xff\xfe", b"\r"]),
)
JSONL = st.lists(LINE, max_size=5).map(b"\n".join)
CSV_CELL = st.one_of(TEXT, OFFSET.map(str), LABEL, st.just(""))
CSV_COLUMNS = ["doc_id", "text", "start", "end", "holder", "target", "stance", "sentiment"]
CSV_COLUMNS += ["holder_start", "holder_end", "target_start", "target_end", "unit", "x"]


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    header = draw(st.lists(st.sampled_from(CSV_COLUMNS), min_size=1, max_size=10))
    rows = draw(st.lists(st.lists(CSV_CELL, max_size=len(header) + 1), max_size=5))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    data = buf.getvalue().encode("utf-8", "surrogatepass")
    return data + draw(st.sampled_from([b"", b"\xff", b'"unclosed', b"\x00"]))


ARTICLE = st.one_of(
    TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=60),
)
ARTICLE_LINE = st.one_of(
    st.fixed_dictionaries(
        {"text": st.one_of(TEXT, JSON)}, optional={"id": JSON, "meta": JSON, "date": JSON}
    ).map(_line),
    LINE,
)
RESULT_LINE = st.one_of(
    st.dictionaries(
        st.sampled_from(["document_id", "sentence_index", "sentence", "holder", "target"])
        | st.sampled_from(["stance", "p_favor", "p_against", "p_none", "date", "outlet"]),
        JSON,
    ).map(_line),
    LINE,
)

# -- targets -----------------------------------------------------------------------------------


def _write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


@contextlib.contextmanager
def _captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        yield out, err


def _cli(argv: list[str]) -> tuple[int, str, str]:
    """``stancekit`` in-process: (exit status, stdout, stderr); a raise is a crash."""
    from stancekit.cli import main

    with _captured() as (out, err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def spans_jsonl(data: bytes, lenient: bool) -> None:
    from stancekit.spans import read_spans

    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), "gold.jsonl", data)
        try:
            gold = read_spans(path, lenient=lenient)
        except SpansFormatError:
            assert not lenient, "lenient reading raised SpansFormatError"
            return
        for doc in gold:
            for span in doc.spans:
                assert 0 <= span.start <= span.end <= len(doc.text)


def spans_csv(data: bytes, lenient: bool) -> None:
    from stancekit.spans import read_spans_csv

    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), "gold.csv", data)
        try:
            gold = read_spans_csv(path, lenient=lenient)
        except SpansFormatError:
            return  # a missing column or a file that is not UTF-8 stops lenient reading too
        for doc in gold:
            for span in doc.spans:
                assert 0 <= span.start <= span.end <= len(doc.text)


def cli_analyze(model: Path, texts: list[bytes], articles: list[bytes], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        for k, data in enumerate(texts):
            _write(folder, f"t{k}.txt", data)
        paths = [str(folder)]
        if articles:
            paths.append(str(_write(Path(tmp), "articles.jsonl", b"\n".join(articles))))
        argv = ["analyze", *paths, "--model", str(model), "--quiet", "--format", fmt]
        code, out, err = _cli(argv)
        assert code in (0, 1), f"exit status {code}: {err[-500:]}"
        assert (code == 1) == ("skipped" in err), err[-500:]
        if fmt == "jsonl":
            for line in out.splitlines():
                json.loads(line)
            target = Path(tmp) / "out.jsonl"
            code2, _, err2 = _cli([*argv, "--output", str(target)])
            assert code2 == code, err2[-500:]
            first = target.read_bytes()
            code3, _, err3 = _cli([*argv, "--output", str(target), "--resume"])
            assert code3 == code and target.read_bytes() == first, err3[-500:]
        elif fmt == "json":
            json.loads(out)


def cli_evaluate(model: Path, data: bytes, mode: str, lenient: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        gold = _write(Path(tmp), "gold.jsonl", data)
        argv = ["evaluate", str(gold), "--model", str(model), "--mode", mode, "--quiet"]
        argv += ["--bootstrap", "20", "--json", str(Path(tmp) / "m.json")]
        code, out, err = _cli(argv + ["--lenient"] * lenient)
        assert code in (0, 1, 2), code
        assert code != 2 or "stancekit: error:" in err, err[-500:]
        if code != 2:
            json.loads(out)
            json.loads((Path(tmp) / "m.json").read_text(encoding="utf-8"))


def cli_report(model: Path, lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = _write(Path(tmp), "in.jsonl", b"\n".join(lines))
        out_dir = Path(tmp) / "report"
        code, _, err = _cli(["report", str(src), "--out", str(out_dir), "--model", str(model)])
        assert code in (0, 1, 2), code
        assert code != 2 or "stancekit: error:" in err, err[-500:]
        assert code == 2 or (out_dir / "index.html").is_file()


def strategies(model: Path) -> dict[str, tuple[Callable[..., None], st.SearchStrategy[Any]]]:
    """Each target with the strategy of its arguments (a tuple)."""
    return {
        "spans_jsonl": (spans_jsonl, st.tuples(JSONL, st.booleans())),
        "spans_csv": (spans_csv, st.tuples(csv_files(), st.booleans())),
        "cli_analyze": (
            cli_analyze,
            st.tuples(
                st.just(model),
                st.lists(ARTICLE, max_size=3),
                st.lists(ARTICLE_LINE, max_size=3),
                st.sampled_from(["jsonl", "json", "csv", "table"]),
            ),
        ),
        "cli_evaluate": (
            cli_evaluate,
            st.tuples(st.just(model), JSONL, st.sampled_from(["pairs", "extract"]), st.booleans()),
        ),
        "cli_report": (
            cli_report,
            st.tuples(st.just(model), st.lists(ARTICLE_LINE | RESULT_LINE, max_size=4)),
        ),
    }


def run(
    name: str,
    target: Callable[..., None],
    strategy: st.SearchStrategy[Any],
    max_examples: int,
) -> None:
    """Run ``max_examples`` hypothesis examples of ``target``; raises the shrunk failure."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def check(args: tuple[Any, ...]) -> None:
        RUNS[name] += 1
        target(*args)

    check()


def tiny_model(folder: Path) -> Path:
    """The tiny test model of ``tests/conftest.py``, saved into ``folder``."""
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import build_tiny_model  # type: ignore[import-not-found]

    out = folder / "tiny"
    build_tiny_model().save(out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--minutes", type=float, default=10.0, help="time for all targets")
    parser.add_argument("--targets", default="", help="comma-separated (default: all)")
    parser.add_argument("--round", type=int, default=50, help="examples per hypothesis round")
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    warnings.simplefilter("ignore")  # lenient readers warn about every file they skip from
    with tempfile.TemporaryDirectory() as tmp:
        targets = strategies(tiny_model(Path(tmp)))
        chosen = [t for t in args.targets.split(",") if t] or list(targets)
        unknown = set(chosen) - set(targets)
        if unknown:
            parser.error(f"unknown targets {sorted(unknown)}; choose from {list(targets)}")
        share = args.minutes * 60 / len(chosen)
        crashes: dict[tuple[str, str], str] = {}
        start = time.monotonic()
        for name in chosen:
            func, strategy = targets[name]
            end = time.monotonic() + share
            while time.monotonic() < end:
                try:
                    run(name, func, strategy, args.round)
                except Exception as exc:  # a crash: hypothesis shrank it; note and go on
                    first = (str(exc).splitlines() or [""])[0][:160]
                    head = f"{type(exc).__name__}: {first}"
                    notes = "\n".join(getattr(exc, "__notes__", []))
                    if (name, head) not in crashes:
                        crashes[name, head] = (
                            notes + "\n" + "".join(traceback.format_exception(exc)[-6:])
                        )
                        print(f"CRASH {name}: {head}\n{notes}", flush=True)
            print(f"{name}: {RUNS[name]} executions", flush=True)
    took = time.monotonic() - start
    print(
        f"\n{sum(RUNS.values())} executions in {took / 60:.1f} min "
        f"({', '.join(f'{k} {v}' for k, v in RUNS.items())}); "
        f"{len(crashes)} distinct crashes"
    )
    for (name, head), detail in crashes.items():
        print(f"\n== {name}: {head}\n{detail}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
