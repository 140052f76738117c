"""Batches for the model: which rows share a forward pass.

Both scoring paths (:meth:`stancekit.scoring.model.StanceModel.predict` per pair, and
:func:`stancekit.scoring.packed.pair_logits` per holder) sort their rows by token length and cut the
sorted rows into batches with :func:`batch_spans`: the split that costs least padding, each
batch paying a fixed cost too, under a cap on rows and on padded tokens. Few rows of unlike
length, as in a batch of 16 documents, then still go to batches of like length; cutting
every ``batch_size`` rows padded them by 43% (``benchmarks/README.md``, "Batches planned").

Example:
    >>> batch_spans([12, 12, 13, 40, 41, 90], batch_size=64, max_tokens=2048)
    [(0, 3), (3, 5), (5, 6)]
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np

__all__ = ["BATCH_OVERHEAD_TOKENS", "MAX_BATCH_TOKENS", "batch_spans"]

#: The cap on a batch's padded tokens (rows x the longest row). It bounds the attention
#: scores (rows x heads x length^2; materialised under the packed model's 4-D mask), which
#: set the peak memory of long runs; and past about 3,000 tokens a MiniLM pass got slower per
#: token on 2 cores (``benchmarks/README.md``, "Batches planned").
MAX_BATCH_TOKENS = 2048
#: What :func:`batch_spans` counts a batch's fixed cost as, in padded tokens: measured on 2
#: cores, a MiniLM pass costs about 7 ms plus 0.16 ms per padded token.
BATCH_OVERHEAD_TOKENS = 64


def batch_spans(
    sizes: Sequence[int],
    *,
    batch_size: int,
    max_tokens: int | None,
    overhead: int = BATCH_OVERHEAD_TOKENS,
) -> list[tuple[int, int]]:
    """``(start, end)`` of each batch over rows of these (ascending) sizes: the cheapest
    split into runs of consecutive rows, a batch costing ``overhead`` plus its padded tokens
    (rows x the longest), with at most ``batch_size`` rows and at most ``max_tokens`` padded
    tokens unless one row alone has more (dynamic programming over the split points).
    Rows of unlike length thus go to different batches even when few rows are scored at
    once, as in a batch of documents; long rows come in smaller batches, which keeps the
    attention's ``rows x heads x length^2`` scores, the largest transient, bounded.

    Example:
        >>> batch_spans([10, 10, 20, 40, 40], batch_size=4, max_tokens=60, overhead=8)
        [(0, 2), (2, 3), (3, 4), (4, 5)]
        >>> batch_spans([10, 10, 11, 11], batch_size=4, max_tokens=None, overhead=8)
        [(0, 4)]
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    batch_size = int(batch_size)
    n = len(sizes)
    if not n:
        return []
    size = np.asarray(sizes, dtype=np.float64)
    best = np.zeros(n + 1)
    start = np.zeros(n + 1, dtype=np.int64)
    for i in range(1, n + 1):
        lo = max(0, i - batch_size)
        rows = i - np.arange(lo, i)  # batch (j, i) for j = lo .. i - 1
        padded = rows * size[i - 1]
        cost = best[lo:i] + overhead + padded
        if max_tokens is not None:
            cost[(padded > max_tokens) & (rows > 1)] = np.inf
        j = int(np.argmin(cost))  # the first minimum: the longest batch of equal cost
        best[i], start[i] = cost[j], lo + j
    spans: list[tuple[int, int]] = []
    i = n
    while i > 0:
        spans.append((int(start[i]), i))
        i = int(start[i])
    return spans[::-1]
