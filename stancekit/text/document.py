"""The text and the things in it: :class:`Document`, :class:`Sentence`, :class:`Mention`.

A :class:`Document` owns its text. Every other object points into it by character
offsets, so ``document.text[x.start:x.end] == x.text`` holds for every sentence and
mention, and nothing is ever located by searching for a string.

Example:
    >>> from stancekit.text.document import Document, Sentence
    >>> doc = Document(id="d1", text="Hello there. Bye.",
    ...                sentences=(Sentence(0, 12, 0, "Hello there."), Sentence(13, 17, 1, "Bye.")))
    >>> doc.sentences[1].text
    'Bye.'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Document", "Mention", "Sentence"]


def _check_span(owner: str, start: int, end: int, text: str) -> None:
    if not (isinstance(start, int) and isinstance(end, int)):
        raise TypeError(f"{owner}: start and end must be int, got {start!r} and {end!r}")
    if start < 0 or end < start:
        raise ValueError(
            f"{owner}: start={start}, end={end} is not a valid span; need 0 <= start <= end"
        )
    if len(text) != end - start:
        raise ValueError(
            f"{owner}: text has {len(text)} characters but end - start = {end - start}; "
            "build it from the document text as text[start:end]"
        )


@dataclass(frozen=True)
class Sentence:
    """One unit of judgement: a sentence, a title or a caption line.

    Attributes:
        start, end: character offsets into the owning document's text.
        index: position of the sentence in the document (0-based).
        text: ``document.text[start:end]``.
        kind: ``"title"`` (first line of a multi-line text), ``"line"`` (a line that is a
            single sentence with no final punctuation, e.g. a caption), or ``"sentence"``.
    """

    start: int
    end: int
    index: int
    text: str
    kind: str = "sentence"

    def __post_init__(self) -> None:
        _check_span(f"Sentence {self.index}", self.start, self.end, self.text)

    def to_dict(self) -> dict[str, Any]:
        """The sentence as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class Mention:
    """A stretch of text that names or refers to an actor or a target.

    ``kind`` is the entity type (``PERSON``, ``ORG``, ``GPE``, ``NORP``) for names, or
    ``PRON`` / ``ROLE`` / ``DEMONYM`` / ``TARGET`` for references resolved by stancekit.
    """

    start: int
    end: int
    text: str
    kind: str

    def __post_init__(self) -> None:
        _check_span(f"Mention {self.text!r}", self.start, self.end, self.text)

    def to_dict(self) -> dict[str, Any]:
        """The mention as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class Document:
    """An article: its id, its text, its metadata and its sentences.

    Sentences are in text order, do not overlap, and together with the whitespace
    between them cover the whole text (checked on construction). Build one from raw
    text with :func:`stancekit.text.segment.make_document`, which finds the sentences.
    """

    id: str
    text: str
    meta: Mapping[str, Any] = field(default_factory=dict)
    sentences: tuple[Sentence, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise TypeError(
                f"Document {self.id!r}: 'text' must be str, got {type(self.text).__name__}; "
                "decode bytes first, e.g. data.decode('utf-8')"
            )
        object.__setattr__(self, "sentences", tuple(self.sentences))
        self._check_sentences()

    def _check_sentences(self) -> None:
        pos = 0
        for i, s in enumerate(self.sentences):
            where = f"Document {self.id!r}, sentence {i}"
            if s.index != i:
                raise ValueError(f"{where}: index={s.index}, expected {i}")
            if s.end > len(self.text):
                raise ValueError(f"{where}: end={s.end} is past the text's length {len(self.text)}")
            if self.text[s.start : s.end] != s.text:
                raise ValueError(f"{where}: text[{s.start}:{s.end}] differs from sentence.text")
            if s.start < pos:
                raise ValueError(f"{where}: starts at {s.start}, inside the previous sentence")
            gap = self.text[pos : s.start]
            if gap.strip():
                raise ValueError(
                    f"{where}: characters {pos}..{s.start} ({gap[:40]!r}) belong to no sentence"
                )
            pos = s.end
        if self.sentences and self.text[pos:].strip():
            raise ValueError(
                f"Document {self.id!r}: characters {pos}..{len(self.text)} belong to no sentence"
            )

    def sentence_at(self, offset: int) -> Sentence | None:
        """The sentence containing character ``offset``, or None (whitespace, out of range)."""
        lo, hi = 0, len(self.sentences)
        while lo < hi:
            mid = (lo + hi) // 2
            s = self.sentences[mid]
            if offset < s.start:
                hi = mid
            elif offset >= s.end:
                lo = mid + 1
            else:
                return s
        return None

    def mention(self, start: int, end: int, kind: str) -> Mention:
        """A :class:`Mention` of ``text[start:end]``."""
        if not 0 <= start <= end <= len(self.text):
            raise ValueError(
                f"Document {self.id!r}: mention start={start}, end={end} is outside the text "
                f"of length {len(self.text)}"
            )
        return Mention(start, end, self.text[start:end], kind)

    def to_dict(self) -> dict[str, Any]:
        """The document, with its sentences, as a plain dict."""
        return {
            "id": self.id,
            "text": self.text,
            "meta": dict(self.meta),
            "sentences": [s.to_dict() for s in self.sentences],
        }
