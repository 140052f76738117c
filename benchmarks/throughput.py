"""Throughput of stancekit on CPU: end to end, per stage, against a plain transformers
pipeline, and against the machine's own matmul speed. Every figure is the median of
``--runs`` runs in this one process (after one untimed warm-up).

    PYTHONPATH=. python benchmarks/throughput.py [--data ../shared/data] [--runs 3] [--quick]
        [--model FOLDER_OR_NAME [--backend onnx] [--quantize]] [--against FOLDER_OR_NAME]

``--model`` measures another model than the default (a packed one too: its forward passes
and FLOPs are counted from the packed rows); ``--against`` times a second model end to end
and scoring alone in the same process and prints the ratios (issue 20: a student against
0.3.0). The transformers-pipeline baseline runs the measured model if it has a
plain-transformers form (a pair model saved whole), else the ``--against`` one; a packed
model (0.4.0) has none.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import zip_longest
from pathlib import Path
from typing import Any

import torch

from stancekit import StanceAnalyzer
from stancekit.actors import find_actors
from stancekit.actors.targets import DEFAULT_TARGETS, Target, TargetIndex
from stancekit.pairs.build import build_pairs
from stancekit.scoring.model import PairInput, StanceModel, default_model_path, model_path
from stancekit.text.segment import document_id, parse_many

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "csto-armenia-2022-11-28.txt"
SOURCES = ("dsa_valid.jsonl", "newsmtsc_train.jsonl")


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """Median wall seconds of ``runs`` calls of ``fn`` (after one warm-up) and its last result."""
    out = fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def build_corpus(args: argparse.Namespace) -> tuple[list[str], list[Target]]:
    """The documents (seed article first) and the targets to judge in them."""
    docs = [SEED.read_text(encoding="utf-8")]
    if args.corpus:
        files = sorted(Path(args.corpus).glob("*.txt"))[: args.n_docs]
        return [f.read_text(encoding="utf-8") for f in files], list(DEFAULT_TARGETS)
    per_source = args.n_docs  # more than needed; cut to n_docs below
    groups: list[list[str]] = []
    names: Counter[str] = Counter()
    for name in SOURCES:
        rows = [json.loads(line) for line in (Path(args.data) / name).open(encoding="utf-8")]
        rows = rows[: per_source * args.sentences_per_doc]
        names.update(s["target"] for r in rows for s in r["spans"] if len(s["target"]) > 3)
        groups.append(
            [
                " ".join(r["text"].strip() for r in rows[i : i + args.sentences_per_doc])
                for i in range(0, len(rows), args.sentences_per_doc)
            ]
        )
    for pair in zip_longest(*groups):  # interleave the sources
        docs.extend(d for d in pair if d)
    top = [Target(n) for n, _ in names.most_common(args.top_targets)]
    return docs[: args.n_docs], list(DEFAULT_TARGETS) + top


def staged(analyzer: StanceAnalyzer, docs: Sequence[str], chunk: int = 16) -> dict[str, Any]:
    """The analyzer's stages run one by one, chunked as ``analyze_many`` does, each timed:
    ``times`` per stage, the model ``inputs`` in order, and each chunk's (``chunks``)."""
    t = dict.fromkeys(("parse", "actors", "pairs", "score"), 0.0)
    index = TargetIndex(analyzer.targets)
    chunks: list[list[PairInput]] = []
    for c in range(0, len(docs), chunk):
        items: list[tuple[str, str, dict[str, Any]]] = [
            (document_id(d), d, {}) for d in docs[c : c + chunk]
        ]
        t0 = time.perf_counter()
        parsed = list(parse_many(items))
        t1 = time.perf_counter()
        actors = [find_actors(p) for p in parsed]
        t2 = time.perf_counter()
        pairs = [
            pair
            for p, a in zip(parsed, actors, strict=True)
            for pair in build_pairs(p.document, a, index)
        ]
        chunk_inputs = [pair.model_input() for pair in pairs]
        t3 = time.perf_counter()
        analyzer.model.predict(chunk_inputs, batch_size=analyzer.batch_size)
        t4 = time.perf_counter()
        chunks.append(chunk_inputs)
        for key, dt in zip(t, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
            t[key] += dt
    return {"times": t, "inputs": [p for c in chunks for p in c], "chunks": chunks}


def forward_shapes(model: StanceModel, inputs: Sequence[PairInput], bs: int) -> list[list[int]]:
    """Real (unpadded) lengths of the sequences of each forward pass of ``predict`` (for a
    packed model, of its rows: text and levitated markers)."""
    if model.packed:
        from stancekit.scoring.packing import batch_plan, encode_packed, requests_for_pairs

        reqs, _ = requests_for_pairs(list(dict.fromkeys(inputs)))
        order, spans = batch_plan(model.tokenizer, reqs, batch_size=bs)  # as predict does
        reqs = [reqs[r] for r in order]
        c = model.config
        return [
            encode_packed(
                model.tokenizer, reqs[lo:hi], max_length=c.max_length, stride=c.window_stride
            ).lengths
            for lo, hi in spans
        ]
    seen: list[list[int]] = []

    def hook(_mod: Any, _args: Any, kwargs: dict[str, Any]) -> None:
        seen.append(kwargs["attention_mask"].sum(dim=1).tolist())

    handle = model.model.register_forward_pre_hook(hook, with_kwargs=True)
    try:
        model.predict(inputs, batch_size=bs)
    finally:
        handle.remove()
    return seen


def model_flops(cfg: Any, batches: list[list[int]], padded: bool) -> tuple[float, int]:
    """Forward FLOPs (2 x matmul params x tokens + 4 L d seq^2 attention) and token count."""
    d, ff, layers = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers
    per_token = 2 * layers * (4 * d * d + 2 * d * ff)
    flops, tokens = 0.0, 0
    for lens in batches:
        seqs = [max(lens)] * len(lens) if padded else lens
        tokens += sum(seqs)
        flops += per_token * sum(seqs) + sum(4 * layers * d * s * s for s in seqs)
        flops += len(lens) * 2 * (d * d + d * cfg.num_labels)  # pooler + classifier
    return flops, tokens


def matmul_gflops(n: int, runs: int) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    dt, _ = median_time(lambda: torch.mm(a, b), max(runs, 5))
    return 2 * n**3 / dt / 1e9


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pipeline_baseline(
    model: StanceModel, path: Path, inputs: Sequence[PairInput], args: argparse.Namespace
) -> tuple[list[tuple[str, str]], float]:
    """A transformers ``text-classification`` pipeline over ``model``'s folder, one formatted
    input at a time, on every k-th pair; its report rows and judgements/s."""
    from transformers import pipeline
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    clf: Any = pipeline(
        "text-classification",
        model=str(path),
        tokenizer=str(path),
        dtype=torch.float32,
        device="cpu",
        top_k=None,
        function_to_apply="none",
    )
    n = len(inputs)
    step = max(1, n // max(1, args.baseline_pairs))
    subset = list(inputs[::step][: args.baseline_pairs])
    texts = [model.config.template.format(p) for p in subset]
    kw = {"truncation": "only_second", "max_length": model.config.max_length}
    base_s, outs = median_time(
        lambda: [clf({"text": a, "text_pair": b}, **kw) for a, b in texts], args.runs
    )
    sub_s, sub_scores = median_time(lambda: model.predict(subset, batch_size=64), args.runs)
    labels = sub_scores.stance_labels
    agree = sum(
        max((o for o in out if o["label"].startswith("stance:")), key=lambda o: o["score"])["label"]
        == "stance:" + labels[int(row.argmax())]
        for out, row in zip(outs, sub_scores.stance, strict=True)
    )
    base_jps = len(subset) / base_s
    name = f"{model.config.name} {model.config.version}"
    return [
        (
            f"3. pipeline 1-at-a-time ({name})",
            f"{len(subset)} pairs (every {step}th) in {base_s:.2f} s",
        ),
        ("   judgements/s", f"{base_jps:,.1f}"),
        ("   same stance label", f"{agree}/{len(subset)} pairs agree with stancekit"),
        ("   stancekit, same model+subset", f"{len(subset) / sub_s:,.1f} judgements/s"),
        ("   that / baseline", f"{(len(subset) / sub_s) / base_jps:.2f}x"),
    ], base_jps


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", help="folder of the *.jsonl data")
    ap.add_argument("--corpus", help="folder of .txt articles to use instead (default targets)")
    ap.add_argument("--n-docs", type=int, default=300)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sentences-per-doc", type=int, default=10)
    ap.add_argument("--top-targets", type=int, default=10)
    ap.add_argument("--baseline-pairs", type=int, default=300, help="pipeline subset size")
    ap.add_argument("--quick", action="store_true", help="smoke run: 20 docs, 1 run")
    ap.add_argument("--model", help="model folder or name to measure (default: the default)")
    ap.add_argument("--against", help="a second model to time in the same run (e.g. fast)")
    ap.add_argument("--backend", choices=("torch", "onnx"), default="torch", help="for --model")
    ap.add_argument("--quantize", action="store_true", help="int8 --model (of its backend)")
    args = ap.parse_args()
    if args.quick:
        args.n_docs, args.runs, args.baseline_pairs = 20, 1, 50
    runs = args.runs

    docs, targets = build_corpus(args)
    chars = sum(map(len, docs))
    t0 = time.perf_counter()
    analyzer = StanceAnalyzer(
        model=args.model or default_model_path(),
        targets=targets,
        backend=args.backend,
        quantize=args.quantize,
    )
    load_s = time.perf_counter() - t0
    model = analyzer.model

    # 1. end to end
    e2e_s, results = median_time(lambda: list(analyzer.analyze_many(docs, progress=False)), runs)
    n_judg = sum(len(r.judgements) for r in results)
    errors = sum(r.error is not None for r in results)

    # 2. stages, and scoring alone on all the pairs at once
    stage_runs = [staged(analyzer, docs) for _ in range(runs)]
    inputs: list[PairInput] = stage_runs[0]["inputs"]
    stage_s = {
        k: statistics.median(r["times"][k] for r in stage_runs) for k in stage_runs[0]["times"]
    }
    score_s, _ = median_time(lambda: model.predict(inputs, batch_size=analyzer.batch_size), runs)
    n = len(inputs)

    # 3. baseline: a transformers pipeline, one formatted input at a time, on a subset, of
    # a model that has a plain-transformers form (a pair model saved whole): the measured
    # one, else --against; a packed or adapter model has none, and 0.4.0 is packed
    against_model = StanceAnalyzer(model=args.against, targets=targets) if args.against else None
    plain = [
        (m, p)
        for m, p in (
            (model, args.model or default_model_path()),
            (against_model.model if against_model else None, args.against),
        )
        if m is not None and m.config.design == "pair" and m.config.adapter is None
    ]
    base_rows: list[tuple[str, str]] = []
    base_jps = float("nan")
    if plain:
        base_model, base_path = plain[0]
        base_rows, base_jps = pipeline_baseline(base_model, model_path(base_path), inputs, args)
    else:
        base_rows = [("3. pipeline 1-at-a-time", "n/a: no plain-transformers model measured")]

    # 4. FLOPs
    shapes = forward_shapes(model, inputs, analyzer.batch_size)
    real_f, real_tok = model_flops(model.model.config, shapes, padded=False)
    pad_f, pad_tok = model_flops(model.model.config, shapes, padded=True)
    peak = max(matmul_gflops(1024, runs), matmul_gflops(2048, runs))
    maxrss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    against: dict[str, Any] = {}
    if against_model is not None:
        other = against_model
        a_e2e, a_res = median_time(lambda: list(other.analyze_many(docs, progress=False)), runs)
        a_score, _ = median_time(
            lambda: other.model.predict(inputs, batch_size=other.batch_size), runs
        )
        a_shapes = forward_shapes(other.model, inputs, other.batch_size)
        a_flops, _ = model_flops(other.model.model.config, a_shapes, padded=False)
        against = {
            "name": str(args.against),
            "e2e_jps": sum(len(r.judgements) for r in a_res) / a_e2e,
            "score_jps": n / a_score,
            "passes": sum(len(b) for b in a_shapes) / n,
            "gflop": a_flops / n / 1e9,
        }

    # report
    e2e_jps, score_jps = n_judg / e2e_s, n / score_s
    rows: list[tuple[str, str]] = [
        ("CPU", cpu_model()),
        ("torch / threads", f"{torch.__version__} / {torch.get_num_threads()}"),
        (
            "model (load s)",
            f"{model.config.name} {model.config.version}, {model.backend}"
            f"{' int8' if model.config.extra.get('quantized') else ''} ({load_s:.1f} s)",
        ),
        ("corpus", f"{len(docs)} docs, {chars:,} chars, {len(targets)} targets"),
        ("judgements (errors)", f"{n_judg:,} ({errors} failed docs)"),
        ("runs (median of)", str(runs)),
        ("", ""),
        ("1. end to end: time", f"{e2e_s:.2f} s"),
        ("   judgements/s", f"{e2e_jps:,.1f}"),
        ("   documents/s", f"{len(docs) / e2e_s:,.2f}"),
        ("   characters/s", f"{chars / e2e_s:,.0f}"),
        ("2. scoring alone: pairs", f"{n:,} in {score_s:.2f} s"),
        ("   judgements/s", f"{score_jps:,.1f}"),
    ]
    total = sum(stage_s.values())
    labels = {"parse": "segment+parse", "actors": "actors", "pairs": "pairs", "score": "scoring"}
    for key, sec in stage_s.items():
        rows.append((f"   share: {labels[key]}", f"{sec / total:6.1%}  ({sec:.2f} s)"))
    rows.append(("   staged total / e2e", f"{total:.2f} s / {e2e_s:.2f} s"))
    rows += base_rows
    if plain:
        rows += [
            ("   scoring / baseline", f"{score_jps / base_jps:.2f}x"),
            ("   end to end / baseline", f"{e2e_jps / base_jps:.2f}x"),
        ]
    rows += [
        ("4. matmul fp32 peak", f"{peak:,.1f} GFLOP/s (best of 1024², 2048²)"),
        ("   forward passes", f"{len(shapes)}; tokens real {real_tok:,}, padded {pad_tok:,}"),
        ("   GFLOP real tokens", f"{real_f / 1e9:,.1f} -> {real_f / score_s / 1e9:,.1f} GFLOP/s"),
        ("   GFLOP padded", f"{pad_f / 1e9:,.1f} -> {pad_f / score_s / 1e9:,.1f} GFLOP/s"),
        (
            "   share of matmul peak",
            f"{real_f / score_s / 1e9 / peak:.1%} real, {pad_f / score_s / 1e9 / peak:.1%} padded",
        ),
        ("   passes / judgement", f"{sum(len(b) for b in shapes) / n:.3f}"),
        ("   GFLOP / judgement", f"{real_f / n / 1e9:.3f}"),
        ("5. peak RSS", f"{maxrss_mib:,.0f} MiB"),
    ]
    if against:
        rows += [
            ("", ""),
            (f"6. against {against['name']}", ""),
            ("   end to end judgements/s", f"{against['e2e_jps']:,.1f}"),
            ("   scoring judgements/s", f"{against['score_jps']:,.1f}"),
            (
                "   passes / GFLOP per judgement",
                f"{against['passes']:.3f} / {against['gflop']:.3f}",
            ),
            ("   end to end: model / against", f"{e2e_jps / against['e2e_jps']:.2f}x"),
            ("   scoring: model / against", f"{score_jps / against['score_jps']:.2f}x"),
        ]
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}" if k else "")


if __name__ == "__main__":
    main()
