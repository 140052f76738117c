"""How stancekit's time and memory grow with the number of articles, the number of
targets and the length of an article.

Each point runs in a fresh subprocess (so its peak resident memory is its own) that loads
the default model, analyses a corpus with ``StanceAnalyzer.analyze_many`` (streaming,
results counted and dropped) and reports wall seconds and ``ru_maxrss``. Model and spaCy
loading are timed apart and excluded from the analysis time.

    PYTHONPATH=. python benchmarks/scaling.py [--data ../shared/data] [--out scaling.png]
        [--articles 1 10 100 1000 10000] [--targets 1 5 10 20] [--chars 1000 10000 100000]

The corpus is throughput.py's: pseudo-articles of 10 consecutive sentences of
``dsa_valid`` / ``newsmtsc_train``, cycled (with distinct ids) when more are asked for;
targets are the default two plus the most frequent target names of those sentences.
Long articles are sentences of those files joined until the length is reached.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def corpus(
    data: str, n_docs: int, n_targets: int, chars: int | None
) -> tuple[list[str], list[Any]]:
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
        return [text[:chars]] * n_docs, targets
    return [docs[i % len(docs)] for i in range(n_docs)], targets


def point(data: str, n_docs: int, n_targets: int, chars: int | None) -> dict[str, Any]:
    """One measurement in this process."""
    from stancekit import StanceAnalyzer

    t0 = time.perf_counter()
    docs, targets = corpus(data, n_docs, n_targets, chars)
    analyzer = StanceAnalyzer(targets=targets)
    list(analyzer.analyze_many(["Warm-up: Zas praised the CSTO."], progress=False))
    load = time.perf_counter() - t0
    t1 = time.perf_counter()
    n_judgements = 0
    items = ({"id": f"doc-{i}", "text": d} for i, d in enumerate(docs))
    for res in analyzer.analyze_many(items, progress=False):
        n_judgements += len(res.judgements)
    seconds = time.perf_counter() - t1
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "articles": n_docs,
        "targets": len(targets),
        "chars": sum(len(d) for d in docs) // max(n_docs, 1),
        "judgements": n_judgements,
        "seconds": round(seconds, 2),
        "seconds_per_article": round(seconds / max(n_docs, 1), 4),
        "peak_rss_mb": round(rss_mb, 1),
        "load_seconds": round(load, 1),
    }


def run_point(args: argparse.Namespace, **kw: Any) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--data", args.data, "--point", json.dumps(kw)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    row: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    print(json.dumps(row), flush=True)
    return row


def table(rows: list[dict[str, Any]], key: str) -> str:
    lines = [
        f"| {key} | judgements | seconds | s per article | peak RSS (MB) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r[key]} | {r['judgements']} | {r['seconds']} | {r['seconds_per_article']} | "
            f"{r['peak_rss_mb']} |"
        )
    return "\n".join(lines)


def plot(series: dict[str, list[dict[str, Any]]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = {"articles": "articles", "targets": "targets", "chars": "characters per article"}
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
    axes[0][0].set_ylabel("seconds (analysis)")
    axes[1][0].set_ylabel("peak RSS (MB)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--articles", type=int, nargs="+", default=[1, 10, 100, 1000, 10000])
    p.add_argument("--targets", type=int, nargs="+", default=[1, 5, 10, 20])
    p.add_argument("--targets-articles", type=int, default=50, help="articles per targets point")
    p.add_argument("--chars", type=int, nargs="+", default=[1000, 10000, 30000, 100000])
    p.add_argument("--out", default="benchmarks/scaling.png")
    p.add_argument("--json", help="write all rows here")
    p.add_argument("--point", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.point:
        kw = json.loads(a.point)
        print(json.dumps(point(a.data, kw["n_docs"], kw["n_targets"], kw.get("chars"))))
        return 0
    series: dict[str, list[dict[str, Any]]] = {"articles": [], "targets": [], "chars": []}
    for n in a.articles:
        series["articles"].append(run_point(a, n_docs=n, n_targets=12))
    for k in a.targets:
        series["targets"].append(run_point(a, n_docs=a.targets_articles, n_targets=k))
    for c in a.chars:
        series["chars"].append(run_point(a, n_docs=1, n_targets=12, chars=c))
    for key, rows in series.items():
        print(f"\n### time and memory vs {key}\n")
        print(table(rows, key))
    arts = series["articles"]
    if len(arts) >= 2:
        a0, a1 = arts[-2], arts[-1]
        ratio = (a1["seconds"] / a0["seconds"]) / (a1["articles"] / a0["articles"])
        print(f"\nlinearity: time ratio / size ratio between the two largest points = {ratio:.2f}")
    plot(series, Path(a.out))
    print(f"plot: {a.out}")
    if a.json:
        Path(a.json).write_text(json.dumps(series, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
