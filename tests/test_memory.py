"""A long analyze_many run must not grow: spaCy's vocabulary is reset after each batch
(memory zones) and the C heap's free pages go back to the system. These tests check the
mechanisms, not timings or a process's total memory."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from stancekit.analyzer import StanceAnalyzer
from stancekit.engine.memory import release_freed_memory, spacy_memory_zone
from stancekit.scoring.model import StanceModel
from stancekit.text.nlp import load_spacy
from stancekit.text.segment import parse_many

pytestmark = pytest.mark.slow  # spaCy


def _article(i: int) -> str:
    """A short news-like text full of words spaCy has never seen (different for each i)."""
    made_up = " ".join(f"Zorblat{i}x{k}" for k in range(12))
    return (
        f"Minister Qarvento{i} Velusk said on Tuesday that the CSTO had failed Armenia.\n\n"
        f"{made_up} met officials in Baku, where {1000 + i} troops are stationed. "
        f"Azerbaijan denied the report of {i * 7} incidents, Qarvento{i} told reporters."
    )


@pytest.fixture(scope="module")
def analyzer(tiny_model: StanceModel) -> StanceAnalyzer:
    return StanceAnalyzer(model=tiny_model)


def _n_strings() -> int:
    return len(load_spacy().vocab.strings)


def test_analyze_many_leaves_spacy_string_store_as_it_was(analyzer: StanceAnalyzer) -> None:
    list(analyzer.analyze_many([_article(0)], progress=False))  # labels etc. added for good
    before = _n_strings()
    results = list(analyzer.analyze_many([_article(i) for i in range(1, 7)], batch_size=2))
    assert all(r.ok for r in results)
    assert any(r.judgements for r in results)
    assert _n_strings() == before


def test_parsing_outside_a_zone_grows_the_string_store() -> None:
    """The control for the test above: the same kind of text does add strings for good."""
    before = _n_strings()
    list(parse_many([("d", _article(1000), {})]))
    assert _n_strings() > before


def test_analyze_and_judge_many_leave_spacy_string_store_as_it_was(
    analyzer: StanceAnalyzer,
) -> None:
    from stancekit.pairs.build import PairRequest
    from stancekit.text.document import Document

    analyzer.analyze(_article(100))
    before = _n_strings()
    analyzer.analyze(_article(101))
    text = _article(102)
    end = text.index("\n")
    list(analyzer.judge_many([(Document("j", text), [PairRequest(0, end, None, "CSTO")])]))
    assert _n_strings() == before


def test_results_made_in_a_zone_equal_results_made_without_one(analyzer: StanceAnalyzer) -> None:
    texts = [_article(i) for i in range(200, 204)]
    zoned = list(analyzer.analyze_many(texts, batch_size=3, progress=False))
    plain = analyzer._judge(list(parse_many([(r.document.id, r.document.text, {}) for r in zoned])))
    assert [r.to_dict() for r in zoned] == [r.to_dict() for r in plain]
    # the plain strings of the results still read after the zone ended
    names = {a.name for r in zoned for a in r.actors}
    assert any(n.startswith("Qarvento") for n in names)


def test_a_callers_own_memory_zone_is_not_nested() -> None:
    nlp = load_spacy()
    with nlp.memory_zone(), spacy_memory_zone() as opened:
        assert opened is False
    with spacy_memory_zone() as opened:
        assert opened is True


def test_analyze_many_releases_freed_memory_after_each_batch(
    analyzer: StanceAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stancekit.analyzer as analyzer_module

    calls: list[int] = []

    def counted() -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr(analyzer_module, "release_freed_memory", counted)
    texts = [_article(i) for i in range(300, 305)]
    assert len(list(analyzer.analyze_many(texts, batch_size=2, progress=False))) == 5
    assert len(calls) == 3


def _rss_bytes() -> int:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc_trim")
def test_release_freed_memory_returns_free_heap_pages_to_the_system() -> None:
    libc: Any = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    if not hasattr(libc, "malloc_trim"):
        pytest.skip("not glibc")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size, n = 64 * 1024, 512  # 32 MiB in blocks below glibc's mmap threshold: on the heap
    blocks = [libc.malloc(size) for _ in range(n)]
    pin = libc.malloc(size)  # keeps the freed blocks from being the heap's top
    try:
        for b in blocks:
            ctypes.memset(b, 1, size)
        for b in blocks:
            libc.free(b)
        held = _rss_bytes()
        assert release_freed_memory() is True
        assert held - _rss_bytes() > (n * size) // 2
    finally:
        libc.free(pin)
