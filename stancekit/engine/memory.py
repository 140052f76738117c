"""Keeping a long :meth:`StanceAnalyzer.analyze_many <stancekit.StanceAnalyzer.analyze_many>`
run's memory flat, whatever the number of documents.

Two things grew with the number of documents analysed in one process:

- **spaCy's vocabulary.** Every new word of every text adds a string to the pipeline's
  ``StringStore`` and a lexeme to its ``Vocab``, for good (about 40 strings per news
  article). :func:`spacy_memory_zone` wraps a batch's work in spaCy's
  ``nlp.memory_zone()`` (spaCy >= 3.8), which drops what the batch added when it ends.
  Nothing stancekit returns holds a spaCy ``Doc``, ``Token`` or ``Span``: results hold
  plain Python strings and offsets, so they stay valid after the zone.
- **The C heap.** The model's activations are tens of MB each and change size from batch
  to batch; glibc's ``malloc`` serves them from its heap, keeps freed blocks for reuse and
  fragments, so resident memory climbs (in one measurement the free-but-kept heap went
  from 260 to 346 MB over 100 documents while the memory in use stayed at 184 MB).
  :func:`release_freed_memory` hands the free pages back to the system
  (``malloc_trim(0)``) after each forward batch of the model and after each batch of
  documents; elsewhere than glibc it does nothing. ``STANCEKIT_MALLOC_TRIM=0`` turns it
  off (e.g. when jemalloc or tcmalloc is preloaded).

Measured 2026-11-29 on throughput.py's 300 pseudo-articles, cycled (default model, one torch
thread, a busy 2-core machine), RSS after 50, 100, ... articles: without zones or trims it
went 933, 935, 962, 987, 1,016 MB (peak 1,068 MB at 250, still climbing); with them (as
now) 597-599 MB all along 300 articles, peak 798 -> 805 MB; trimming only after each batch
of documents left the peak at 875 -> 1,107 MB over 500. The per-batch trims cost about 5%
more CPU time, as system time (page faults).

Example:
    >>> from stancekit.engine.memory import release_freed_memory, spacy_memory_zone
    >>> with spacy_memory_zone():
    ...     pass  # parse, find actors, score: keep no spaCy object past this block
    >>> _ = release_freed_memory()
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import sys
import threading
from collections.abc import Callable, Iterator
from functools import lru_cache

__all__ = ["SPACY_LOCK", "release_freed_memory", "spacy_memory_zone", "trim_after_batches"]

#: Held while a stancekit memory zone is open, and by :func:`stancekit.text.segment.parse_many`
#: while spaCy parses. Strings spaCy adds while a zone is open are dropped when it ends,
#: so another thread must not parse meanwhile (its documents would lose their strings).
SPACY_LOCK = threading.RLock()


@contextlib.contextmanager
def spacy_memory_zone() -> Iterator[bool]:
    """A block whose new spaCy strings and lexemes are freed when it ends; yields whether
    a zone was opened (not when one is already open, e.g. the caller's own, or when the
    installed spaCy has none: the block then runs as is).

    Any spaCy ``Doc`` made inside the block must not be used after it."""
    from stancekit.text.nlp import load_spacy

    nlp = load_spacy()
    with SPACY_LOCK:
        zone = getattr(nlp, "memory_zone", None)
        if zone is None or getattr(nlp.vocab, "in_memory_zone", True):
            yield False
            return
        with zone():
            yield True


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim  # glibc only (not musl)
    except (OSError, AttributeError):
        return None
    return trim


def trim_after_batches() -> bool:
    """Whether :func:`release_freed_memory` can run here and is wanted: glibc, and
    ``STANCEKIT_MALLOC_TRIM`` not set to ``0`` (the opt-out, e.g. under jemalloc)."""
    return _malloc_trim() is not None and os.environ.get("STANCEKIT_MALLOC_TRIM", "1") != "0"


def release_freed_memory() -> bool:
    """Return the C heap's free pages to the operating system (glibc's ``malloc_trim``);
    True if it ran (see :func:`trim_after_batches`). Memory still in use is untouched; the
    cost is the call and the page faults of touching those pages again (a few per cent of
    the model's time when called after every batch of 64 pairs)."""
    trim = _malloc_trim()
    if trim is None or not trim_after_batches():
        return False
    trim(0)
    return True
