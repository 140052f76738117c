"""Does planning the batches pay? Rows sorted by length and cut at the split that costs least
padding (``stancekit.scoring.batching.batch_spans``, the default) against the former rule (a cut
every ``batch_size`` rows; for a packed model, or sooner at 4,096 padded tokens), on
throughput.py's corpus, in one process, runs alternating, for each model given.

    PYTHONPATH=. python benchmarks/batch_plan_ab.py [--n-docs 100] [--runs 5]
        [--models fast runs/base030/models/stancekit-minilm]

Each model scores the corpus's pairs two ways: per batch of 16 documents, as
``analyze_many`` calls the model, and all at once. Prints, per model, way and rule, the
median seconds, judgements/s, forward batches and padded tokens over real ones (the
tokenizer's lengths of the rows the model reads), and the ratio planned / former; then end
to end (``analyze_many``) under each rule.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
from throughput import build_corpus, forward_shapes, staged

import stancekit.scoring.model
import stancekit.scoring.packed
from stancekit import StanceAnalyzer
from stancekit.scoring.batching import batch_spans
from stancekit.scoring.model import PairInput, StanceModel

Rule = Callable[..., list[tuple[int, int]]]


def former_spans(
    sizes: Sequence[int], *, batch_size: int, max_tokens: int | None, **_: Any
) -> list[tuple[int, int]]:
    """The rule before batch planning (stancekit 00e72ca): cut every ``batch_size`` rows, or
    sooner where the batch would pass ``max_tokens`` padded tokens."""
    spans: list[tuple[int, int]] = []
    lo = 0
    for i, size in enumerate(sizes):
        n = i - lo + 1
        if i > lo and (n > batch_size or (max_tokens is not None and n * size > max_tokens)):
            spans.append((lo, i))
            lo = i
    if lo < len(sizes):
        spans.append((lo, len(sizes)))
    return spans


def former_pair_spans(sizes: Sequence[int], *, batch_size: int, **_: Any) -> list[tuple[int, int]]:
    """The former per-pair rule: a cut every ``batch_size`` rows, no token cap."""
    return former_spans(sizes, batch_size=batch_size, max_tokens=None)


def former_packed_spans(
    sizes: Sequence[int], *, batch_size: int, **_: Any
) -> list[tuple[int, int]]:
    """The former packed rule: a cut every ``batch_size`` rows or at 4,096 padded tokens."""
    return former_spans(sizes, batch_size=batch_size, max_tokens=4096)


RULES: dict[str, tuple[Rule, Rule]] = {
    "former": (former_pair_spans, former_packed_spans),
    "planned": (batch_spans, batch_spans),
}


def use_rule(rules: tuple[Rule, Rule]) -> None:
    """Make the per-pair and the packed scoring paths batch with these rules."""
    stancekit.scoring.model.batch_spans = rules[0]  # type: ignore[attr-defined]
    stancekit.scoring.packed.batch_spans = rules[1]  # type: ignore[attr-defined]


def padding(model: StanceModel, chunks: list[list[PairInput]], bs: int) -> tuple[int, int, int]:
    """Forward batches, real and padded tokens of scoring ``chunks`` one call each (the
    rows' lengths as throughput.py's ``forward_shapes`` counts them)."""
    shapes = [s for c in chunks for s in forward_shapes(model, c, bs)]
    return len(shapes), sum(map(sum, shapes)), sum(len(s) * max(s) for s in shapes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--n-docs", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--models", nargs="+", default=["fast"], help="model folders or names")
    ap.add_argument("--e2e", action="store_true", help="also time analyze_many under each rule")
    args = ap.parse_args()
    args.corpus, args.sentences_per_doc, args.top_targets = None, 10, 10
    docs, targets = build_corpus(args)
    print(
        f"{len(docs)} docs, torch threads {torch.get_num_threads()}, median of {args.runs}, "
        "runs alternating"
    )
    for name in args.models:
        analyzer = StanceAnalyzer(model=name, targets=targets)
        model, bs = analyzer.model, analyzer.batch_size
        chunks = staged(analyzer, docs)["chunks"]  # as analyze_many chunks them
        ways = {"per 16 docs": chunks, "all at once": [[p for c in chunks for p in c]]}
        n = sum(map(len, chunks))
        times: dict[tuple[str, str], list[float]] = {}
        for rule in RULES.values():  # warm-up
            use_rule(rule)
            model.predict(chunks[0], batch_size=bs)
        for _ in range(args.runs):
            for way, cs in ways.items():
                for rname, rule in RULES.items():
                    use_rule(rule)
                    t0 = time.perf_counter()
                    for c in cs:
                        model.predict(c, batch_size=bs)
                    times.setdefault((way, rname), []).append(time.perf_counter() - t0)
        print(f"\n{model.config.name} {model.config.version} ({name}): {n} judgements")
        for way, cs in ways.items():
            med = {}
            for rname, rule in RULES.items():
                use_rule(rule)
                nb, real, padded = padding(model, cs, bs)
                med[rname] = statistics.median(times[(way, rname)])
                print(
                    f"  {way:<12} {rname:<8} {med[rname]:6.2f} s {n / med[rname]:7.1f} j/s  "
                    f"{nb:4d} batches, padded/real tokens {padded / real:.3f}"
                )
            print(f"  {way:<12} planned / former: {med['former'] / med['planned']:.3f}x")
        if args.e2e:
            e2e: dict[str, list[float]] = {r: [] for r in RULES}
            for _ in range(args.runs):
                for rname, rule in RULES.items():
                    use_rule(rule)
                    t0 = time.perf_counter()
                    res = list(analyzer.analyze_many(docs, progress=False))
                    e2e[rname].append(time.perf_counter() - t0)
            k = sum(len(r.judgements) for r in res)
            for rname, ts in e2e.items():
                s = statistics.median(ts)
                print(f"  end to end   {rname:<8} {s:6.2f} s {k / s:7.1f} j/s")
            print(
                "  end to end   planned / former: "
                f"{statistics.median(e2e['former']) / statistics.median(e2e['planned']):.3f}x"
            )
    use_rule(RULES["planned"])


if __name__ == "__main__":
    main()
