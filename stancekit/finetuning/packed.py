"""The training loop :func:`~stancekit.finetuning.finetune` runs for a packed model (design
``"packed"``, :mod:`stancekit.scoring.packed`: one pass per sentence and holder), as Hugging
Face's ``Trainer`` runs it for a per-pair model, with the same settings and behaviour:
AdamW with linear warm-up and decay, the class-weighted two-head loss, the dev set scored
after each epoch (macro-F1 of the head the dev set has), early stopping after
``early_stopping_patience`` epochs without a better score, the best epoch's weights kept,
``max_minutes`` and ``resume``.

Batches are runs of (sentence, holder) requests holding about ``batch_size`` judgements
(:func:`~stancekit.training.packed_train.request_batches`), fixed by the seed; each epoch
shuffles them and each step seeds its dropout, so a resumed run repeats the steps an
uninterrupted one would take. A checkpoint (trainable weights, optimizer, scheduler, the
best score so far) is written to ``<work>/packed-checkpoint`` after each epoch.

Example::

    >>> from stancekit import finetune
    >>> res = finetune("seeds/csto-armenia-2022-11-28.gold.jsonl", base="fast",
    ...                out="/tmp/sk-ft", epochs=1, min_per_class=1, quiet=True)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from stancekit.finetuning.args import FineTuneArgs
from stancekit.scoring.model import StanceModel
from stancekit.scoring.packing import encode_packed
from stancekit.training.data import Example
from stancekit.training.loop import load_checkpoint, save_checkpoint, trainable
from stancekit.training.packed_train import PackedTrainingSet
from stancekit.training.runtime import warmup_linear_decay
from stancekit.training.trainer import masked_two_head_loss

__all__ = ["PackedFit", "dev_score", "fit_packed"]


@dataclass(frozen=True)
class PackedFit:
    """What :func:`fit_packed` did: the step whose weights were kept (None when the dev set
    was never scored), the planned steps and the steps taken."""

    best_step: int | None
    steps: int
    global_step: int


def dev_score(sm: StanceModel, dev: Sequence[Example], head: str) -> float:
    """Macro-F1 of ``head`` (``"stance"`` or ``"sentiment"``) on the labelled ``dev``
    examples, over the labels the gold uses (as the per-pair run's ``compute_metrics``).

    >>> dev_score(None, [], "stance")  # type: ignore[arg-type]
    0.0
    """
    from sklearn.metrics import f1_score

    labelled = [e for e in dev if getattr(e, head) is not None]
    if not labelled:
        return 0.0
    sm.model.eval()
    probs = getattr(sm.predict([e.pair for e in labelled]), head)
    y = np.array([getattr(e, head) for e in labelled])
    return float(f1_score(y, probs.argmax(1), average="macro", labels=sorted(set(y.tolist()))))


def _save_weights(model: torch.nn.Module, path: Path) -> None:
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    save_file({n: p.detach().contiguous() for n, p in trainable(model).items()}, str(tmp))
    os.replace(tmp, path)


def _load_weights(model: torch.nn.Module, path: Path) -> None:
    from safetensors.torch import load_file

    weights = load_file(str(path))
    with torch.no_grad():
        for n, p in trainable(model).items():
            p.copy_(weights[n])


def fit_packed(
    sm: StanceModel,
    rows: Sequence[tuple[Example, float]],
    dev: Sequence[Example],
    args: FineTuneArgs,
    *,
    work: Path,
    head: str,
    resume: bool = False,
    quiet: bool = False,
) -> PackedFit:
    """Train the packed ``sm`` in place on weighted ``rows``, scoring ``dev`` (``head``'s
    macro-F1) after each epoch, and leave it with the best epoch's weights."""
    from tqdm.auto import tqdm

    ts = PackedTrainingSet.build(rows, args.batch_size, seed=args.seed)
    requests, members, batches = ts.requests, ts.members, ts.batches
    per_epoch = len(batches)
    total = math.ceil(args.epochs * per_epoch)
    st, se, wt = ts.stance, ts.sentiment, ts.weight
    model = sm.model
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.learning_rate, weight_decay=args.weight_decay)
    sched = warmup_linear_decay(
        opt, warmup_steps=math.ceil(args.warmup_ratio * total), total_steps=total
    )
    ckpt, best_file, progress = (
        work / "packed-checkpoint",
        work / "best.safetensors",
        work / "packed-progress.json",
    )
    step, loss_sum = 0, 0.0
    best, best_step, bad = -math.inf, None, 0
    if resume and (ckpt / "step.json").is_file() and progress.is_file():
        step, loss_sum, _ = load_checkpoint(ckpt, model, opt, sched)
        state = json.loads(progress.read_text())
        best, best_step, bad = state["best"], state["best_step"], state["bad_epochs"]
        if not quiet:
            print(f"resuming the packed model from step {step} of {total}")
    t0 = time.monotonic()
    bar = tqdm(total=total, initial=step, disable=quiet, desc="fine-tuning (packed)")
    while step < total:
        epoch, b = divmod(step, per_epoch)
        part = batches[int(np.random.default_rng([args.seed, epoch]).permutation(per_epoch)[b])]
        model.train()
        torch.manual_seed(args.seed * 1_000_003 + step)  # dropout: resumable
        pb = encode_packed(
            sm.tokenizer,
            [requests[r] for r in part],
            max_length=sm.config.max_length,
            stride=sm.config.window_stride,
        )
        if pb.slots:
            ex = [members[part[s.request]][s.target] for s in pb.slots]
            loss = masked_two_head_loss(model(pb.tensors, pb.slots).float(), st[ex], se[ex], wt[ex])
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            loss_sum += float(loss.detach())
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        bar.update(1)
        out_of_time = args.max_minutes is not None and time.monotonic() - t0 > args.max_minutes * 60
        if step % per_epoch and step < total and not out_of_time:
            continue
        score = dev_score(sm, dev, head)
        if score > best:
            best, best_step, bad = score, step, 0
            _save_weights(model, best_file)
        else:
            bad += 1
        bar.set_postfix(dev_macro_f1=f"{score:.3f}", best=f"{best:.3f}")
        tmp = progress.with_name(progress.name + ".tmp")
        tmp.write_text(json.dumps({"best": best, "best_step": best_step, "bad_epochs": bad}))
        os.replace(tmp, progress)
        save_checkpoint(ckpt, model, opt, sched, step, loss_sum, time.monotonic() - t0)
        if out_of_time or bad >= args.early_stopping_patience:
            break
    bar.close()
    if best_file.is_file():
        _load_weights(model, best_file)
    model.eval()
    return PackedFit(best_step=best_step, steps=total, global_step=step)
