from __future__ import annotations

import threading
import time
from collections.abc import Generator

import pytest

from stancekit.engine.prefetch import prefetched


def test_items_come_in_order_each_with_its_prepared_value() -> None:
    got = [(x, f.result()) for x, f in prefetched(range(5), lambda x: x * x)]
    assert got == [(0, 0), (1, 1), (2, 4), (3, 9), (4, 16)]
    assert list(prefetched([], lambda x: x)) == []


def test_the_next_item_is_prepared_while_the_caller_works_on_this_one() -> None:
    started: list[int] = []

    def prepare(x: int) -> int:
        started.append(x)
        time.sleep(0.05)
        return x

    workers: set[str] = set()
    for x, ahead in prefetched([0, 1, 2], prepare):
        ahead.result()
        workers.add(threading.current_thread().name)
        time.sleep(0.2)  # the caller's work: the worker prepares x + 1 meanwhile
        if x < 2:
            assert x + 1 in started
    assert workers == {threading.main_thread().name}


def test_a_failing_preparation_fails_its_item_only() -> None:
    def prepare(x: int) -> int:
        if x == 1:
            raise ValueError("bad item 1")
        return x

    out: list[object] = []
    for _, ahead in prefetched([0, 1, 2], prepare):
        try:
            out.append(ahead.result())
        except ValueError as exc:
            out.append(str(exc))
    assert out == [0, "bad item 1", 2]


def test_stopping_early_waits_for_the_pending_preparation_and_reads_one_ahead() -> None:
    read: list[int] = []
    done: list[int] = []

    def source() -> Generator[int, None, None]:
        for x in range(10):
            read.append(x)
            yield x

    def prepare(x: int) -> int:
        time.sleep(0.05)
        done.append(x)
        return x

    gen = prefetched(source(), prepare)
    _, ahead = next(gen)
    assert ahead.result() == 0
    gen.close()
    assert read == [0, 1] and done == [0, 1]  # item 1 finished before close returned


@pytest.mark.parametrize("n", [1, 2, 7])
def test_every_item_is_prepared_exactly_once(n: int) -> None:
    calls: list[int] = []
    lock = threading.Lock()

    def prepare(x: int) -> int:
        with lock:
            calls.append(x)
        return x

    assert [f.result() for _, f in prefetched(range(n), prepare)] == list(range(n))
    assert calls == list(range(n))
