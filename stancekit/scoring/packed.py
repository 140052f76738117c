"""One pass per holder: a sentence read once for all its targets (packed levitated markers).

Per-pair scoring reads a sentence once per (holder, target). Here a holder's sentence is
read once for every target in it, as in PL-Marker (Ye et al. 2022, "Packed Levitated
Marker for Entity and Relation Extraction"), after PURE (Zhong & Chen 2021):

- the encoder reads ``[CLS] holder [SEP] sentence [SEP]`` with the holder mention wrapped
  in ``<h> … </h>`` in the text (the holder is the instance's *subject*), then two
  *levitated* marker tokens per target, an opening and a closing one, whose position ids
  are those of the first and last tokens of the target's mention;
- text tokens attend only to text tokens, so their states do not depend on which targets
  are packed; each target's two markers attend to the text and to each other only;
- the head reads ``[CLS]``, the holder's opening marker and the target's two markers;
- a target the sentence does not name (a topic, a free-text claim) is read as a levitated
  *phrase*: its name between the two marker tokens, after the text (position ids following
  the text's), attending to the text and to itself only, so it packs like a mention.

So scoring ``k`` targets costs one pass over ``n + 2k`` tokens instead of ``k`` passes over
about ``n``, and packing changes no probability: a target scored with four others gets the
logits it gets alone, up to float rounding (``tests/test_packed.py`` checks 1e-4).

Long sentences keep working as in :class:`~stancekit.scoring.model.StanceModel`: the marked
sentence is cut into overlapping windows (``max_length`` tokens, ``stride`` of overlap),
which depend on the sentence and the holder only; a target is packed into each window that
holds its mention, and its logits are averaged over the windows that also hold the holder
mention (all of its windows when none does), the rule of per-pair scoring.

The inputs (requests, encoder rows, slots, batches) are :mod:`stancekit.scoring.packing`;
this module holds the model, its scoring and its files.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stancekit.scoring.batching import MAX_BATCH_TOKENS
from stancekit.scoring.modelconfig import PairInput
from stancekit.scoring.packing import (
    PackedRequest,
    Slot,
    batch_plan,
    encode_packed,
    requests_for_pairs,
    slot_index,
)
from stancekit.scoring.pairmodel import PairHead

__all__ = [
    "LevitatedHead",
    "PackedOutput",
    "PackedPairModel",
    "load_packed_model",
    "pair_logits",
    "save_packed_model",
    "score_packed",
]


class LevitatedHead(PairHead):
    """:class:`~stancekit.scoring.pairmodel.PairHead` over
    ``[CLS; <h>; target open; target close]``."""

    def __init__(self, hidden_size: int, num_labels: int, *, dropout: float = 0.1):
        super().__init__(hidden_size, num_labels, pooling="markers", dropout=dropout)
        self.dense = nn.Linear(4 * hidden_size, hidden_size)

    def forward_at(
        self, hidden: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor
    ) -> torch.Tensor:
        """Logits of the slots at ``rows`` (``(n,)``) and columns ``cols`` (``(n, 4)``:
        ``[CLS]``, holder marker, target open and close; see :func:`slot_index`)."""
        x = hidden[rows[:, None], cols].reshape(rows.shape[0], -1)
        x = self.dropout(torch.tanh(self.dense(self.dropout(x))))
        logits: torch.Tensor = self.out_proj(x)
        return logits

    def forward_slots(self, hidden: torch.Tensor, slots: Sequence[Slot]) -> torch.Tensor:
        rows, cols = slot_index(slots)
        return self.forward_at(hidden, rows.to(hidden.device), cols.to(hidden.device))


class PackedPairModel(nn.Module):
    """An encoder (``AutoModel``) and a :class:`LevitatedHead`: one pass per window of a
    holder's sentence gives the logits of every target in it."""

    #: :class:`~stancekit.scoring.model.StanceModel` scores with :func:`score_packed` for models
    #: that say so
    packs_targets = True

    def __init__(self, encoder: Any, num_labels: int, *, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        encoder.config.num_labels = num_labels
        hidden = int(encoder.config.hidden_size)
        self.head = LevitatedHead(hidden, num_labels, dropout=dropout)

    @property
    def config(self) -> Any:
        """The encoder's ``transformers`` config (``num_labels`` set to the head's)."""
        return self.encoder.config

    def forward(self, batch: dict[str, torch.Tensor], slots: Sequence[Slot]) -> torch.Tensor:
        """Logits ``(n_slots, num_labels)``, one row per slot of :func:`encode_packed`."""
        device = next(self.parameters()).device
        hidden = self.encoder(**{k: v.to(device) for k, v in batch.items()}).last_hidden_state
        return self.head.forward_slots(hidden, slots)

    def forward_indexed(
        self,
        input_ids: torch.Tensor,
        token_type_ids: torch.Tensor,
        position_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        rows: torch.Tensor,
        cols: torch.Tensor,
    ) -> torch.Tensor:
        """:meth:`forward` on plain tensors (the slots as :func:`slot_index` gives them): the
        form the ONNX export traces."""
        hidden = self.encoder(
            input_ids=input_ids,
            token_type_ids=token_type_ids,
            position_ids=position_ids,
            attention_mask=attention_mask,
        ).last_hidden_state
        return self.head.forward_at(hidden, rows, cols)


@dataclass(frozen=True)
class PackedOutput:
    """What :func:`score_packed` returns: ``logits`` of every (request, target), in request
    then target order (NaN for a mention no window holds whole); ``windows``, how many
    windows each request was read in; and the work done: ``passes`` (encoder rows) and
    ``tokens`` (their summed lengths, text and markers)."""

    logits: np.ndarray
    windows: np.ndarray
    passes: int
    tokens: int


def score_packed(
    model: PackedPairModel,
    tokenizer: Any,
    requests: Sequence[PackedRequest],
    *,
    max_length: int,
    stride: int,
    batch_size: int = 32,
    forward: Callable[[dict[str, torch.Tensor], list[Slot]], np.ndarray] | None = None,
    spans: Sequence[tuple[int, int]] | None = None,
    after_batch: Callable[[], object] | None = None,
) -> PackedOutput:
    """Score every target of every request, one encoder pass per window of each request;
    a target's logits are averaged over the windows the per-pair rule chooses (see the
    module docstring). ``forward`` runs a batch instead of ``model`` (the ONNX backend).
    ``spans``: the batches, as ``(start, end)`` over ``requests`` (:func:`batch_spans`);
    default, ``batch_size`` requests each. ``after_batch`` is called after each batch
    (``StanceModel`` hands the C heap's free pages back there, as for pair models)."""
    model.eval()
    n_out = sum(len(r.target_spans) for r in requests)
    first = np.cumsum([0] + [len(r.target_spans) for r in requests])[:-1]
    by_target: list[list[tuple[bool, np.ndarray]]] = [[] for _ in range(n_out)]
    windows = np.zeros(len(requests), dtype=np.int64)
    passes = tokens = 0
    with torch.inference_mode():
        if spans is None:
            spans = [(lo, lo + batch_size) for lo in range(0, len(requests), batch_size)]
        for lo, hi in spans:
            part = requests[lo:hi]
            pb = encode_packed(tokenizer, part, max_length=max_length, stride=stride)
            passes += len(pb.lengths)
            tokens += sum(pb.lengths)
            np.add.at(windows, lo + np.asarray(pb.requests, dtype=np.int64), 1)
            if not pb.slots:
                continue
            if forward is not None:
                logits = forward(pb.tensors, pb.slots)
            else:
                logits = model(pb.tensors, pb.slots).float().cpu().numpy()
            for s, row in zip(pb.slots, logits, strict=True):
                by_target[int(first[lo + s.request]) + s.target].append((s.holder_in, row))
            if after_batch is not None:
                after_batch()
    width = int(model.head.out_proj.out_features)
    out = np.full((n_out, width), np.nan, dtype=np.float32)
    for i, got in enumerate(by_target):
        if got:
            both = [row for holder_in, row in got if holder_in]
            out[i] = np.mean(both or [row for _, row in got], axis=0)
    return PackedOutput(out, windows, passes, tokens)


def pair_logits(
    model: PackedPairModel,
    tokenizer: Any,
    pairs: Sequence[PairInput],
    *,
    max_length: int,
    stride: int,
    batch_size: int = 32,
    forward: Callable[[dict[str, torch.Tensor], list[Slot]], np.ndarray] | None = None,
    max_tokens: int | None = MAX_BATCH_TOKENS,
    after_batch: Callable[[], object] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Logits of each pair (float32, ``(n, num_labels)``) and whether it was read in
    several windows, packing the pairs that share a sentence and holder. A mention no
    window holds whole (longer than a window) is read as its name instead, as a phrase.
    Rows are scored shortest first, ``batch_size`` at most and about ``max_tokens``
    padded tokens at most per batch (:func:`batch_spans`)."""
    requests, where = requests_for_pairs(pairs)
    order, spans = batch_plan(tokenizer, requests, batch_size=batch_size, max_tokens=max_tokens)
    out = score_packed(
        model,
        tokenizer,
        [requests[r] for r in order],
        max_length=max_length,
        stride=stride,
        batch_size=batch_size,
        forward=forward,
        spans=spans,
        after_batch=after_batch,
    )
    first = np.cumsum([0] + [len(requests[r].target_spans) for r in order])[:-1]
    pos = {r: k for k, r in enumerate(order)}
    rows = np.array([first[pos[r]] + t for r, t in where], dtype=np.int64)
    logits = out.logits[rows] if len(rows) else out.logits[:0]
    windowed = np.array([out.windows[pos[r]] > 1 for r, _ in where], dtype=bool)
    lost = np.flatnonzero(np.isnan(logits).any(axis=1))
    if len(lost):
        again = [replace(pairs[int(i)], target_span=None) for i in lost]
        logits[lost] = pair_logits(
            model,
            tokenizer,
            again,
            max_length=max_length,
            stride=stride,
            batch_size=batch_size,
            forward=forward,
            max_tokens=max_tokens,
            after_batch=after_batch,
        )[0]
    return logits, windowed


def load_packed_model(folder: Path, weights: Path) -> PackedPairModel:
    """A packed model from ``folder``: the encoder's ``config.json`` and one safetensors
    file ``weights`` (the encoder's weights and the head's, as :func:`save_packed_model`
    writes them). Nothing is downloaded; no remote code."""
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel

    cfg = AutoConfig.from_pretrained(folder, local_files_only=True, trust_remote_code=False)
    encoder = AutoModel.from_config(cfg, add_pooling_layer=False)  # type: ignore[no-untyped-call]
    model = PackedPairModel(encoder, int(cfg.num_labels))
    model.load_state_dict(load_file(str(weights)), strict=True)
    return model


def save_packed_model(model: PackedPairModel, folder: Path, weights_name: str) -> None:
    """Write the encoder's ``config.json`` and every weight (encoder and head) as one
    safetensors file ``weights_name`` in ``folder``."""
    from safetensors.torch import save_file

    model.encoder.config.save_pretrained(folder)
    state = {k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}
    save_file(state, str(folder / weights_name), metadata={"format": "pt"})
