"""A self-contained HTML report of a corpus: figures, tables, evidence, merges.

:func:`write_html_report` writes ``index.html`` with every figure embedded (base64 PNG) and
inline CSS, so it opens from disk with no server and no network; the PNGs are also written
beside it for reuse. :func:`report_main` builds the corpus from results files (JSONL, JSON,
Parquet) or articles (``.txt``/``.md`` files or folders, analysed on the spot) and writes
the report: it is the body of ``stancekit report``.

Example:
    >>> from stancekit.corpus import Corpus, write_html_report      # doctest: +SKIP
    >>> write_html_report(Corpus.read_jsonl("results.jsonl"), "report")  # doctest: +SKIP
    PosixPath('report/index.html')
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from stancekit.atomic import atomic_write, atomic_write_bytes
from stancekit.corpus.corpus import Corpus
from stancekit.text.inputs import TEXT_SUFFIXES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from stancekit.analyzer import StanceAnalyzer

__all__ = ["front_matter", "report_main", "write_html_report"]

RESULT_SUFFIXES = (".jsonl", ".json", ".parquet")
_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1, h2 { font-weight: 600; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; font-size: .85em; margin: .5em 0 1.5em; }
th, td { border: 1px solid #ddd; padding: .25em .5em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #eee; margin: .5em 0; }
.favor { color: #1a7f37; } .against { color: #c62828; } .none { color: #777; }
blockquote { margin: .3em 0 .3em 1em; padding-left: .6em; border-left: 3px solid #ddd; }
.muted { color: #777; font-size: .85em; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


_OPENING_QUOTES = ('"', "“", "‘", "'", "«", "„")


def _quoted(sentence: Any) -> str:
    """The sentence in curly quotation marks, unless it already opens with one (a quote
    that is the whole sentence would otherwise print doubled marks: ``““What…``).

    >>> _quoted("He left."), _quoted("“Stay,” he said.")
    ('“He left.”', '“Stay,” he said.')
    """
    text = "" if sentence is None else str(sentence)
    return text if text.lstrip().startswith(_OPENING_QUOTES) else f"“{text}”"


def _num(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{float(value):.{digits}f}"


def _table(frame: pd.DataFrame, numeric: Sequence[str] = ()) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = []
    for rec in frame.to_dict("records"):
        cells = []
        for c in frame.columns:
            v = rec[c]
            if c in numeric:
                cells.append(f'<td class="num">{_e(v) if isinstance(v, int) else _num(v)}</td>')
            else:
                cells.append(
                    f"<td>{_e(v) if not (isinstance(v, float) and math.isnan(v)) else ''}</td>"
                )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _image(fig: Figure, out_dir: Path, name: str, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    data = buf.getvalue()
    atomic_write_bytes(out_dir / name, data)
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{encoded}">'


def _ci(row: Mapping[Any, Any], name: str) -> str:
    est = row["net"] if name == "net" else row[f"p_{name}"]
    return f"{_num(est)} [{_num(row[f'{name}_ci_low'])}, {_num(row[f'{name}_ci_high'])}]"


def _overview(corpus: Corpus) -> str:
    docs = corpus.documents()
    dated = docs["date"].dropna()
    span = f"{dated.min():%Y-%m-%d} to {dated.max():%Y-%m-%d}" if len(dated) else "no dates"
    bad = docs[docs["date_flag"] == "unparseable"]
    n_actors = len(corpus.actors())
    targets = sorted(map(str, corpus.to_dataframe()["target"].unique()))
    items = [
        f"{corpus.n_documents} documents, {corpus.n_judgements} judgements, {n_actors} actors",
        f"targets: {', '.join(targets) or 'none'}",
        f"dates: {span} ({len(dated)} of {len(docs)} documents dated)",
    ]
    if len(bad):
        pairs = zip(bad["document_id"][:10], bad["date_raw"][:10], strict=True)
        ids = ", ".join(f"{d} ({r})" for d, r in pairs)
        items.append(f"unparseable dates (left out of the timeline): {ids}")
    if "error" in docs.columns and docs["error"].notna().any():
        items.append(f"documents that failed analysis: {int(docs['error'].notna().sum())}")
    return "<ul>" + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>"


def _evidence(corpus: Corpus, table: pd.DataFrame, top: int, max_pairs: int) -> str:
    ev = corpus.evidence(top=top)
    parts = []
    for pair in table.head(max_pairs).to_dict("records"):
        rows = ev[(ev["holder"] == pair["holder"]) & (ev["target"] == pair["target"])]
        quotes = []
        for r in rows.to_dict("records"):
            where = (
                f"{r['document_id']}, sentence {r['sentence_index']}, "
                f"chars {r['sentence_start']}–{r['sentence_end']}"
            )
            quotes.append(
                f'<blockquote><span class="{_e(r["stance"])}">{_e(r["stance"])} '
                f"{_num(r['strength'])}</span> — {_e(_quoted(r['sentence']))} "
                f'<span class="muted">({_e(where)})</span></blockquote>'
            )
        parts.append(
            f"<h3>{_e(pair['holder'])} → {_e(pair['target'])} "
            f'<span class="muted">({_plural(pair["n_sentences"], "sentence")}, '
            f"{_e(pair['stance'])})</span>"
            f"</h3>{''.join(quotes)}"
        )
    return "".join(parts)


def write_html_report(
    corpus: Corpus,
    out_dir: str | os.PathLike[str],
    *,
    title: str = "stancekit corpus report",
    top_evidence: int = 3,
    max_pairs: int = 30,
    max_strips: int = 3,
    n_bootstrap: int = 500,
    seed: int = 0,
) -> Path:
    """Write ``out_dir/index.html`` (and the figures as PNGs beside it); returns its path.

    The page holds an overview, the actor x target heatmap and table (with 95% bootstrap
    intervals), the stance timeline (when documents are dated), the signed network, the
    ``top_evidence`` strongest sentences of the ``max_pairs`` largest actor x target pairs
    (with document id and character offsets), stance strips of the ``max_strips`` articles
    with most judgements, and the table of actor merges.
    """
    from stancekit.corpus import figures

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = corpus.actor_target(n_bootstrap=n_bootstrap, seed=seed)
    sections = [f"<h1>{_e(title)}</h1>", _overview(corpus)]
    heat = figures.plot_actor_target(corpus)
    sections += ["<h2>Actor × target</h2>", _image(heat, out, "actor_target.png", "heatmap")]
    shown = pd.DataFrame(
        {
            "actor": table["holder"],
            "target": table["target"],
            "sentences": table["n_sentences"],
            "documents": table["n_documents"],
            "stance": table["stance"],
            "favor evidence": table["favor_evidence"],
            "against evidence": table["against_evidence"],
            "p(favor) [95% CI]": [_ci(r, "favor") for r in table.to_dict("records")],
            "p(against) [95% CI]": [_ci(r, "against") for r in table.to_dict("records")],
            "share favor": table["share_favor"],
            "share against": table["share_against"],
            "sentiment": table["sentiment"],
        }
    )
    sections.append(
        _table(shown, numeric=("sentences", "documents", "share favor", "share against"))
    )
    sections.append(
        '<p class="muted">stance: the summary rule of <code>stancekit analyze --summary</code>'
        " (the stance with more evidence, the expected number of sentences expressing it, if"
        " it reaches 0.75 sentences; the text's own voice counts only sentences that are not"
        " attributed to a speaker or agent).</p>"
    )
    if corpus.documents()["date"].notna().any():
        timeline = figures.plot_timeline(corpus, n_bootstrap=min(n_bootstrap, 200), seed=seed)
        sections += ["<h2>Over time</h2>", _image(timeline, out, "timeline.png", "timeline")]
    network = corpus.network()
    sections.append("<h2>Actor network</h2>")
    if network.edges.empty:
        sections.append('<p class="muted">No actor is the target of another actor.</p>')
    else:
        sections.append(_image(figures.plot_network(network), out, "network.png", "network"))
    sections += ["<h2>Evidence</h2>", _evidence(corpus, table, top_evidence, max_pairs)]
    rows = corpus.to_dataframe()
    strong = rows[rows["stance"].isin(["favor", "against"])]
    busiest = (strong if len(strong) else rows).groupby("document_id").size()
    strip_ids = busiest.sort_values(ascending=False).head(max_strips).index.tolist()
    if strip_ids:
        sections.append("<h2>Articles</h2>")
        for k, doc_id in enumerate(strip_ids):
            fig = figures.plot_stance_strip(corpus, document_id=str(doc_id))
            sections.append(_image(fig, out, f"strip_{k + 1}.png", f"stance strip {doc_id}"))
    merges = corpus.merges()
    sections.append("<h2>Actor merges</h2>")
    if merges.empty:
        sections.append('<p class="muted">No names were merged across documents.</p>')
    else:
        sections.append(
            '<p class="muted">Every name merged into another actor; correct mistakes with an '
            "alias table (canonical name → aliases, keep_apart).</p>"
        )
        sections.append(_table(merges, numeric=("count",)))
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )
    index = atomic_write(out / "index.html", page)
    index.chmod(0o644)
    return index


def _expand(paths: Sequence[str]) -> tuple[list[Path], list[Path]]:
    results: list[Path] = []
    texts: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file())
            texts.extend(f for f in found if f.suffix.lower() in TEXT_SUFFIXES)
            results.extend(f for f in found if f.suffix.lower() in RESULT_SUFFIXES)
        elif not p.is_file():
            raise FileNotFoundError(f"{raw}: no such file or folder")
        elif p.suffix.lower() in RESULT_SUFFIXES:
            results.append(p)
        elif p.suffix.lower() in TEXT_SUFFIXES:
            texts.append(p)
        else:
            raise ValueError(
                f"{raw}: unknown kind of file {p.suffix!r}; give results "
                f"({', '.join(RESULT_SUFFIXES)}) or articles ({', '.join(TEXT_SUFFIXES)})"
            )
    return results, texts


def _skip(failures: list[str], message: str) -> None:
    failures.append(message)
    print(f"stancekit: skipped {message}", file=sys.stderr)


_FRONT = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*(?:\n|\Z)", re.S)


def front_matter(text: str) -> tuple[str, dict[str, str]]:
    r"""``(text, meta)``: a leading ``---`` block of ``key: value`` lines (date, outlet, url,
    ...) read as metadata and blanked out (spaces, newlines kept), so offsets still index
    the file's text and the block is not analysed.

    >>> front_matter("---\ndate: 2022-11-28\noutlet: RFE/RL\n---\nBody.")[1]
    {'date': '2022-11-28', 'outlet': 'RFE/RL'}
    """
    m = _FRONT.match(text)
    if not m:
        return text, {}
    meta: dict[str, str] = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            meta[key.strip()] = value.strip().strip("\"'")
    blank = re.sub(r"[^\n]", " ", m.group())
    return blank + text[m.end() :], meta


def _article_lines(p: Path) -> list[dict[str, Any]] | None:
    """The records of ``p`` when it is a JSONL of *articles* (a ``text`` field and no
    judgement fields), else None (a results file)."""
    if p.suffix.lower() != ".jsonl":
        return None
    with p.open(encoding="utf-8") as f:
        first = next((line for line in f if line.strip()), "")
    try:
        rec = json.loads(first)
    except (ValueError, RecursionError):  # not JSON: left to the results reader to report
        return None
    if not isinstance(rec, dict) or "text" not in rec or {"stance", "judgements"} & set(rec):
        return None
    rows = []
    with p.open(encoding="utf-8") as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except (ValueError, RecursionError) as exc:  # a 5,000-digit int, deep nesting
                raise ValueError(
                    f"{p}, line {n}: not JSON ({type(exc).__name__}); an articles JSONL needs "
                    "one object with a 'text' field per line"
                ) from None
    return [r for r in rows if isinstance(r, dict)]


def _analyse(
    texts: list[Path],
    analyzer: StanceAnalyzer | None,
    model: str | None,
    failures: list[str],
    records: Sequence[tuple[Path, list[dict[str, Any]]]] = (),
) -> Corpus:
    items = []
    for src, rows in records:  # articles JSONL: id, text and any metadata fields
        for k, r in enumerate(rows, 1):
            if not isinstance(r.get("text"), str):
                _skip(failures, f"{src}:{k}: no string 'text' field; give each article a text")
                continue
            meta = {key: v for key, v in r.items() if key not in ("id", "text", "meta")}
            if isinstance(r.get("meta"), dict):
                meta.update(r["meta"])
            items.append({"id": str(r.get("id") or f"{src}:{k}"), "text": r["text"], "meta": meta})
    for p in texts:
        try:
            body, meta = front_matter(p.read_text(encoding="utf-8-sig"))
            items.append({"id": str(p), "text": body, "meta": {"path": str(p), **meta}})
        except UnicodeDecodeError:
            _skip(failures, f"{p}: not UTF-8 text; convert it first, e.g. iconv -t utf-8")
        except OSError as exc:
            _skip(failures, f"{p}: cannot read ({exc.strerror})")
    if analyzer is None:
        from stancekit.analyzer import StanceAnalyzer

        analyzer = StanceAnalyzer(model=model)
    done = []
    for res in analyzer.analyze_many(items, progress=len(items) > 1):
        if not res.ok:
            _skip(failures, f"{res.document.id}: {res.error}")
        done.append(res)
    return Corpus.from_results(done)


def report_main(
    paths: list[str],
    out: str,
    *,
    aliases: str | None = None,
    metadata: str | None = None,
    model: str | None = None,
    analyzer: StanceAnalyzer | None = None,
) -> int:
    """Build a corpus from ``paths`` and write the HTML report to ``out``.

    ``paths`` are results files (``stancekit analyze --format jsonl`` output, JSON, a
    corpus Parquet file) or articles (``.txt``/``.md`` files, folders), which are analysed
    by ``analyzer``, or else a :class:`~stancekit.StanceAnalyzer` of ``model`` (default: the
    shipped model and targets). ``aliases`` is an alias table (TOML/CSV), ``metadata`` a CSV
    of document metadata keyed by id. Returns 0 when all went well, 1 when some articles were
    skipped (each reported on stderr), 2 for an input error.
    """
    from stancekit.errors import StancekitError

    failures: list[str] = []
    try:
        results, texts = _expand(paths)
        if not results and not texts:
            raise ValueError(f"no results or article files found in {list(paths)}")
        parts = [Corpus.read_parquet(p) for p in results if p.suffix.lower() == ".parquet"]
        records = [(p, rows) for p in results if (rows := _article_lines(p)) is not None]
        articles = {p for p, _ in records}
        jsonl = [p for p in results if p.suffix.lower() != ".parquet" and p not in articles]
        if jsonl:
            parts.append(Corpus.read_jsonl(jsonl))
        if texts or records:
            parts.append(_analyse(texts, analyzer, model, failures, records))
        corpus = (
            parts[0]
            if len(parts) == 1
            else Corpus.from_dataframe(
                pd.concat([c.to_dataframe() for c in parts], ignore_index=True)
            )
        )
        if metadata:
            corpus = corpus.with_metadata(metadata)
        if aliases:
            corpus = corpus.with_aliases(aliases)
        index = write_html_report(corpus, out)
    except (StancekitError, FileNotFoundError, ValueError, TypeError) as exc:
        print(f"stancekit: error: {exc}", file=sys.stderr)
        return 2
    print(f"report: {index}", file=sys.stderr)
    return 1 if failures else 0
