"""End-to-end speed and peak memory of shipped models side by side: each model analyses the
same documents (the corpus of ``benchmarks/throughput.py``) in its own child process, so
peak RSS is that model's alone; judgements/s is the median of ``--runs`` runs after one
untimed warm-up. The ratio is against the first model, measured in the same run.

    PYTHONPATH=. python benchmarks/model_speed.py [--models fast accurate] [--n-docs 40]
        [--runs 3] [--data ../shared/data]

A model is a shipped name or a folder, optionally with ``@int8`` (PyTorch dynamic int8),
``@onnx`` or ``@onnx-int8`` (ONNX Runtime, float32 or int8): ``--models fast
fast@onnx-int8 accurate``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def child(model: str, docs_file: Path, runs: int, threads: int) -> dict[str, float]:
    """One model's figures (run in a child process)."""
    import torch

    from stancekit import StanceAnalyzer
    from stancekit.actors.targets import Target

    torch.set_num_threads(threads)
    spec = json.loads(docs_file.read_text())
    t0 = time.perf_counter()
    name, _, how = model.partition("@")
    if how not in ("", "int8", "onnx", "onnx-int8"):
        raise SystemExit(f"--models: {model!r}: after '@' use int8, onnx or onnx-int8")
    analyzer = StanceAnalyzer(
        model=name,
        targets=[Target(t) for t in spec["targets"]],
        backend="onnx" if how.startswith("onnx") else "torch",
        quantize=how.endswith("int8"),
    )
    load_s = time.perf_counter() - t0
    docs = spec["docs"]

    def once() -> int:
        return sum(len(r.judgements) for r in analyzer.analyze_many(docs))

    n = once()  # warm-up
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    return {
        "judgements": n,
        "seconds_median": med,
        "judgements_per_s": n / med,
        "docs_per_s": len(docs) / med,
        "load_seconds": load_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["fast", "accurate"])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--n-docs", type=int, default=40)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--child", nargs=2, metavar=("MODEL", "DOCS_JSON"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        out = child(args.child[0], Path(args.child[1]), args.runs, args.threads)
        print(json.dumps(out))
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from throughput import build_corpus

    corpus_args = argparse.Namespace(
        corpus=None, data=args.data, n_docs=args.n_docs, sentences_per_doc=10, top_targets=10
    )
    docs, targets = build_corpus(corpus_args)
    spec = {"docs": docs, "targets": [t.name for t in targets]}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(spec, f)
    docs_file = Path(f.name)
    print(
        f"{len(docs)} documents, {len(targets)} targets, {args.runs} runs, {args.threads} threads"
    )
    results: dict[str, dict[str, float]] = {}
    try:
        for m in args.models:
            cmd = [sys.executable, __file__, "--runs", str(args.runs), "--threads"]
            cmd += [str(args.threads), "--child", m, str(docs_file)]
            run = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results[m] = json.loads(run.stdout.strip().splitlines()[-1])
    finally:
        docs_file.unlink(missing_ok=True)
    base = results[args.models[0]]
    for m, r in results.items():
        print(
            f"{m:24s} {r['judgements_per_s']:7.1f} judgements/s ({r['docs_per_s']:.2f} docs/s, "
            f"{r['judgements']:.0f} judgements in {r['seconds_median']:.1f} s), "
            f"x{r['judgements_per_s'] / base['judgements_per_s']:.2f} of {args.models[0]}; "
            f"peak RSS {r['peak_rss_mib']:.0f} MiB; load {r['load_seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
