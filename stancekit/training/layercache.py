"""The frozen lower layers' outputs, computed once and kept on disk.

When only the top layers of an encoder are trained (LoRA on layers ``k..n``), the hidden
states entering layer ``k`` never change: :func:`build_cache` computes them once for
every tokenized training input (bfloat16 matmuls, stored as bfloat16) and every epoch,
ablation and resumed run reads them back instead of running the lower layers again.

The cache is a folder: ``states.bin`` (all inputs' token states back to back, bfloat16
bits as int16), ``index.npy`` (each input's first row and length) and ``meta.json`` (the
key it was made for, how many inputs are done and the seconds spent on them). It is
filled in length-sorted chunks and resumes from the last finished chunk; a folder made for
other inputs, another layer or another base is refused.

Example:
    >>> import numpy as np
    >>> index_for([[0, 5, 2], [0, 2]])
    array([[0, 3],
           [3, 2]])
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["LayerCache", "build_cache", "cache_key", "index_for"]


def index_for(input_ids: Sequence[Sequence[int]]) -> np.ndarray:
    """``(n, 2)`` int64: each input's first row in ``states.bin`` and its length."""
    lens = np.array([len(x) for x in input_ids], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]) if len(lens) else lens
    return np.stack([starts, lens], axis=1)


def cache_key(input_ids: Sequence[Sequence[int]], layer: int, base_sha256: str) -> str:
    """A SHA-256 of the inputs, the layer and the base weights' SHA-256."""
    h = hashlib.sha256(f"{layer}:{base_sha256}:".encode())
    for ids in input_ids:
        h.update(np.asarray(ids, dtype=np.int32).tobytes())
        h.update(b"|")
    return h.hexdigest()


class LayerCache:
    """Read access to a finished cache folder."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.meta = json.loads((self.folder / "meta.json").read_text())
        self.index = np.load(self.folder / "index.npy")
        self.hidden = int(self.meta["hidden"])
        rows = int(self.index[:, 1].sum())
        self.states = np.memmap(
            self.folder / "states.bin", dtype=np.int16, mode="r", shape=(rows, self.hidden)
        )

    def __len__(self) -> int:
        return len(self.index)

    def batch(self, ids: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """``(states, attention_mask)`` of inputs ``ids``, right-padded to the longest:
        bfloat16 ``(b, seq, hidden)`` and int64 ``(b, seq)``."""
        lens = [int(self.index[i, 1]) for i in ids]
        width = max(lens)
        out = np.zeros((len(ids), width, self.hidden), dtype=np.int16)
        mask = np.zeros((len(ids), width), dtype=np.int64)
        for row, (i, n) in enumerate(zip(ids, lens, strict=True)):
            s = int(self.index[i, 0])
            out[row, :n] = self.states[s : s + n]
            mask[row, :n] = 1
        return torch.from_numpy(out).view(torch.bfloat16), torch.from_numpy(mask)


def _lower_layers(
    encoder: Any, input_ids: torch.Tensor, mask: torch.Tensor, k: int
) -> torch.Tensor:
    """Hidden states entering layer ``k`` of an MPNet ``encoder``."""
    from stancekit.scoring.pairmodel import run_layers

    hidden = encoder.embeddings(input_ids=input_ids)
    return run_layers(encoder, hidden, mask, encoder.encoder.layer[:k])


def build_cache(
    encoder: Any,
    input_ids: Sequence[Sequence[int]],
    folder: str | Path,
    *,
    layer: int,
    base_sha256: str,
    pad_id: int,
    batch_size: int = 64,
    bf16: bool = True,
    chunk: int = 2048,
    log: Callable[[str], None] = print,
) -> LayerCache:
    """Compute (or finish) the cache of the states entering ``layer`` for ``input_ids``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    key = cache_key(input_ids, layer, base_sha256)
    meta_path = folder / "meta.json"
    index = index_for(input_ids)
    hidden = int(encoder.config.hidden_size)
    rows = int(index[:, 1].sum())
    meta: dict[str, Any] = {"key": key, "layer": layer, "hidden": hidden, "n": len(index)}
    done = 0
    if meta_path.exists():
        old = json.loads(meta_path.read_text())
        if old.get("key") != key:
            raise ValueError(
                f"layer cache {str(folder)!r} was made for other inputs, another layer or "
                "another base; delete the folder or choose another work_dir"
            )
        done = int(old.get("done", 0))
        meta["seconds"] = float(old.get("seconds", 0.0))
    else:
        np.save(folder / "index.npy", index)
        np.memmap(folder / "states.bin", dtype=np.int16, mode="w+", shape=(rows, hidden)).flush()
    order = np.argsort(index[:, 1], kind="stable")
    states = np.memmap(folder / "states.bin", dtype=np.int16, mode="r+", shape=(rows, hidden))
    encoder.eval()
    t0 = time.monotonic()
    start_done = done
    seconds_before = float(meta.get("seconds", 0.0))
    with torch.inference_mode():
        while done < len(order):
            part = order[done : done + chunk]
            for b in range(0, len(part), batch_size):
                ids = part[b : b + batch_size]
                width = int(index[ids, 1].max())
                x = torch.full((len(ids), width), pad_id, dtype=torch.long)
                m = torch.zeros((len(ids), width), dtype=torch.long)
                for r, i in enumerate(ids):
                    seq = input_ids[int(i)]
                    x[r, : len(seq)] = torch.tensor(seq)
                    m[r, : len(seq)] = 1
                with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                    h = _lower_layers(encoder, x, m, layer)
                h16 = h.to(torch.bfloat16).view(torch.int16).numpy()
                for r, i in enumerate(ids):
                    s, n = int(index[i, 0]), int(index[i, 1])
                    states[s : s + n] = h16[r, :n]
            states.flush()
            done += len(part)
            meta["done"] = done
            meta["seconds"] = round(seconds_before + time.monotonic() - t0, 1)
            tmp = meta_path.with_suffix(".tmp")
            tmp.write_text(json.dumps(meta))
            tmp.replace(meta_path)
            dt = time.monotonic() - t0
            rate = (done - start_done) / dt if dt else 0.0
            log(
                f"layer cache: {done}/{len(order)} inputs, {rate:.1f} inputs/s, "
                f"~{(len(order) - done) / rate / 60 if rate else 0:.0f} min left"
            )
    return LayerCache(folder)
