"""Stage 1: text -> sentences, with character offsets.

The text is first split on line breaks (a title, a photo caption and each paragraph are
separate lines in news text), then spaCy splits each line into sentences. The spaCy
parses are kept (:class:`Parsed`) because the actor stage reads their entities and
dependencies; offsets in them are relative to their line, ``ParsedLine.start`` maps
them back to the document.

Example:
    >>> from stancekit.text.segment import make_document
    >>> doc = make_document("A title\\n\\nThe U.S. said so. Others disagreed.", id="d")
    >>> [s.text for s in doc.sentences]
    ['A title', 'The U.S. said so.', 'Others disagreed.']
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stancekit.engine.memory import SPACY_LOCK
from stancekit.text.document import Document, Sentence
from stancekit.text.nlp import load_spacy
from stancekit.text.screening import mask_surrogates

__all__ = ["Parsed", "ParsedLine", "document_id", "line_spans", "make_document", "parse_many"]

#: Lines longer than this are cut at whitespace before parsing (spaCy's cost grows with
#: the length of what it is given; a scraped page may be one enormous line).
MAX_CHUNK = 20_000
_END_PUNCT = re.compile(r"[.!?…:;][\"”’')\]]*\s*$")


@dataclass(frozen=True)
class ParsedLine:
    """A spaCy ``Doc`` for ``text[start:start + len(doc.text)]``."""

    start: int
    doc: Any


@dataclass(frozen=True)
class Parsed:
    """A segmented document with the spaCy parse of each of its lines."""

    document: Document
    lines: tuple[ParsedLine, ...]


def document_id(text: str) -> str:
    """A stable id for a text that came without one: ``doc-`` + 12 hex digits of SHA-1."""
    return "doc-" + hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def line_spans(text: str, max_chunk: int = MAX_CHUNK) -> list[tuple[int, int]]:
    """Offsets of the non-blank lines of ``text``, stripped, cut to at most ``max_chunk``."""
    spans: list[tuple[int, int]] = []
    for m in re.finditer(r"[^\n\r\u2028\u2029\x0b\x0c\x85]+", text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        while end - start > max_chunk:
            cut = _cut(text, start, max_chunk)
            stop = cut
            while stop > start and text[stop - 1].isspace():
                stop -= 1
            spans.append((start, stop))
            start = cut
            while start < end and text[start].isspace():
                start += 1
        if end > start:
            spans.append((start, end))
    return spans


def _cut(text: str, start: int, max_chunk: int) -> int:
    """Where to cut a chunk of at most ``max_chunk`` characters from ``start``: the last
    space (else any whitespace) in its second half, else hard at ``max_chunk``."""
    low, high = start + max_chunk // 2, start + max_chunk
    cut = text.rfind(" ", low, high)
    if cut > start:
        return cut
    for i in range(high - 1, max(low, start + 1) - 1, -1):
        if text[i].isspace():
            return i
    return high


def _sentences_of_line(doc: Any, base: int, text: str) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for sent in doc.sents:
        s, e = base + sent.start_char, base + sent.end_char
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e <= s:
            continue
        piece = text[s:e]
        # spaCy sometimes cuts after a closing quote or before a lower-case continuation
        # ("... he said. “Yes,” she replied" is fine; "U.S. officials" is not a boundary).
        if out and (piece[0].islower() or not any(ch.isalnum() for ch in piece)):
            out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def _build(text: str, id: str, meta: Mapping[str, Any], lines: list[ParsedLine]) -> Parsed:
    spans: list[tuple[int, int]] = []
    for line in lines:
        spans.extend(_sentences_of_line(line.doc, line.start, text))
    sentences = []
    for i, (s, e) in enumerate(spans):
        kind = "sentence"
        if i == 0 and len(lines) > 1 and not _END_PUNCT.search(text[s:e]):
            kind = "title"
        sentences.append(Sentence(s, e, i, text[s:e], kind))
    return Parsed(
        Document(id=id, text=text, meta=dict(meta), sentences=tuple(sentences)), tuple(lines)
    )


def parse_many(
    items: Iterable[tuple[str, str, Mapping[str, Any]]], *, batch_size: int = 64
) -> Iterator[Parsed]:
    """Segment and parse ``(id, text, meta)`` items, streaming, with ``nlp.pipe`` batching."""
    nlp = load_spacy()
    buffered: list[tuple[str, str, Mapping[str, Any], list[tuple[int, int]]]] = []
    n_lines = 0

    def flush() -> Iterator[Parsed]:
        # surrogate code points (lone \ud800 escapes in JSON) cannot be encoded as UTF-8,
        # which spaCy needs: it reads them as U+FFFD (same length, so offsets hold)
        pieces = [mask_surrogates(text[s:e]) for _, text, _, spans in buffered for s, e in spans]
        with SPACY_LOCK:  # not while another thread's memory zone is open
            docs = iter(list(nlp.pipe(pieces, batch_size=batch_size)))
        for id_, text, meta, spans in buffered:
            lines = [ParsedLine(s, next(docs)) for s, _ in spans]
            yield _build(text, id_, meta, lines)
        buffered.clear()

    for id_, text, meta in items:
        spans = line_spans(text)
        buffered.append((id_, text, meta, spans))
        n_lines += len(spans)
        if n_lines >= batch_size:
            yield from flush()
            n_lines = 0
    if buffered:
        yield from flush()


def make_document(
    text: str, *, id: str | None = None, meta: Mapping[str, Any] | None = None
) -> Document:
    """Split ``text`` into sentences and return the :class:`Document` that owns them."""
    if not isinstance(text, str):
        raise TypeError(f"'text' must be str, got {type(text).__name__}")
    doc_id = id if id is not None else document_id(text)
    return next(parse_many([(doc_id, text, meta or {})])).document
