"""Does parsing ahead pay? ``analyze_many(parse_ahead=True)``, the next batch parsed in a
worker thread while the model scores this one, against the default (one stage after the
other in the calling thread), on throughput.py's corpus, in one process, runs alternating.

    PYTHONPATH=. python benchmarks/prefetch_ab.py [--n-docs 100] [--runs 5] [--model fast]

Prints each arm's median seconds and judgements/s and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from throughput import build_corpus

from stancekit import StanceAnalyzer


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--n-docs", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--model", default=None, help="model folder or name (default model)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads")
    args = ap.parse_args()
    args.corpus, args.sentences_per_doc, args.top_targets = None, 10, 10
    if args.threads:
        torch.set_num_threads(args.threads)
    docs, targets = build_corpus(args)
    analyzer = StanceAnalyzer(model=args.model, targets=targets)
    arms = {"parse ahead": True, "one thread (default)": False}
    times: dict[str, list[float]] = {k: [] for k in arms}
    counts: dict[str, int] = {}
    for ahead in arms.values():  # warm-up
        list(analyzer.analyze_many(docs, progress=False, parse_ahead=ahead))
    for _ in range(args.runs):
        for name, ahead in arms.items():
            t0 = time.perf_counter()
            res = list(analyzer.analyze_many(docs, progress=False, parse_ahead=ahead))
            times[name].append(time.perf_counter() - t0)
            counts[name] = sum(len(r.judgements) for r in res)
    print(f"{len(docs)} docs, torch threads {torch.get_num_threads()}, median of {args.runs}")
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, s in med.items():
        print(f"{k:<24} {s:7.2f} s  {counts[k] / s:7.1f} judgements/s  ({counts[k]} judgements)")
    a, b = med.values()
    print(f"parse ahead / one thread: {b / a:.3f}x")


if __name__ == "__main__":
    main()
