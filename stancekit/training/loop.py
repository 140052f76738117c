"""The steps every hand-written training loop of the recipe shares (the adapter's and the
packed model's): checkpoints of the trainable weights with the optimizer and scheduler,
written atomically and read back exactly, and the bookkeeping after each step (progress
line, time budget, checkpoint).

Example:
    >>> import torch
    >>> sorted(trainable(torch.nn.Linear(2, 1)))
    ['bias', 'weight']
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from stancekit.errors import RecipeError
from stancekit.training.config import RecipeConfig
from stancekit.training.runtime import log

__all__ = ["StepClock", "after_step", "load_checkpoint", "save_checkpoint", "trainable"]


def trainable(model: torch.nn.Module) -> dict[str, torch.nn.Parameter]:
    """The parameters that train, by name."""
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


def save_checkpoint(
    folder: Path,
    model: torch.nn.Module,
    opt: Any,
    sched: Any,
    step: int,
    loss_sum: float,
    seconds: float,
) -> None:
    """Trainable weights (safetensors), optimizer and scheduler state, step; atomically."""
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    tmp.mkdir(parents=True, exist_ok=True)
    save_file(
        {n: p.detach().contiguous() for n, p in trainable(model).items()},
        str(tmp / "trainable.safetensors"),
    )
    torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()}, tmp / "state.pt")
    info = {"step": step, "loss_sum": loss_sum, "train_seconds_total": round(seconds, 1)}
    (tmp / "step.json").write_text(json.dumps(info))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    if old.exists():
        for f in old.iterdir():
            f.unlink()
        old.rmdir()


def load_checkpoint(
    folder: Path, model: torch.nn.Module, opt: Any, sched: Any
) -> tuple[int, float, float]:
    """Restore a checkpoint; returns ``(step, summed loss, training seconds so far)``."""
    from safetensors.torch import load_file

    weights = load_file(str(folder / "trainable.safetensors"))
    params = trainable(model)
    if set(weights) != set(params):
        raise RecipeError(
            f"checkpoint {str(folder)!r} holds other weights than this recipe trains "
            "(another adapter setting or design?); delete it or choose another work_dir"
        )
    with torch.no_grad():
        for n, p in params.items():
            p.copy_(weights[n])
    state = torch.load(folder / "state.pt", weights_only=True)
    opt.load_state_dict(state["optimizer"])
    sched.load_state_dict(state["scheduler"])
    info = json.loads((folder / "step.json").read_text())
    return int(info["step"]), float(info["loss_sum"]), float(info.get("train_seconds_total", 0))


@dataclass(frozen=True)
class StepClock:
    """When this run started (``time.monotonic()``), at which step, and the training
    seconds of the runs before it."""

    started: float
    first_step: int
    seconds_before: float


def after_step(
    config: RecipeConfig,
    clock: StepClock,
    ckpt: Path,
    model: torch.nn.Module,
    opt: Any,
    sched: Any,
    step: int,
    max_steps: int,
    epoch: int,
    loss_sum: float,
    seen: int,
) -> bool:
    """After step ``step``: a progress line every ``logging_steps`` (``seen`` judgements
    since the run started), a checkpoint every ``save_steps``, at the end and when
    ``max_train_minutes`` ran out. True when the time budget says stop."""
    now = time.monotonic()
    dt = now - clock.started
    if step % config.logging_steps == 0 or step == max_steps:
        rate = seen / dt if dt else 0.0
        left = (max_steps - step) * dt / (step - clock.first_step) / 60 if dt else 0.0
        log(
            f"step {step}/{max_steps} (epoch {epoch + 1}) loss {loss_sum / step:.4f} "
            f"lr {sched.get_last_lr()[0]:.2e} {rate:.1f} pairs/s, ~{left:.0f} min left"
        )
    out_of_time = config.max_train_minutes is not None and dt > config.max_train_minutes * 60
    if step % config.save_steps == 0 or step == max_steps or out_of_time:
        save_checkpoint(ckpt, model, opt, sched, step, loss_sum, clock.seconds_before + dt)
    if out_of_time:
        log(f"max_train_minutes={config.max_train_minutes} reached at step {step}; stopping")
    return out_of_time
