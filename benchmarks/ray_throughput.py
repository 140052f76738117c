"""Throughput of the Ray Data engine (``stancekit.engine.distributed``) in local mode next to the
single-process path on the same documents, so Ray's overhead is known.

    PYTHONPATH=. python benchmarks/ray_throughput.py [--actors 2] [--copies 100] [--runs 3]

Ray: judgements per second with ``num_actors`` CPU actors, each loading the model once;
the time includes starting the actors (model and spaCy loads), as a real job pays it
once. Single process: ``StanceAnalyzer.analyze_many`` in this process, timed with the
model already loaded, and with its load added (the like-for-like figure). Each is the
median of ``--runs`` runs; the ratios are Ray over single process. With ``--data DIR``, the
documents and targets are ``throughput.py``'s corpus (the seed article and ``--n-docs``
pseudo-articles of news sentences); with files, those files and the default targets.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from stancekit.actors.targets import DEFAULT_TARGETS, Target

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "csto-armenia-2022-11-28.txt"


def ray_throughput(
    texts: Sequence[str],
    targets: Iterable[Target | str] | None = None,
    model: str | os.PathLike[str] | None = None,
    num_actors: int = 2,
    *,
    batch_size: int = 8,
) -> dict[str, Any]:
    """Judge ``texts`` with a fixed pool of ``num_actors`` CPU actors on a local Ray;
    print and return documents, judgements, seconds and judgements per second.

    Starts Ray with ``num_cpus=num_actors`` (unless this process already has Ray up) and
    shuts it down again if it started it.

    Example:
        >>> ray_throughput(["Baku blamed the CSTO."] * 10, ["CSTO"], num_actors=2)  # doctest: +SKIP
        {'documents': 10, 'judgements': 10, 'actors': 2, 'seconds': 9.1, ...}
    """
    import ray

    from stancekit.engine.distributed import analyze_dataset

    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=num_actors, include_dashboard=False, log_to_driver=False)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False
        docs = ray.data.from_items([{"id": f"doc-{i}", "text": t} for i, t in enumerate(texts)])
        t0 = time.perf_counter()
        rows = analyze_dataset(
            docs,
            targets=targets,
            model=model,
            concurrency=num_actors,
            batch_size=batch_size,
            errors="skip",
        ).count()
        seconds = time.perf_counter() - t0
    finally:
        if started:
            ray.shutdown()
    result = {
        "documents": len(texts),
        "judgements": rows,
        "actors": num_actors,
        "seconds": round(seconds, 2),
        "judgements_per_s": round(rows / seconds, 1) if seconds else None,
        "documents_per_s": round(len(texts) / seconds, 2) if seconds else None,
    }
    print(json.dumps(result))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("files", nargs="*", help="text files, one document each (default: seed)")
    p.add_argument("--actors", type=int, default=2)
    p.add_argument("--data", help="use throughput.py's corpus from this data folder")
    p.add_argument("--n-docs", type=int, default=300, help="documents of that corpus")
    p.add_argument("--runs", type=int, default=3, help="runs of each path (median)")
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--target", action="append", help="target name (default: CSTO, Azerbaijan)")
    p.add_argument("--batch-size", type=int, default=8, help="documents per actor call")
    args = p.parse_args(argv)
    targets: list[Target | str] = list(args.target or DEFAULT_TARGETS)
    if args.files:
        texts = [Path(f).read_text(encoding="utf-8") for f in args.files]
    elif args.data:
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from throughput import build_corpus

        ns = argparse.Namespace(
            data=args.data, corpus=None, n_docs=args.n_docs, sentences_per_doc=10, top_targets=10
        )
        texts, found = build_corpus(ns)
        targets = list(args.target or found)
    else:
        p.error("give FILES or --data DIR")
    single = [single_process(texts, targets, args.model) for _ in range(args.runs)]
    ray_runs = [
        ray_throughput(texts, targets, args.model, args.actors, batch_size=args.batch_size)
        for _ in range(args.runs)
    ]
    med = statistics.median
    s_warm = med(r["seconds"] for r in single)
    s_cold = med(r["seconds"] + r["load_seconds"] for r in single)
    r_sec = med(r["seconds"] for r in ray_runs)
    n = ray_runs[0]["judgements"]
    print(
        f"documents {len(texts)}, judgements {n}, runs {args.runs} (medians), {os.cpu_count()} CPUs"
    )
    print(f"single process, model loaded    {single[0]['judgements'] / s_warm:8.1f} judgements/s")
    print(f"single process, load included   {single[0]['judgements'] / s_cold:8.1f} judgements/s")
    print(f"Ray local, {args.actors} actors (incl. start) {n / r_sec:8.1f} judgements/s")
    print(
        f"Ray / single process: {s_warm / r_sec:.2f}x (model loaded), "
        f"{s_cold / r_sec:.2f}x (load included)"
    )
    return 0


def single_process(
    texts: Sequence[str], targets: Iterable[Target | str], model: str | None
) -> dict[str, Any]:
    """``analyze_many`` over ``texts`` in this process: load seconds, analysis seconds and
    judgements."""
    from stancekit import StanceAnalyzer

    t0 = time.perf_counter()
    analyzer = StanceAnalyzer(model=model, targets=list(targets))
    load = time.perf_counter() - t0
    t0 = time.perf_counter()
    n = sum(len(r.judgements) for r in analyzer.analyze_many(texts, progress=False))
    result = {
        "judgements": n,
        "load_seconds": round(load, 2),
        "seconds": round(time.perf_counter() - t0, 2),
    }
    print(json.dumps({"single_process": result}))
    return result


if __name__ == "__main__":
    raise SystemExit(main())
