"""A hard time limit on a block of Python code: ``SIGALRM`` from ``setitimer``.

:meth:`StanceAnalyzer.analyze_many(timeout_s=...) <stancekit.StanceAnalyzer.analyze_many>`
runs each document's work inside :func:`time_limit`; an overrun raises
:class:`~stancekit.errors.DocumentTimeoutError` in the middle of the work, the document
becomes an error result and the batch goes on.

Limits, honestly:

- It needs POSIX signals and the main thread of the main interpreter (where Python runs
  signal handlers). Elsewhere (Windows, a worker thread, e.g. a web server's request
  thread) :func:`can_interrupt` is False and :func:`time_limit` does nothing but report
  that it could not arm: callers warn once and fall back to the ``slow`` flag.
- Python runs the handler between bytecodes, so a single long C call (one spaCy
  component on one text, one torch matrix product) finishes before the error is raised:
  the overrun is the limit plus the longest such call (milliseconds to a second for a
  document under ``max_chars``).
- It replaces any ``SIGALRM`` handler and interval timer for the duration of the block,
  and restores both afterwards (an outer timer gets its remaining time back, less the
  time spent in the block).
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType

from stancekit.errors import DocumentTimeoutError

__all__ = ["can_interrupt", "time_limit"]


def can_interrupt() -> bool:
    """Whether :func:`time_limit` can interrupt code here (POSIX, main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float | None, message: str) -> Iterator[bool]:
    """Raise :class:`DocumentTimeoutError` (``message``) if the block runs longer than
    ``seconds``. Yields whether the limit is armed (False for ``seconds=None`` or where
    :func:`can_interrupt` is False; the block then runs unbounded)."""
    if seconds is None or not can_interrupt():
        yield False
        return

    def overrun(signum: int, frame: FrameType | None) -> None:
        raise DocumentTimeoutError(message)

    previous = signal.signal(signal.SIGALRM, overrun)
    start = time.monotonic()
    outer_delay, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield True
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:
            left = max(outer_delay - (time.monotonic() - start), 1e-6)
            signal.setitimer(signal.ITIMER_REAL, left, outer_interval)
