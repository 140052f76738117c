"""The inputs of one pass per holder (:mod:`stancekit.scoring.packed`): a holder's sentence
with every target to judge there (:class:`PackedRequest`), its encoder rows with levitated
markers (:func:`encode_packed`: position ids, the 4-D attention mask, the windows of a long
sentence), the slots the head pools (:func:`slot_index`), and the order and batches to
score requests in (:func:`requests_for_pairs`, :func:`batch_plan`).

Example:
    >>> req = PackedRequest("Zas praised the CSTO and Armenia.", "Zas", (0, 3),
    ...                     ((16, 20), (25, 32)))
    >>> marked_sentence(req)
    '<h> Zas </h> praised the CSTO and Armenia.'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from stancekit.scoring.batching import MAX_BATCH_TOKENS, batch_spans
from stancekit.scoring.modelconfig import PairInput, Template

__all__ = [
    "AUTHOR",
    "HOLDER_MARKERS",
    "LEVITATED_MARKERS",
    "PHRASE_TOKENS",
    "PackedBatch",
    "PackedRequest",
    "Slot",
    "batch_plan",
    "encode_packed",
    "marked_sentence",
    "requests_for_pairs",
    "row_sizes",
    "slot_index",
]


#: The two tokens that stand for a target's mention (single tokens of the BERT vocabulary
#: that pretraining never used).
LEVITATED_MARKERS = ("[unused0]", "[unused1]")
#: The holder markers and the author's name of the per-pair template, so that both
#: designs read the holder alike.
_TEMPLATE = Template()
HOLDER_MARKERS = _TEMPLATE.holder_markers
AUTHOR = _TEMPLATE.author


@dataclass(frozen=True)
class PackedRequest:
    """One holder in one sentence, with every target to judge there.

    ``holder_span`` and ``target_spans`` are character offsets into ``sentence``;
    ``holder`` None (and no span) is the text's own voice. A target the sentence does not
    name (a topic such as "nuclear power", a role noun the pipeline could not place) has the
    span None and its name in ``target_names`` (one entry per target; names of targets with
    a span are not read)."""

    sentence: str
    holder: str | None
    holder_span: tuple[int, int] | None
    target_spans: tuple[tuple[int, int] | None, ...]
    target_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, span in [("holder_span", self.holder_span)] + [
            (f"target_spans[{i}]", s) for i, s in enumerate(self.target_spans)
        ]:
            if span is not None and not 0 <= span[0] < span[1] <= len(self.sentence):
                raise ValueError(
                    f"PackedRequest: {name}={span} is not a non-empty span of the sentence "
                    f"of length {len(self.sentence)}"
                )
        if self.target_names and len(self.target_names) != len(self.target_spans):
            raise ValueError(
                f"PackedRequest: target_names has {len(self.target_names)} names for "
                f"{len(self.target_spans)} targets; give one name per target (or none)"
            )
        for i, span in enumerate(self.target_spans):
            if span is None and not (self.target_names and self.target_names[i].strip()):
                raise ValueError(
                    f"PackedRequest: target_spans[{i}] is None and the target has no name; "
                    "give its name in target_names"
                )


def _shift(req: PackedRequest) -> tuple[int, int]:
    """Characters the holder markers add before and inside the holder mention."""
    if req.holder_span is None:
        return 0, 0
    return len(HOLDER_MARKERS[0]) + 1, len(HOLDER_MARKERS[0]) + len(HOLDER_MARKERS[1]) + 2


def marked_sentence(req: PackedRequest) -> str:
    """The sentence with the holder mention wrapped in its markers (the per-pair
    template's second segment, without target markers)."""
    return _TEMPLATE.format(PairInput(req.sentence, req.holder, "", req.holder_span, None))[1]


def _marked_offset(req: PackedRequest, c: int) -> int:
    """Where character ``c`` of the sentence is in :func:`marked_sentence`."""
    if req.holder_span is None:
        return c
    inside, after = _shift(req)
    a, b = req.holder_span
    return c + (after if c >= b else inside if c >= a else 0)


#: Tokens of a target name read as a levitated phrase (a target the sentence does not name).
PHRASE_TOKENS = 16


@dataclass(frozen=True)
class Slot:
    """One target in one window: instance row, marker columns, holder column."""

    window: int
    request: int
    target: int
    h_pos: int
    holder_in: bool
    t_open: int
    t_close: int


@dataclass(frozen=True)
class PackedBatch:
    """What :func:`encode_packed` builds: ``tensors`` for the encoder (``input_ids``,
    ``token_type_ids``, ``position_ids`` and a 4-D additive ``attention_mask``), one row per
    window; the ``slots`` to pool (one per target and window holding it); each row's
    ``lengths`` in tokens (text and markers, padding aside) and its ``requests`` index."""

    tensors: dict[str, torch.Tensor]
    slots: list[Slot]
    lengths: list[int]
    requests: list[int]


def encode_packed(
    tokenizer: Any,
    requests: Sequence[PackedRequest],
    *,
    max_length: int,
    stride: int,
    markers: tuple[str, str] = LEVITATED_MARKERS,
) -> PackedBatch:
    """The encoder's input for ``requests``, one row per window (see :class:`PackedBatch`)."""
    ids = tokenizer.convert_tokens_to_ids(list(markers))
    if tokenizer.unk_token_id in ids:
        raise ValueError(
            f"markers={markers!r}: the tokenizer has no single token for "
            f"{[m for m, i in zip(markers, ids, strict=True) if i == tokenizer.unk_token_id]}; "
            "pass two tokens of its vocabulary"
        )
    enc = tokenizer(
        [r.holder or AUTHOR for r in requests],
        [marked_sentence(r) for r in requests],
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
    )
    phrases = _phrase_ids(tokenizer, requests)
    rows: list[tuple[list[int], list[int], list[int], int]] = []
    blocks: list[list[tuple[int, int]]] = []  # each row's levitated blocks (start, end)
    slots: list[Slot] = []
    for w, r in enumerate(enc["overflow_to_sample_mapping"]):
        req, e = requests[r], enc.encodings[w]
        n = len(e.ids)
        # the opening holder marker starts where the holder mention started
        h_tok = None if req.holder_span is None else e.char_to_token(req.holder_span[0], 1)
        tokens, types, pos = list(e.ids), list(e.type_ids), list(range(n))
        row_blocks: list[tuple[int, int]] = []
        for t, span in enumerate(req.target_spans):
            if span is None:  # the name, levitated after the text: [m0] name [m1]
                block = [ids[0], *phrases[(r, t)], ids[1]]
                block_pos = list(range(n, n + len(block)))
            else:
                first = e.char_to_token(_marked_offset(req, span[0]), 1)
                last = e.char_to_token(_marked_offset(req, span[1] - 1), 1)
                if first is None or last is None:
                    continue  # the mention is not (wholly) in this window
                block, block_pos = list(ids), [first, last]
            col = len(tokens)
            tokens += block
            types += [1] * len(block)
            pos += block_pos
            row_blocks.append((col, col + len(block)))
            slots.append(Slot(w, r, t, h_tok or 0, h_tok is not None, col, col + len(block) - 1))
        rows.append((tokens, types, pos, n))
        blocks.append(row_blocks)
    width = max(len(t) for t, _, _, _ in rows)
    batch = len(rows)
    input_ids = torch.full((batch, width), tokenizer.pad_token_id, dtype=torch.long)
    type_ids = torch.zeros((batch, width), dtype=torch.long)
    position_ids = torch.zeros((batch, width), dtype=torch.long)
    allowed = torch.zeros((batch, width, width), dtype=torch.bool)
    for i, (tokens, types, pos, n) in enumerate(rows):
        m = len(tokens)
        input_ids[i, :m] = torch.tensor(tokens)
        type_ids[i, :m] = torch.tensor(types)
        position_ids[i, :m] = torch.tensor(pos)
        allowed[i, :, :n] = True  # every row reads the text (padding rows too: no NaN)
        for a, b in blocks[i]:  # a target's block also reads itself, and no other block
            allowed[i, a:b, a:b] = True
    mask = torch.zeros((batch, 1, width, width))
    mask.masked_fill_(~allowed[:, None], torch.finfo(mask.dtype).min)
    batch_tensors = {
        "input_ids": input_ids,
        "token_type_ids": type_ids,
        "position_ids": position_ids,
        "attention_mask": mask,
    }
    return PackedBatch(
        batch_tensors,
        slots,
        [len(t) for t, _, _, _ in rows],
        [int(r) for r in enc["overflow_to_sample_mapping"]],
    )


def _phrase_ids(
    tokenizer: Any, requests: Sequence[PackedRequest]
) -> dict[tuple[int, int], list[int]]:
    """The tokens (at most :data:`PHRASE_TOKENS`) of each target without a span, by
    ``(request, target)``."""
    keys = [
        (r, t) for r, q in enumerate(requests) for t, s in enumerate(q.target_spans) if s is None
    ]
    if not keys:
        return {}
    names = [requests[r].target_names[t] for r, t in keys]
    enc = tokenizer(names, add_special_tokens=False)["input_ids"]
    return {k: list(x[:PHRASE_TOKENS]) for k, x in zip(keys, enc, strict=True)}


def slot_index(slots: Sequence[Slot]) -> tuple[torch.Tensor, torch.Tensor]:
    """``(rows, cols)`` of the slots for :meth:`LevitatedHead.forward_at`: each slot's
    window row and its four pooled columns."""
    rows = torch.tensor([s.window for s in slots], dtype=torch.long)
    cols = torch.tensor([[0, s.h_pos, s.t_open, s.t_close] for s in slots], dtype=torch.long)
    return rows, cols.reshape(len(slots), 4)


def requests_for_pairs(
    pairs: Sequence[PairInput],
) -> tuple[list[PackedRequest], list[tuple[int, int]]]:
    """One request per (sentence, holder, holder mention) of ``pairs``, in first-seen
    order, and where each pair's target is: ``(request, target)``."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, p in enumerate(pairs):
        groups.setdefault((p.sentence, p.holder, p.holder_span), []).append(i)
    requests: list[PackedRequest] = []
    where: list[tuple[int, int]] = [(0, 0)] * len(pairs)
    for r, ((sentence, holder, hs), members) in enumerate(groups.items()):
        requests.append(
            PackedRequest(
                sentence,
                holder,
                hs,
                tuple(pairs[i].target_span for i in members),
                tuple(pairs[i].target for i in members),
            )
        )
        for t, i in enumerate(members):
            where[i] = (r, t)
    return requests, where


def row_sizes(tokenizer: Any, requests: Sequence[PackedRequest]) -> list[int]:
    """About how many tokens each request's row has: holder, marked sentence, two markers
    per target, a phrase's words (a request longer than a window makes several rows)."""
    if not requests:
        return []
    enc = tokenizer(
        [r.holder or AUTHOR for r in requests],
        [marked_sentence(r) for r in requests],
    )["input_ids"]
    return [
        len(ids)
        + sum(
            2 if s is not None else 2 + len(n.split())
            for s, n in zip(
                r.target_spans, r.target_names or ("",) * len(r.target_spans), strict=True
            )
        )
        for ids, r in zip(enc, requests, strict=True)
    ]


def batch_plan(
    tokenizer: Any,
    requests: Sequence[PackedRequest],
    *,
    batch_size: int,
    max_tokens: int | None = MAX_BATCH_TOKENS,
) -> tuple[list[int], list[tuple[int, int]]]:
    """The order to score ``requests`` in, by :func:`row_sizes` (so that a batch holds rows
    of like length), and the batches over that order (:func:`batch_spans`). Sorting by row
    tokens rather than by the sentence's characters cut the padded tokens of
    throughput.py's 699 rows (batches of 64) from 41% to 14%; planning the cuts, to 3.4%."""
    size = row_sizes(tokenizer, requests)
    order = sorted(range(len(requests)), key=size.__getitem__)
    sizes = [size[r] for r in order]
    return order, batch_spans(sizes, batch_size=batch_size, max_tokens=max_tokens)
