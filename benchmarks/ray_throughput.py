"""Throughput of the Ray Data engine (``stancekit.distributed``) in local mode: judgements
per second with ``num_actors`` CPU actors, each loading the model once. The time includes
starting the actors (model and spaCy loads), as a real job pays it once.

    PYTHONPATH=. python benchmarks/ray_throughput.py [--actors 2] [--copies 20] [FILES...]

With no files, the seed article is analysed ``--copies`` times (as distinct documents).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from stancekit.targets import DEFAULT_TARGETS, Target

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

    from stancekit.distributed import analyze_dataset

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
    p.add_argument("--copies", type=int, default=20, help="copies of the seed article")
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--target", action="append", help="target name (default: CSTO, Azerbaijan)")
    p.add_argument("--batch-size", type=int, default=8, help="documents per actor call")
    args = p.parse_args(argv)
    if args.files:
        texts = [Path(f).read_text(encoding="utf-8") for f in args.files]
    else:  # distinct texts, so no cache or id could collapse them
        seed = SEED.read_text(encoding="utf-8")
        texts = [f"{seed}\n\n(copy {i})" for i in range(args.copies)]
    targets = args.target or list(DEFAULT_TARGETS)
    ray_throughput(texts, targets, args.model, args.actors, batch_size=args.batch_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
