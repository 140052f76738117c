"""Training a packed model (recipe ``design: "packed"``, :mod:`stancekit.scoring.packed`).

The recipe's examples are grouped into requests, one per (dataset, document, sentence,
holder, holder mention), each with all its targets, so training reads a sentence once per
holder as scoring does. A batch is a run of requests holding about ``batch_size``
judgements; the loss is the recipe's masked two-head loss over the target slots (example
weights, stance class weights and distillation targets as for per-pair training). The
partition into batches is fixed by the seed (length-sorted within groups, less padding)
and each epoch shuffles the batches, so a step number always names the same batch and a
run resumes from ``<work_dir>/packed-checkpoint`` exactly where it stopped.

Example:
    >>> batches = request_batches([3, 1, 2, 2], [10, 20, 30, 40], 4, seed=0)
    >>> sorted(i for b in batches for i in b)
    [0, 1, 2, 3]
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stancekit.scoring.model import StanceModel
from stancekit.scoring.packing import PackedRequest, encode_packed
from stancekit.training.config import RecipeConfig
from stancekit.training.data import Example
from stancekit.training.loop import StepClock, after_step, load_checkpoint
from stancekit.training.runtime import log, warmup_linear_decay
from stancekit.training.trainer import masked_two_head_loss

__all__ = ["PackedTrainingSet", "group_requests", "request_batches", "train_packed"]


def group_requests(examples: Sequence[Example]) -> tuple[list[PackedRequest], list[list[int]]]:
    """One request per (source, document, sentence, holder, holder mention) of
    ``examples``, and each request's example indices (in target order)."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, e in enumerate(examples):
        p = e.pair
        groups.setdefault((e.source, e.doc_id, p.sentence, p.holder, p.holder_span), []).append(i)
    requests, members = [], []
    for (_, _, sentence, holder, hs), idx in groups.items():
        pairs = [examples[i].pair for i in idx]
        requests.append(
            PackedRequest(
                sentence,
                holder,
                hs,
                tuple(p.target_span for p in pairs),
                tuple(p.target for p in pairs),
            )
        )
        members.append(idx)
    return requests, members


def request_batches(
    sizes: Sequence[int], lengths: Sequence[int], batch_size: int, *, seed: int, group: int = 50
) -> list[list[int]]:
    """A fixed partition of the requests into batches of about ``batch_size`` judgements
    (``sizes``: targets per request): a seeded shuffle, sorted by ``lengths`` (characters)
    within groups of ``group`` batches, then cut greedily."""
    rng = np.random.default_rng([seed, 7])
    order = rng.permutation(len(sizes))
    span = batch_size * group
    out: list[list[int]] = []
    for g in range(0, len(order), span):
        part = order[g : g + span]
        part = part[np.argsort(np.asarray(lengths)[part], kind="stable")]
        batch: list[int] = []
        n = 0
        for r in part.tolist():
            batch.append(r)
            n += sizes[r]
            if n >= batch_size:
                out.append(batch)
                batch, n = [], 0
        if batch:
            out.append(batch)
    return out


@dataclass(frozen=True)
class PackedTrainingSet:
    """Weighted training rows as a packed loop reads them: the (sentence, holder)
    ``requests``, each one's row indices (``members``), the seeded partition into
    ``batches``, and per row the stance and sentiment labels (-100: none) and weights."""

    requests: list[PackedRequest]
    members: list[list[int]]
    batches: list[list[int]]
    stance: torch.Tensor
    sentiment: torch.Tensor
    weight: torch.Tensor

    @classmethod
    def build(
        cls, rows: Sequence[tuple[Example, float]], batch_size: int, *, seed: int
    ) -> PackedTrainingSet:
        """Group ``rows`` (:func:`group_requests`) and cut the batches
        (:func:`request_batches`)."""
        examples = [e for e, _ in rows]
        requests, members = group_requests(examples)
        batches = request_batches(
            [len(m) for m in members], [len(r.sentence) for r in requests], batch_size, seed=seed
        )
        return cls(
            requests,
            members,
            batches,
            torch.tensor([-100 if e.stance is None else e.stance for e in examples]),
            torch.tensor([-100 if e.sentiment is None else e.sentiment for e in examples]),
            torch.tensor([w for _, w in rows], dtype=torch.float32),
        )


def train_packed(
    config: RecipeConfig,
    sm: StanceModel,
    rows: Sequence[tuple[Example, float]],
    *,
    teacher: np.ndarray | None = None,
    alpha: tuple[float, float] = (0.0, 0.0),
) -> dict[str, Any]:
    """Train the packed ``sm`` in place on weighted ``rows`` (``teacher``: calibrated
    probabilities per row, laid out like the logits), resuming from
    ``<work_dir>/packed-checkpoint``. Returns the run's facts."""
    work = Path(config.work_dir)
    examples = [e for e, _ in rows]
    ts = PackedTrainingSet.build(rows, config.batch_size, seed=config.seed)
    requests, members, batches = ts.requests, ts.members, ts.batches
    steps_per_epoch = len(batches)
    max_steps = config.max_steps or math.ceil(steps_per_epoch * config.epochs)
    st, se, wt = ts.stance, ts.sentiment, ts.weight
    soft = None if teacher is None else torch.from_numpy(np.asarray(teacher, dtype=np.float32))
    # unlabelled rows (format "pipeline") learn the teacher alone
    unlabelled = torch.tensor([e.stance is None and e.sentiment is None for e in examples])
    model = sm.model
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    sched = warmup_linear_decay(
        opt, warmup_steps=int(config.warmup_ratio * max_steps), total_steps=max_steps
    )
    ckpt = work / "packed-checkpoint"
    step, loss_sum, seconds_before = 0, 0.0, 0.0
    if (ckpt / "step.json").is_file():
        step, loss_sum, seconds_before = load_checkpoint(ckpt, model, opt, sched)
        log(f"resuming the packed model from step {step} of {max_steps}")
    log(
        f"packed: {len(examples)} judgements in {len(requests)} (sentence, holder) requests "
        f"({len(examples) / max(1, len(requests)):.2f} targets each); {max_steps} steps "
        f"({steps_per_epoch} per epoch)"
    )
    model.train()
    t_run = time.monotonic()
    step0 = step
    clock = StepClock(t_run, step0, seconds_before)  # this run's start, for after_step
    seen = 0
    while step < max_steps:
        epoch, b = divmod(step, steps_per_epoch)
        perm = np.random.default_rng([config.seed, epoch]).permutation(steps_per_epoch)
        part = batches[int(perm[b])]
        # dropout draws from a per-step seed, so a resumed run equals an uninterrupted one
        torch.manual_seed(config.seed * 1_000_003 + step)
        pb = encode_packed(
            sm.tokenizer,
            [requests[r] for r in part],
            max_length=config.max_length,
            stride=config.window_stride,
        )
        if pb.slots:
            ex = [members[part[s.request]][s.target] for s in pb.slots]
            logits = model(pb.tensors, pb.slots)
            loss = masked_two_head_loss(
                logits.float(),
                st[ex],
                se[ex],
                wt[ex],
                teacher=None if soft is None else soft[ex],
                alpha=alpha,
                teacher_only=unlabelled[ex],
            )
            loss.backward()  # type: ignore[no-untyped-call]
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
            seen += len(ex)
            loss_sum += float(loss.detach())
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        if after_step(
            config, clock, ckpt, model, opt, sched, step, max_steps, epoch, loss_sum, seen
        ):
            break
    model.eval()
    return {
        "global_step": step,
        "planned_steps": max_steps,
        "stopped_early": step < max_steps,
        "requests": len(requests),
        "train_seconds_this_run": round(time.monotonic() - t_run, 1),
        "train_seconds_total": round(seconds_before + time.monotonic() - t_run, 1),
        "train_loss": loss_sum / max(1, step),
    }
