"""Batches of like length: the cheapest split of sorted rows under the row and token caps."""

from __future__ import annotations

import itertools

import pytest

from stancekit.scoring.batching import batch_spans

SIZES = sorted([5, 9, 14, 14, 30, 31, 48, 60, 90, 130, 130, 131])


def _cost(sizes: list[int], spans: list[tuple[int, int]], overhead: int) -> int:
    return sum(overhead + (hi - lo) * sizes[hi - 1] for lo, hi in spans)


def _all_splits(n: int) -> list[list[tuple[int, int]]]:
    """Every split of n consecutive rows into non-empty runs."""
    out = []
    for cuts in itertools.product((False, True), repeat=n - 1):
        bounds = [0] + [i + 1 for i, c in enumerate(cuts) if c] + [n]
        out.append(list(itertools.pairwise(bounds)))
    return out


@pytest.mark.parametrize("max_tokens", [None, 1, 60, 4096])
def test_batches_cover_every_row_once_within_the_row_and_token_caps(
    max_tokens: int | None,
) -> None:
    spans = batch_spans(SIZES, batch_size=4, max_tokens=max_tokens)
    assert [i for lo, hi in spans for i in range(lo, hi)] == list(range(len(SIZES)))
    for lo, hi in spans:
        assert 1 <= hi - lo <= 4
        if max_tokens is not None and hi - lo > 1:  # a row alone may be over the cap
            assert (hi - lo) * SIZES[hi - 1] <= max_tokens
    if max_tokens == 1:
        assert len(spans) == len(SIZES)
    assert batch_spans([], batch_size=4, max_tokens=60) == []


@pytest.mark.parametrize("overhead", [0, 8, 64, 1000])
@pytest.mark.parametrize("max_tokens", [None, 100, 300])
def test_the_split_costs_no_more_than_any_other_split_within_the_caps(
    overhead: int, max_tokens: int | None
) -> None:
    sizes = SIZES[:10]
    allowed = [
        s
        for s in _all_splits(len(sizes))
        if all(
            hi - lo <= 4
            and (max_tokens is None or hi - lo == 1 or (hi - lo) * sizes[hi - 1] <= max_tokens)
            for lo, hi in s
        )
    ]
    got = batch_spans(sizes, batch_size=4, max_tokens=max_tokens, overhead=overhead)
    assert got in allowed
    assert _cost(sizes, got, overhead) == min(_cost(sizes, s, overhead) for s in allowed)


def test_rows_of_unlike_length_go_to_separate_batches_and_like_rows_share_one() -> None:
    sizes = [10] * 20 + [100] * 5
    assert batch_spans(sizes, batch_size=64, max_tokens=2048, overhead=64) == [(0, 20), (20, 25)]


def test_a_zero_overhead_gives_no_padding_at_all() -> None:
    spans = batch_spans(SIZES, batch_size=64, max_tokens=None, overhead=0)
    assert all(SIZES[lo] == SIZES[hi - 1] for lo, hi in spans)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_a_batch_size_that_is_not_a_positive_int_is_refused_by_name(bad: object) -> None:
    with pytest.raises(ValueError, match=r"batch_size must be a positive int, got"):
        batch_spans([1, 2], batch_size=bad, max_tokens=None)  # type: ignore[arg-type]
