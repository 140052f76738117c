"""Weight averaging, two kinds:

* :func:`average_checkpoints`: the element-wise mean of the last few checkpoints of one
  run (Izmailov et al. 2018, "Averaging Weights Leads to Wider Optima");
* :func:`average_weight_files`: the mean of whole runs, such as runs that share their
  initial weights and differ in data order and dropout (a uniform "model soup",
  Wortsman et al. 2022); the recipe's ``train_seeds`` uses it.

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
from collections.abc import Sequence
from pathlib import Path

import torch

__all__ = ["AveragingError", "average_checkpoints", "average_weight_files", "checkpoint_steps"]

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
    _average_into(model, [p / "model.safetensors" for _, p in earlier], keep_own=True)
    return [p.name for _, p in earlier] + [f"step {step} (in memory)"]


@torch.no_grad()
def average_weight_files(model: torch.nn.Module, files: Sequence[str | Path]) -> int:
    """Set ``model``'s floating-point weights to the mean of the ``model.safetensors``
    ``files`` (the model's own weights only give the names, shapes and dtypes). Returns the
    number of files averaged.

    Raises :class:`AveragingError` when ``files`` is empty or a file's tensors don't match
    the model's names and shapes."""
    if not files:
        raise AveragingError("files=[] must name at least one model.safetensors")
    return _average_into(model, [Path(f) for f in files], keep_own=False)


def _average_into(model: torch.nn.Module, files: list[Path], *, keep_own: bool) -> int:
    """Average the files' tensors (and the model's own when ``keep_own``) into ``model``."""
    from safetensors.torch import load_file

    state = model.state_dict()
    floats = {k: v for k, v in state.items() if v.is_floating_point()}
    sums = {
        k: v.detach().double().clone() if keep_own else torch.zeros_like(v, dtype=torch.float64)
        for k, v in floats.items()
    }
    for p in files:
        if not p.is_file():
            raise AveragingError(f"{p}: no such weights file")
        sd = load_file(str(p))
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
    n = len(files) + int(keep_own)
    for k, v in floats.items():
        v.copy_((sums[k] / n).to(v.dtype))
    return n
