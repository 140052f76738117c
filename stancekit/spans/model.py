"""The labelled-spans data classes and label constants (see :mod:`stancekit.spans`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from stancekit.errors import SpansFormatError

if TYPE_CHECKING:
    import datasets
    import pandas as pd

STANCES = ("favor", "against", "none")
SENTIMENTS = ("positive", "neutral", "negative")
_SPAN_KEYS = ("start", "end", "holder", "target", "stance", "sentiment")
_MENTION_KEYS = ("holder_mention", "target_mention")
_DOC_KEYS = ("id", "text", "spans", "meta")


def _row_word(source: str) -> str:
    return "row" if source.startswith("<") else "line"


@dataclass(frozen=True)
class GoldSpan:
    """One labelled unit: who (``holder``, None = the text's own voice) takes which
    ``stance`` and/or ``sentiment`` toward ``target`` in ``text[start:end]``.

    ``holder_mention`` / ``target_mention`` are optional ``(start, end)`` offsets of the
    names in the document text (they may lie outside the unit); ``extra`` holds unknown keys.
    """

    start: int
    end: int
    holder: str | None
    target: str
    stance: str | None = None
    sentiment: str | None = None
    holder_mention: tuple[int, int] | None = None
    target_mention: tuple[int, int] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in _MENTION_KEYS:
            if getattr(self, key) is not None:
                object.__setattr__(self, key, tuple(getattr(self, key)))
        object.__setattr__(self, "extra", dict(self.extra))
        clash = sorted(set(self.extra) & {*_SPAN_KEYS, *_MENTION_KEYS})
        if clash:
            raise ValueError(f"GoldSpan: extra keys {clash} are span fields; pass them as such")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: absent optional fields omitted (``holder`` always present)."""
        out: dict[str, Any] = {"start": self.start, "end": self.end, "holder": self.holder}
        out["target"] = self.target
        for key in ("stance", "sentiment", *_MENTION_KEYS):
            value = getattr(self, key)
            if value is not None:
                out[key] = list(value) if isinstance(value, tuple) else value
        return {**out, **self.extra}


@dataclass(frozen=True)
class GoldDocument:
    """A text and its labelled spans; every span is checked against the text on creation."""

    id: str
    text: str
    spans: tuple[GoldSpan, ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        from stancekit.spans.validate import _check_span  # validate builds GoldSpans

        if not isinstance(self.id, str) or not isinstance(self.text, str):
            got = f"{type(self.id).__name__} and {type(self.text).__name__}"
            raise TypeError(f"GoldDocument: id and text must be str, got {got}")
        object.__setattr__(self, "spans", tuple(self.spans))
        object.__setattr__(self, "meta", dict(self.meta))
        object.__setattr__(self, "extra", dict(self.extra))
        clash = sorted(set(self.extra) & set(_DOC_KEYS))
        if clash:
            raise ValueError(f"GoldDocument {self.id!r}: extra keys {clash} are document fields")
        for i, span in enumerate(self.spans):
            if not isinstance(span, GoldSpan):
                raise TypeError(f"GoldDocument {self.id!r}: spans[{i}] is not a GoldSpan")
            issues = _check_span(span.to_dict(), self.text, lenient=False)[1]
            if issues:
                raise SpansFormatError(f"GoldDocument {self.id!r}, span {i}: {issues[0].message}")

    def unit_text(self, span: GoldSpan) -> str:
        """The judged unit of ``span``: ``text[span.start:span.end]``."""
        return self.text[span.start : span.end]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (one line of a spans file); empty ``meta`` is omitted."""
        out: dict[str, Any] = {"id": self.id, "text": self.text}
        out["spans"] = [s.to_dict() for s in self.spans]
        if self.meta:
            out["meta"] = dict(self.meta)
        return {**out, **self.extra}


@dataclass(frozen=True)
class SpanProblem:
    """One problem found while reading. ``line`` is 1-based for files, 0-based for
    DataFrame/Dataset rows; ``span_index`` is the 0-based position in the document's spans
    (None for a document-level problem). ``kind`` is ``"error"`` (the span or document was
    skipped) or ``"note"`` (kept after a fix, e.g. a label put in lower case).
    """

    file: str
    line: int | None
    span_index: int | None
    field: str | None
    value: Any
    message: str
    kind: str = "error"

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" {_row_word(self.file)} {self.line}"
        if self.span_index is not None:
            where += f", span {self.span_index}"
        return f"{where}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """The problem as a plain dict."""
        return asdict(self)


@dataclass(frozen=True)
class SpanSet:
    """What the readers return: the documents kept and the problems found."""

    documents: tuple[GoldDocument, ...] = ()
    problems: tuple[SpanProblem, ...] = ()

    def __iter__(self) -> Iterator[GoldDocument]:
        return iter(self.documents)

    def __len__(self) -> int:
        return len(self.documents)

    @property
    def n_spans(self) -> int:
        """The number of spans in all documents."""
        return sum(len(d.spans) for d in self.documents)

    def to_dict(self) -> dict[str, Any]:
        """``{"documents": [...], "problems": [...]}`` as plain dicts."""
        return {
            "documents": [d.to_dict() for d in self.documents],
            "problems": [p.to_dict() for p in self.problems],
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per span (a document without spans gets one row with empty span cells).

        Columns: document_id, start, end, unit, holder, target, stance, sentiment,
        holder_start/_end, target_start/_end, text (the whole document), and JSON strings
        span_extra, document_meta, document_extra. :func:`spans_from_dataframe` reads it back.
        """
        from stancekit.spans.tables import _to_dataframe

        return _to_dataframe(self.documents)

    def to_dataset(self) -> datasets.Dataset:
        """A Hugging Face Dataset, one row per document: id, text, spans (a list of structs
        with mentions as ``[start, end]`` lists and ``extra`` as a JSON string), meta and extra
        (JSON strings). :func:`spans_from_dataset` reads it back.
        """
        from stancekit.spans.tables import _to_dataset

        return _to_dataset(self.documents)
