"""Checkpoint weight averaging: the recipe's final model can be the element-wise mean of
the last few checkpoints of one run (a cheap relative of averaging several seeds; see
Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima").

Members are the trained model in memory (the last step) plus the newest checkpoints
``<ckpt_dir>/checkpoint-<step>`` saved *before* that step, read from their
``model.safetensors``. Only floating-point tensors are averaged; integer buffers (such
as ``position_ids``) are kept from the model.

Example:
    >>> import torch, tempfile
    >>> from pathlib import Path
    >>> from safetensors.torch import save_file
    >>> m = torch.nn.Linear(2, 1, bias=False)
    >>> _ = torch.nn.init.constant_(m.weight, 3.0)
    >>> d = Path(tempfile.mkdtemp())
    >>> (d / "checkpoint-10").mkdir()
    >>> save_file({"weight": torch.ones(1, 2)}, str(d / "checkpoint-10" / "model.safetensors"))
    >>> average_checkpoints(m, d, last_n=2, step=20)
    ['checkpoint-10', 'step 20 (in memory)']
    >>> m.weight.tolist()
    [[2.0, 2.0]]
"""

from __future__ import annotations

import re
from pathlib import Path

import torch

__all__ = ["AveragingError", "average_checkpoints", "checkpoint_steps"]

_CKPT = re.compile(r"^checkpoint-(\d+)$")


class AveragingError(ValueError):
    """The checkpoints cannot be averaged (too few, or their tensors don't match)."""


def checkpoint_steps(ckpt_dir: str | Path) -> list[tuple[int, Path]]:
    """``(step, folder)`` of every ``checkpoint-<step>`` folder in ``ckpt_dir`` holding a
    ``model.safetensors``, oldest first."""
    d = Path(ckpt_dir)
    found = []
    if d.is_dir():
        for p in d.iterdir():
            m = _CKPT.match(p.name)
            if m and (p / "model.safetensors").is_file():
                found.append((int(m.group(1)), p))
    return sorted(found)


@torch.no_grad()
def average_checkpoints(
    model: torch.nn.Module, ckpt_dir: str | Path, *, last_n: int, step: int
) -> list[str]:
    """Set ``model``'s floating-point weights to the mean of themselves (taken as step
    ``step``) and the ``last_n - 1`` newest checkpoints in ``ckpt_dir`` older than
    ``step``. Returns the members' names, oldest first.

    Raises :class:`AveragingError` when ``last_n`` < 1, when fewer than ``last_n - 1``
    earlier checkpoints exist (raise ``save_total_limit``), or when a checkpoint's tensors
    don't match the model's names and shapes."""
    from safetensors.torch import load_file

    if isinstance(last_n, bool) or not isinstance(last_n, int) or last_n < 1:
        raise AveragingError(f"last_n={last_n!r} must be a positive int (1 = no averaging)")
    if last_n == 1:
        return [f"step {step} (in memory)"]
    earlier = [(s, p) for s, p in checkpoint_steps(ckpt_dir) if s < step][-(last_n - 1) :]
    if len(earlier) < last_n - 1:
        raise AveragingError(
            f"last_n={last_n} needs {last_n - 1} checkpoints older than step {step} in "
            f"{ckpt_dir}, found {len(earlier)}: keep more (save_total_limit) or lower last_n"
        )
    state = model.state_dict()
    floats = {k: v for k, v in state.items() if v.is_floating_point()}
    sums = {k: v.detach().double().clone() for k, v in floats.items()}
    for _, p in earlier:
        sd = load_file(str(p / "model.safetensors"))
        missing = sorted(set(floats) - set(sd))
        if missing:
            raise AveragingError(
                f"{p}: lacks {len(missing)} of the model's tensors (first: {missing[0]!r}); "
                "was it saved from another architecture?"
            )
        for k in floats:
            if sd[k].shape != floats[k].shape:
                raise AveragingError(
                    f"{p}: tensor {k!r} has shape {tuple(sd[k].shape)}, the model's is "
                    f"{tuple(floats[k].shape)}"
                )
            sums[k] += sd[k].double()
    n = len(earlier) + 1
    for k, v in floats.items():
        v.copy_((sums[k] / n).to(v.dtype))
    return [p.name for _, p in earlier] + [f"step {step} (in memory)"]
