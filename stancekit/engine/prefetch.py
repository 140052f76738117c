"""Working one step ahead: while the caller works on item ``k``, a worker thread prepares
item ``k + 1``.

:meth:`StanceAnalyzer.analyze_many(parse_ahead=True) <stancekit.StanceAnalyzer.analyze_many>`
uses it to parse and find the actors of the next batch of documents (spaCy, one core) while
the model scores this one (torch, which releases the GIL). On 2 cores it gains little,
since the model already keeps both busy while it scores: 4.1% end to end on throughput.py's
100 documents (`benchmarks/prefetch_ab.py`, 2026-12-07, default model 0.4.0, median of 5:
90.2 against 86.6 judgements/s). So it is an opt-in: the default keeps one thread.

Example:
    >>> from stancekit.engine.prefetch import prefetched
    >>> [(x, ahead.result()) for x, ahead in prefetched([1, 2, 3], lambda x: x * 10)]
    [(1, 10), (2, 20), (3, 30)]
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

__all__ = ["prefetched"]

T = TypeVar("T")
R = TypeVar("R")


def prefetched(
    items: Iterable[T], prepare: Callable[[T], R], *, name: str = "stancekit-prefetch"
) -> Generator[tuple[T, Future[R]], None, None]:
    """Each item of ``items`` with the future of ``prepare(item)``, in order; the next
    item is taken and its ``prepare`` started in one worker thread before this one is
    yielded, so the caller's work on an item overlaps the preparation of the next.

    ``prepare`` runs one item at a time, in order. An exception it raises comes out of that
    item's ``future.result()``; the items after it are still prepared. Items are read from
    ``items`` one ahead of the caller. If the caller stops early, the pending preparation
    is waited for (not abandoned) before the worker ends."""
    source = iter(items)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=name) as pool:
        try:
            item = next(source)
        except StopIteration:
            return
        ahead = pool.submit(prepare, item)
        for following in source:
            nxt = pool.submit(prepare, following)
            yield item, ahead
            item, ahead = following, nxt
        yield item, ahead
