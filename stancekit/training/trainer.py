"""The recipe's training loop: the masked two-head loss, a :class:`transformers.Trainer`
using it, a time-budget callback, the batch collator and the training arguments.

transformers is imported when :func:`make_trainer` is called, not on import.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch

from stancekit.scoring.model import StanceModel
from stancekit.training.config import RecipeConfig
from stancekit.training.data import STANCE_LABELS
from stancekit.training.runtime import log

__all__ = ["N_STANCE", "make_trainer", "masked_two_head_loss", "trainer_classes"]

N_STANCE = len(STANCE_LABELS)


def masked_two_head_loss(
    logits: torch.Tensor,
    stance_label: torch.Tensor,
    sentiment_label: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    n_stance: int = N_STANCE,
    teacher: torch.Tensor | None = None,
    alpha: float | tuple[float, float] = 0.0,
    teacher_only: torch.Tensor | None = None,
) -> torch.Tensor:
    """Cross-entropy on ``logits[:, :n_stance]`` where ``stance_label >= 0`` plus
    cross-entropy on ``logits[:, n_stance:]`` where ``sentiment_label >= 0``; each head is
    a weighted mean over its labelled rows; a head with no labelled row adds nothing.

    With ``teacher`` (probabilities laid out like ``logits``: stance then sentiment, each
    summing to 1) and ``alpha`` > 0, a labelled row's target is ``(1 - alpha) *
    one_hot(label) + alpha * teacher`` (distillation with the labels kept); a pair
    ``(stance_alpha, sentiment_alpha)`` sets each head's share. Rows marked in
    ``teacher_only`` (a bool per row; unlabelled pairs) learn the teacher's probabilities
    alone on every head they have no label for. A ``teacher`` row of NaN (a pair the
    teacher did not score) learns its labels alone.

    >>> lg = torch.tensor([[2.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    >>> st, se = torch.tensor([0]), torch.tensor([-100])
    >>> plain = masked_two_head_loss(lg, st, se)
    >>> soft = masked_two_head_loss(lg, st, se, teacher=torch.full((1, 6), 1 / 3), alpha=0.5)
    >>> bool(soft > plain)
    True
    """
    if weight is None:
        weight = torch.ones(logits.shape[0], device=logits.device)
    weight = weight.to(logits.dtype)
    total = logits.sum() * 0.0
    alphas = (alpha, alpha) if isinstance(alpha, (int, float)) else alpha
    heads = (
        (slice(0, n_stance), stance_label, alphas[0]),
        (slice(n_stance, None), sentiment_label, alphas[1]),
    )
    scored = None if teacher is None else ~torch.isnan(teacher).any(dim=1)
    for cols, lab, a in heads:
        lg = logits[:, cols]
        labelled = lab >= 0
        soft_only = torch.zeros_like(labelled)
        if teacher is not None and teacher_only is not None and scored is not None:
            soft_only = teacher_only.to(labelled.device) & ~labelled & scored
        mask = labelled | soft_only
        if bool(mask.any()):
            if teacher is not None and scored is not None and (a > 0 or bool(soft_only.any())):
                soft = torch.nan_to_num(teacher[mask][:, cols].float())
                hard = torch.nn.functional.one_hot(lab[mask].clamp(min=0), lg.shape[1]).float()
                a_row = a * scored[mask].float()[:, None]  # unscored rows: the label alone
                mixed = (1 - a_row) * hard + a_row * soft
                target = torch.where(labelled[mask][:, None], mixed, soft)
                logp = torch.log_softmax(lg[mask].float(), dim=-1)
                ce = -(target * logp).sum(dim=-1)
            else:
                ce = torch.nn.functional.cross_entropy(
                    lg[mask].float(), lab[mask], reduction="none"
                )
            w = weight[mask].float()
            total = total + (ce * w).sum() / w.sum()
    return total


def trainer_classes() -> tuple[type, type, type]:
    """``(TwoHeadTrainer, TimeBudget, Collator)``: a :class:`transformers.Trainer` with
    :func:`masked_two_head_loss`, a time-budget callback and the batch collator."""
    from transformers import Trainer, TrainerCallback

    class TwoHeadTrainer(Trainer):  # type: ignore[misc]
        distill_alpha: tuple[float, float] = (0.0, 0.0)  # set by make_trainer

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
            inputs = dict(inputs)
            st = inputs.pop("stance_label")
            se = inputs.pop("sentiment_label")
            w = inputs.pop("weight", None)
            teacher = inputs.pop("teacher", None)
            out = model(**inputs)
            loss = masked_two_head_loss(
                out.logits, st, se, w, teacher=teacher, alpha=self.distill_alpha
            )
            return (loss, out) if return_outputs else loss

    class TimeBudget(TrainerCallback):  # type: ignore[misc]
        """Stops (with a checkpoint) once ``minutes`` of training have passed in this run,
        and logs throughput."""

        def __init__(self, minutes: float | None, batch_size: int, *, verbose: bool = True):
            self.minutes = minutes
            self.verbose = verbose
            self.batch_size = batch_size
            self.t0 = time.monotonic()
            self.step0 = 0

        def on_train_begin(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            self.t0 = time.monotonic()
            self.step0 = state.global_step
            if self.verbose:
                log(f"training from step {state.global_step} of {state.max_steps}")

        def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            if self.minutes is not None and time.monotonic() - self.t0 > self.minutes * 60:
                log(
                    f"max_train_minutes={self.minutes} reached at step {state.global_step}; "
                    "saving and stopping"
                )
                control.should_training_stop = True
                control.should_save = True
            return control

        def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
            if not self.verbose:
                return
            dt = time.monotonic() - self.t0
            steps = state.global_step - self.step0
            rate = steps * self.batch_size / dt if dt > 0 else 0.0
            left = (state.max_steps - state.global_step) * self.batch_size / rate if rate else 0
            log(
                f"step {state.global_step}/{state.max_steps} {json.dumps(logs)} "
                f"{rate:.1f} pairs/s, ~{left / 60:.0f} min left"
            )

    class Collator:
        def __init__(self, tokenizer: Any):
            self.tokenizer = tokenizer

        def __call__(self, feats: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
            keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in feats[0]]
            batch = self.tokenizer.pad(
                [{k: f[k] for k in keys} for f in feats], return_tensors="pt"
            )
            batch = dict(batch)
            batch["stance_label"] = torch.tensor([f["stance_label"] for f in feats])
            batch["sentiment_label"] = torch.tensor([f["sentiment_label"] for f in feats])
            batch["weight"] = torch.tensor([f["weight"] for f in feats], dtype=torch.float32)
            for key in ("h_pos", "t_pos"):  # the marker positions an adapter model pools
                if key in feats[0]:
                    batch[key] = torch.tensor([f[key] for f in feats])
            if "teacher" in feats[0]:
                batch["teacher"] = torch.tensor([f["teacher"] for f in feats], dtype=torch.float32)
            return batch

    return TwoHeadTrainer, TimeBudget, Collator


def make_trainer(
    config: RecipeConfig,
    sm: StanceModel,
    dataset: Any,
    ckpt_dir: Path,
    max_steps: int,
    *,
    seed: int | None = None,
) -> Any:
    """A two-head trainer of ``sm.model`` on ``dataset`` for ``max_steps`` steps, saving
    checkpoints to ``ckpt_dir`` and logging through :func:`~.runtime.log` only. ``seed``
    (default ``config.seed``) sets the data order and dropout."""
    from transformers import TrainingArguments
    from transformers.trainer_callback import PrinterCallback

    TwoHeadTrainer, TimeBudget, Collator = trainer_classes()
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        max_steps=max_steps,
        warmup_steps=int(config.warmup_ratio * max_steps),
        lr_scheduler_type="linear",
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed if seed is None else seed,
        data_seed=config.seed if seed is None else seed,
        use_cpu=True,
        report_to=[],
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        remove_unused_columns=False,
        label_names=["stance_label", "sentiment_label"],
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        disable_tqdm=True,
    )
    trainer = TwoHeadTrainer(
        model=sm.model,
        args=args,
        train_dataset=dataset,
        data_collator=Collator(sm.tokenizer),
        callbacks=[TimeBudget(config.max_train_minutes, config.batch_size)],
    )
    trainer.distill_alpha = config.distill_alphas
    trainer.remove_callback(PrinterCallback)  # TimeBudget logs already
    return trainer
