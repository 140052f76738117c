from __future__ import annotations

import signal
import threading
import time

import pytest

from stancekit.engine.deadline import can_interrupt, time_limit
from stancekit.errors import DocumentTimeoutError, StancekitError

pytestmark = pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="POSIX only")


def test_time_limit_interrupts_a_slow_block_with_the_message() -> None:
    start = time.monotonic()
    with (
        pytest.raises(DocumentTimeoutError, match="doc-7 took too long") as exc,
        time_limit(0.2, "doc-7 took too long"),
    ):
        time.sleep(5)
    assert time.monotonic() - start < 2
    assert isinstance(exc.value, StancekitError) and isinstance(exc.value, TimeoutError)


def test_time_limit_lets_a_fast_block_finish_and_disarms() -> None:
    with time_limit(1.0, "x") as armed:
        assert armed
    time.sleep(1.2)  # no alarm after the block
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_time_limit_restores_the_previous_handler_and_the_outer_timer() -> None:
    fired: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda s, f: fired.append(s))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.8)
        with time_limit(0.5, "inner"):
            time.sleep(0.1)
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0.5 < left < 0.75  # the outer timer runs on, less the time spent inside
        time.sleep(1.0)
        assert fired == [signal.SIGALRM]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_time_limit_off_the_main_thread_does_not_arm() -> None:
    seen: list[bool] = []

    def worker() -> None:
        seen.append(can_interrupt())
        with time_limit(0.01, "x") as armed:
            time.sleep(0.05)
            seen.append(armed)

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert seen == [False, False] and can_interrupt()


def test_no_limit_means_not_armed() -> None:
    with time_limit(None, "x") as armed:
        assert not armed
