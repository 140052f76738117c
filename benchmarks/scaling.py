"""How stancekit's time and memory grow with the number of articles, the number of
targets and the length of an article.

Each point runs in a fresh subprocess (so its peak resident memory is its own) that loads
the model, analyses a corpus with ``StanceAnalyzer.analyze_many`` (streaming, results
counted and dropped) and reports wall seconds, peak RSS (``ru_maxrss``), the RSS after
every ``--rss-every`` articles and the size of spaCy's string store at the end. Model and
spaCy loading are timed apart and excluded from the analysis time.

    PYTHONPATH=. python benchmarks/scaling.py [--data ../shared/data] [--out scaling.png]
        [--articles 1 10 100 1000 10000] [--targets 1 5 10 20] [--chars 1000 10000 100000]
        [--model DIR] [--backend torch|onnx] [--quantize] [--json rows.json] [--quick]

The corpus is throughput.py's: pseudo-articles of 10 consecutive sentences of
``dsa_valid`` / ``newsmtsc_train`` (300 of them), cycled when more are asked for. A cycled
copy is not the same text again: from the second round on, each copy opens with a made-up
dateline word and its numbers are shifted, so that, as in a real corpus, every article
brings strings spaCy has not seen. Targets are the default two plus the most frequent target
names of those sentences. Long articles are the pseudo-articles joined until the length is
reached.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
_SYLLABLES = ("ka", "ro", "vi", "tan", "mer", "zu", "lo", "shi", "dar", "pen", "gol", "nik")


def made_up_word(i: int) -> str:
    """A capitalised word that differs for every ``i`` ("Karovi", ...)."""
    out = ""
    i += len(_SYLLABLES)
    while i:
        i, r = divmod(i, len(_SYLLABLES))
        out += _SYLLABLES[r]
    return out.capitalize()


def vary(text: str, i: int, cycle: int) -> str:
    """Article ``i`` of round ``cycle`` (0: the text as is)."""
    if cycle == 0:
        return text
    shifted = re.sub(r"\d+", lambda m: str(int(m.group()) + cycle), text)
    return f"{made_up_word(i)} ({cycle}) - {shifted}"


def corpus(
    data: str, n_docs: int, n_targets: int, chars: int | None
) -> tuple[Iterator[str], list[Any], int]:
    """The articles (a generator), the targets and the mean article length."""
    sys.path.insert(0, str(Path(__file__).parent))
    from throughput import build_corpus  # type: ignore[import-not-found]

    ns = argparse.Namespace(
        data=data, corpus=None, n_docs=300, sentences_per_doc=10, top_targets=max(n_targets - 2, 0)
    )
    docs, targets = build_corpus(ns)
    targets = targets[:n_targets]
    if chars is not None:
        text, i = "", 0
        while len(text) < chars:
            text += docs[i % len(docs)] + "\n\n"
            i += 1
        long = text[:chars]
        return (vary(long, k, k) for k in range(n_docs)), targets, len(long)
    mean = sum(len(docs[i % len(docs)]) for i in range(min(n_docs, len(docs))))
    mean //= max(1, min(n_docs, len(docs)))
    gen = (vary(docs[i % len(docs)], i, i // len(docs)) for i in range(n_docs))
    return gen, targets, mean


def _rss_mb() -> float:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def point(a: argparse.Namespace, n_docs: int, n_targets: int, chars: int | None) -> dict[str, Any]:
    """One measurement in this process."""
    from stancekit import StanceAnalyzer
    from stancekit.text.nlp import load_spacy

    t0 = time.perf_counter()
    docs, targets, mean_chars = corpus(a.data, n_docs, n_targets, chars)
    analyzer = StanceAnalyzer(
        model=a.model, targets=targets, backend=a.backend, quantize=a.quantize
    )
    list(analyzer.analyze_many(["Warm-up: Zas praised the CSTO."], progress=False))
    load = time.perf_counter() - t0
    trace: list[tuple[int, float]] = [(0, round(_rss_mb(), 1))]
    t1 = time.perf_counter()
    n_judgements = n = 0
    items = ({"id": f"doc-{i}", "text": d} for i, d in enumerate(docs))
    stream = analyzer.analyze_many(items, progress=False, parse_ahead=a.parse_ahead)
    for n, res in enumerate(stream, start=1):
        n_judgements += len(res.judgements)
        if n % a.rss_every == 0:
            trace.append((n, round(_rss_mb(), 1)))
    seconds = time.perf_counter() - t1
    if trace[-1][0] != n:
        trace.append((n, round(_rss_mb(), 1)))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "articles": n_docs,
        "targets": len(targets),
        "chars": mean_chars,
        "judgements": n_judgements,
        "seconds": round(seconds, 2),
        "seconds_per_article": round(seconds / max(n_docs, 1), 4),
        "peak_rss_mb": round(rss_mb, 1),
        "rss_mb_after_load": trace[0][1],
        "rss_mb_at_end": trace[-1][1],
        "rss_trace": trace,
        "spacy_strings": len(load_spacy().vocab.strings),
        "load_seconds": round(load, 1),
        "backend": a.backend + ("-int8" if a.quantize else ""),
    }


def run_point(args: argparse.Namespace, **kw: Any) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--data", args.data, "--point", json.dumps(kw)]
    cmd += ["--backend", args.backend, "--rss-every", str(args.rss_every)]
    cmd += ["--model", args.model] if args.model else []
    cmd += ["--quantize"] if args.quantize else []
    cmd += ["--parse-ahead"] if args.parse_ahead else []
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        out.check_returncode()
    row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps({k: v for k, v in row.items() if k != "rss_trace"}), flush=True)
    return row


def table(rows: list[dict[str, Any]], key: str) -> str:
    lines = [
        f"| {key} | judgements | seconds | s per article | peak RSS (MB) | RSS after load "
        "-> at end (MB) | spaCy strings |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r[key]} | {r['judgements']} | {r['seconds']} | {r['seconds_per_article']} | "
            f"{r['peak_rss_mb']} | {r['rss_mb_after_load']} -> {r['rss_mb_at_end']} | "
            f"{r['spacy_strings']} |"
        )
    return "\n".join(lines)


def plot(series: dict[str, list[dict[str, Any]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = {"articles": "articles", "targets": "targets", "chars": "characters per article"}
    series = {k: v for k, v in series.items() if v}
    fig, axes = plt.subplots(2, len(series), figsize=(4.2 * len(series), 6.5), squeeze=False)
    for col, (key, rows) in enumerate(series.items()):
        xs = [r[key] for r in rows]
        axes[0][col].plot(xs, [r["seconds"] for r in rows], "o-")
        axes[1][col].plot(xs, [r["peak_rss_mb"] for r in rows], "o-", color="tab:orange")
        axes[0][col].set_title(f"time vs {keys[key]}")
        axes[1][col].set_xlabel(keys[key])
        for ax in (axes[0][col], axes[1][col]):
            if key != "targets":
                ax.set_xscale("log")
            ax.grid(alpha=0.3)
        if key == "articles":
            axes[0][col].set_yscale("log")
            big = rows[-1]["rss_trace"]
            axes[1][col].plot(
                [max(n, 1) for n, _ in big],
                [mb for _, mb in big],
                "-",
                color="tab:green",
                lw=1,
                label=f"RSS during the {rows[-1]['articles']:,}-article run",
            )
            axes[1][col].plot(xs, [r["peak_rss_mb"] for r in rows], "o", color="tab:orange")
            axes[1][col].legend(fontsize=7)
    axes[0][0].set_ylabel("seconds (analysis)")
    axes[1][0].set_ylabel("peak RSS (MB)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--articles", type=int, nargs="+", default=[1, 10, 100, 1000, 10000])
    p.add_argument("--targets", type=int, nargs="*", default=[1, 5, 10, 20])
    p.add_argument("--targets-articles", type=int, default=50, help="articles per targets point")
    p.add_argument("--chars", type=int, nargs="*", default=[1000, 10000, 30000, 100000])
    p.add_argument("--model", help="model folder (default: the default model)")
    p.add_argument("--backend", choices=("torch", "onnx"), default="torch")
    p.add_argument("--quantize", action="store_true", help="int8 (of the chosen backend)")
    p.add_argument("--parse-ahead", action="store_true", help="analyze_many(parse_ahead=True)")
    p.add_argument("--rss-every", type=int, default=50, help="RSS sample every N articles")
    p.add_argument("--out", default="benchmarks/scaling.png")
    p.add_argument("--json", help="write all rows here")
    p.add_argument(
        "--quick", action="store_true", help="smoke run: 1 and 5 articles, 1 target, 1,000 chars"
    )
    p.add_argument("--point", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.point:
        kw = json.loads(a.point)
        print(json.dumps(point(a, kw["n_docs"], kw["n_targets"], kw.get("chars"))))
        return 0
    if a.quick:
        a.articles, a.targets, a.targets_articles, a.chars, a.rss_every = [1, 5], [1], 2, [1000], 1
    series: dict[str, list[dict[str, Any]]] = {"articles": [], "targets": [], "chars": []}
    for n in a.articles:
        series["articles"].append(run_point(a, n_docs=n, n_targets=12))
    for k in a.targets:
        series["targets"].append(run_point(a, n_docs=a.targets_articles, n_targets=k))
    for c in a.chars:
        series["chars"].append(run_point(a, n_docs=1, n_targets=12, chars=c))
    for key, rows in series.items():
        if rows:
            print(f"\n### time and memory vs {key}\n")
            print(table(rows, key))
    arts = series["articles"]
    if len(arts) >= 2:
        a0, a1 = arts[-2], arts[-1]
        ratio = (a1["seconds"] / a0["seconds"]) / (a1["articles"] / a0["articles"])
        print(f"\nlinearity: time ratio / size ratio between the two largest points = {ratio:.2f}")
        big = a1["rss_trace"]
        half = [mb for n, mb in big if n >= a1["articles"] // 2]
        print(
            f"RSS during the {a1['articles']:,}-article run: after load {big[0][1]} MB, "
            f"max over its second half {max(half)} MB, at the end {big[-1][1]} MB; "
            f"peak {a1['peak_rss_mb']} MB"
        )
    plot(series, Path(a.out))
    print(f"plot: {a.out}")
    if a.json:
        Path(a.json).write_text(json.dumps(series, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
