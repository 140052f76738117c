"""Labelled spans: read, check, write and convert stancekit's gold-label files.

The format (``shared/data/README.md``) is JSON Lines, one document per line::

    {"id": "d1", "text": "Ann praised Bob.", "meta": {},
     "spans": [{"start": 0, "end": 16, "holder": "Ann", "target": "Bob", "stance": "favor",
                "holder_mention": [0, 3], "target_mention": [12, 15]}]}

``text[start:end]`` is the judged unit (character offsets, not bytes); ``holder`` is a name
or null (the text's own voice); a span carries ``stance`` (favor/against/none) and/or
``sentiment`` (positive/neutral/negative). Unknown keys on documents and spans are kept.

Readers check every document and span: valid JSON; ``id`` a unique non-empty string;
``text`` a string; ``spans`` a list; ``start``/``end`` integers with
``0 <= start <= end <= len(text)`` and a non-blank unit; ``holder`` a name or null;
``target`` non-empty; ``stance``/``sentiment`` known labels, at least one given; mentions
``[start, end]`` pairs inside the text (outside the unit is fine). Offsets that look like
UTF-8 byte offsets are named as such. By default they raise :class:`SpansFormatError` at
the first problem; with ``lenient=True`` they skip each bad span (or the whole document,
when the document itself is bad), record a :class:`SpanProblem` for each, and warn once.
Labels in the wrong case ("Favor") are errors in strict mode and normalised, with a note,
in lenient mode.

Example:
    >>> from stancekit.spans import GoldDocument, GoldSpan, SpanSet
    >>> doc = GoldDocument("d1", "Ann praised Bob. Bob left.",
    ...                    (GoldSpan(0, 16, "Ann", "Bob", stance="favor"),))
    >>> doc.unit_text(doc.spans[0])
    'Ann praised Bob.'
    >>> doc.spans[0].to_dict()
    {'start': 0, 'end': 16, 'holder': 'Ann', 'target': 'Bob', 'stance': 'favor'}
    >>> SpanSet((doc,)).n_spans
    1
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

from stancekit.errors import SpansFormatError

if TYPE_CHECKING:
    import datasets
    import pandas as pd

__all__ = [
    "SENTIMENTS",
    "STANCES",
    "GoldDocument",
    "GoldSpan",
    "SpanProblem",
    "SpanSet",
    "read_spans",
    "read_spans_csv",
    "spans_from_dataframe",
    "spans_from_dataset",
    "write_spans",
]

STANCES = ("favor", "against", "none")
SENTIMENTS = ("positive", "neutral", "negative")
_SPAN_KEYS = ("start", "end", "holder", "target", "stance", "sentiment")
_MENTION_KEYS = ("holder_mention", "target_mention")
_DOC_KEYS = ("id", "text", "spans", "meta")
_INT_COLUMNS = ("start", "end", "holder_start", "holder_end", "target_start", "target_end")
_FRAME_COLUMNS = (
    "document_id",
    "start",
    "end",
    "unit",
    *_SPAN_KEYS[2:],
    *_INT_COLUMNS[2:],
    "text",
    "span_extra",
    "document_meta",
    "document_extra",
)
_BYTE_HINT = (
    "; the offsets look like UTF-8 byte offsets: stancekit uses character offsets "
    "(convert with len(data[:offset].decode('utf-8')))"
)


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
        import pandas as pd

        cols: dict[str, list[Any]] = {c: [] for c in _FRAME_COLUMNS}
        for doc in self.documents:
            for span in doc.spans or (None,):
                row = dict.fromkeys(_FRAME_COLUMNS)
                row.update(
                    document_id=doc.id,
                    text=doc.text,
                    document_meta=_dumps(doc.meta),
                    document_extra=_dumps(doc.extra),
                )
                if span is not None:
                    row.update({k: getattr(span, k) for k in _SPAN_KEYS})
                    row.update(unit=doc.unit_text(span), span_extra=_dumps(span.extra))
                    for key in ("holder", "target"):
                        pair = getattr(span, f"{key}_mention") or (None, None)
                        row[f"{key}_start"], row[f"{key}_end"] = pair
                for c in _FRAME_COLUMNS:
                    cols[c].append(row[c])
        return pd.DataFrame(
            {c: pd.array(v, dtype="Int64") if c in _INT_COLUMNS else v for c, v in cols.items()}
        )

    def to_dataset(self) -> datasets.Dataset:
        """A Hugging Face Dataset, one row per document: id, text, spans (a list of structs
        with mentions as ``[start, end]`` lists and ``extra`` as a JSON string), meta and extra
        (JSON strings). :func:`spans_from_dataset` reads it back.
        """
        from datasets import Dataset, Features, List, Value

        string, int64 = Value("string"), Value("int64")
        span_features = {k: int64 if k in ("start", "end") else string for k in _SPAN_KEYS}
        span_features.update(holder_mention=List(int64), target_mention=List(int64), extra=string)
        features = Features(
            id=string, text=string, spans=List(span_features), meta=string, extra=string
        )
        rows = []
        for d in self.documents:
            spans = [{k: getattr(s, k) for k in span_features if k != "extra"} for s in d.spans]
            for row, s in zip(spans, d.spans, strict=True):
                row["extra"] = _dumps(s.extra)
            rows.append(
                {
                    "id": d.id,
                    "text": d.text,
                    "spans": spans,
                    "meta": _dumps(d.meta),
                    "extra": _dumps(d.extra),
                }
            )
        columns = {k: [row[k] for row in rows] for k in features}  # works with no rows, too
        return Dataset.from_dict(columns, features=features)


def read_spans(path: str | Path, *, lenient: bool = False) -> SpanSet:
    """Read a JSON Lines spans file (see the module docstring for the checks)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"spans file {str(p)!r} does not exist") from exc
    reader = _Reader(str(p), lenient)
    for n, raw in enumerate(data.removeprefix(b"\xef\xbb\xbf").split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            reader.bad_document([(n, _Issue(None, raw[:60], f"not UTF-8 ({exc.reason})"))])
        except json.JSONDecodeError as exc:
            msg = f"invalid JSON ({exc.msg} at column {exc.colno}); give one document per line"
            reader.bad_document([(n, _Issue(None, _short(raw.decode("utf-8")), msg))])
        else:
            reader.add(obj, n)
    return reader.result()


def write_spans(path: str | Path, docs: Iterable[GoldDocument] | SpanSet) -> Path:
    """Write documents as JSON Lines (UTF-8, not ASCII-escaped), atomically: into a temporary
    file in the same folder, then ``os.replace``; on any error the old file is untouched.
    """
    p = Path(path)
    mode = p.stat().st_mode & 0o777 if p.exists() else 0o644
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            seen: set[str] = set()
            for i, doc in enumerate(docs):
                if not isinstance(doc, GoldDocument):
                    raise TypeError(f"write_spans: docs[{i}] is a {type(doc).__name__}")
                if doc.id in seen:
                    raise SpansFormatError(
                        f"write_spans: document {i} repeats id={doc.id!r}; "
                        "give each document its own id"
                    )
                seen.add(doc.id)
                f.write(json.dumps(doc.to_dict(), ensure_ascii=False, allow_nan=False) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, p)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return p


def read_spans_csv(
    path: str | Path, *, texts: Mapping[str, str] | None = None, lenient: bool = False
) -> SpanSet:
    """Import a spreadsheet (CSV, UTF-8, comma-separated, header row): one row per span.

    Columns: ``doc_id`` (or ``id``), ``text`` (on the document's first row, or pass
    ``texts={doc_id: text}``), ``start``, ``end``, ``holder`` (empty = the text's own voice),
    ``target``, ``stance`` and/or ``sentiment``; optional ``holder_start``, ``holder_end``,
    ``target_start``, ``target_end`` and ``unit`` (checked against ``text[start:end]``).
    Other columns become extra span keys. Rows of one doc_id form one document, in order.
    """
    p = Path(path)
    reader = _Reader(str(p), lenient)
    try:
        with p.open(encoding="utf-8-sig", newline="") as f:
            rows = csv.DictReader(f)
            numbered = ((rows.line_num, r) for r in rows)
            _read_rows(reader, numbered, list(rows.fieldnames or []), texts)
    except UnicodeDecodeError as exc:
        raise SpansFormatError(
            f"spans file {str(p)!r} is not UTF-8 text ({exc.reason}); save it as 'CSV UTF-8'"
        ) from exc
    return reader.result()


def spans_from_dataframe(df: pd.DataFrame, *, lenient: bool = False) -> SpanSet:
    """Read :meth:`SpanSet.to_dataframe`'s rows (or the CSV columns) back; problems name the
    0-based row position."""
    reader = _Reader("<DataFrame>", lenient)
    _read_rows(reader, enumerate(df.to_dict("records")), [str(c) for c in df.columns], None)
    return reader.result()


def spans_from_dataset(ds: datasets.Dataset, *, lenient: bool = False) -> SpanSet:
    """Read a Dataset made by :meth:`SpanSet.to_dataset` (one row per document) back."""
    reader = _Reader("<Dataset>", lenient)
    for n, row in enumerate(ds):
        raw = {k: v for k, v in row.items() if k not in ("meta", "extra")}
        spans = raw.get("spans")
        if isinstance(spans, dict):  # a column-wise Sequence of structs
            spans = [dict(zip(spans, v, strict=True)) for v in zip(*spans.values(), strict=True)]
        if isinstance(spans, list):
            raw["spans"] = [_from_struct(s) for s in spans]
        meta, extra = _json_object(row.get("meta"), "meta"), _json_object(row.get("extra"), "extra")
        if isinstance(meta, dict) and isinstance(extra, dict):
            reader.add({**raw, "meta": meta, **extra}, n)
        else:
            reader.bad_document([(n, x) for x in (meta, extra) if isinstance(x, _Issue)])
    return reader.result()


# -- checks ----------------------------------------------------------------------------------


class _Issue(NamedTuple):
    field: str | None
    value: Any
    message: str
    note: bool = False


def _row_word(source: str) -> str:
    return "row" if source.startswith("<") else "line"


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any, limit: int = 60) -> Any:
    return value[:limit] + "…" if isinstance(value, str) and len(value) > limit else value


def _dumps(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


def _past_end(what: str, end: int, text: str) -> str:
    hint = _BYTE_HINT if end <= len(text.encode("utf-8")) else "; fix the offsets or the text"
    return f"{what} is past the text's length {len(text)}{hint}"


def _bytes_give(text: str, start: int, end: int, wanted: str) -> bool:
    """Whether ``text``'s UTF-8 bytes ``[start:end]`` (but not its characters) are ``wanted``."""
    if text[start:end] == wanted:
        return False
    try:
        return text.encode("utf-8")[start:end].decode("utf-8") == wanted
    except UnicodeDecodeError:
        return False


def _check_mention(key: str, pair: Any, text: str, name: Any) -> _Issue | None:
    """Check a mention's ``[start, end]``; ``name`` is the holder/target it may spell."""
    if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(map(_is_int, pair))):
        return _Issue(key, pair, f"{key}={pair!r} is not a [start, end] pair of integers")
    a, b = pair
    shown = f"{key}={list(pair)}"
    if not 0 <= a < b:
        return _Issue(key, pair, f"{shown} is reversed, empty or negative; need 0 <= start < end")
    if b > len(text):
        return _Issue(key, pair, _past_end(shown, b, text))
    if isinstance(name, str) and _bytes_give(text, a, b, name):
        return _Issue(key, pair, f"{shown} gives {text[a:b]!r}, not {name!r}{_BYTE_HINT}")
    return None


def _check_label(
    raw: dict[str, Any], key: str, labels: tuple[str, ...], lenient: bool
) -> tuple[str | None, _Issue | None]:
    """The label (lower-cased when lenient) and its issue, if any."""
    value = raw.get(key)
    if value is None or value in labels:
        return value, None
    low = value.lower() if isinstance(value, str) else None
    if low not in labels:
        return None, _Issue(
            key, value, f"{key}={value!r} is not a label; use one of {', '.join(labels)}"
        )
    if lenient:
        return low, _Issue(key, value, f"{key}={value!r} normalised to {low!r}", note=True)
    return None, _Issue(key, value, f"{key}={value!r} is not a label; use {low!r}")


def _check_span(
    raw: Any, text: str, lenient: bool, unit: str | None = None
) -> tuple[GoldSpan | None, list[_Issue]]:
    """Check one span against its document's text: the span (labels normalised) or None
    when any issue is an error, and the issues (errors, then notes)."""
    if not isinstance(raw, dict):
        return None, [_Issue(None, raw, f"a span must be a JSON object, got {type(raw).__name__}")]
    bad: list[_Issue] = []

    def err(key: str, value: Any, message: str) -> None:
        bad.append(_Issue(key, value, message))

    for key in ("start", "end"):
        if key not in raw:
            err(key, None, f"'{key}' is missing; give the unit's character offsets")
        elif not _is_int(raw[key]) or raw[key] < 0:
            err(key, raw[key], f"{key}={raw[key]!r} is not a character offset (an int >= 0)")
    start, end = raw.get("start"), raw.get("end")
    if not bad and _is_int(start) and _is_int(end):
        if start > end:
            err("end", end, f"start={start} > end={end}: the offsets are reversed; swap them")
        elif end > len(text):
            err("end", end, _past_end(f"end={end}", end, text))
        elif not text[start:end].strip():
            unit_text = f"text[{start}:{end}]={text[start:end]!r}"
            err("end", end, f"the unit {unit_text} is empty; cover the judged sentence")
        elif unit is not None and text[start:end] != unit:
            hint = _BYTE_HINT if _bytes_give(text, start, end, unit) else "; fix the offsets"
            got = f"text[{start}:{end}]={_short(text[start:end])!r}"
            err("unit", _short(unit), f"unit={_short(unit)!r} is not {got}{hint}")
    holder, target = raw.get("holder"), raw.get("target")
    if "holder" not in raw:
        err("holder", None, "'holder' is missing; give a name, or null for the text's own voice")
    elif holder is not None and (not isinstance(holder, str) or not holder.strip()):
        fix = "give a non-empty name, or null for the text's own voice"
        err("holder", holder, f"holder={holder!r} is not a name; {fix}")
    if not isinstance(target, str) or not target.strip():
        what = "'target' is missing" if "target" not in raw else f"target={target!r} is empty"
        err("target", target, f"{what}; name what the stance is about")
    if raw.get("stance") is None and raw.get("sentiment") is None:
        labels = f"stance ({'/'.join(STANCES)}) or sentiment ({'/'.join(SENTIMENTS)})"
        err("stance", None, f"neither 'stance' nor 'sentiment' is given; add {labels}")
    stance, stance_issue = _check_label(raw, "stance", STANCES, lenient)
    sentiment, sentiment_issue = _check_label(raw, "sentiment", SENTIMENTS, lenient)
    issues = [stance_issue, sentiment_issue]
    issues += [
        _check_mention(k, raw[k], text, name)
        for k, name in zip(_MENTION_KEYS, (holder, target), strict=True)
        if raw.get(k) is not None
    ]
    bad += [i for i in issues if i is not None and not i.note]
    notes = [i for i in issues if i is not None and i.note]
    if bad:
        return None, bad + notes
    hm, tm = (tuple(raw[k]) if raw.get(k) is not None else None for k in _MENTION_KEYS)
    extra = {k: v for k, v in raw.items() if k not in (*_SPAN_KEYS, *_MENTION_KEYS)}
    span = GoldSpan(
        raw["start"], raw["end"], holder, raw["target"], stance, sentiment, hm, tm, extra
    )
    return span, notes


def _check_document(raw: Any) -> list[_Issue]:
    """The document-level issues (a document with any is skipped whole)."""
    if not isinstance(raw, dict):
        got = type(raw).__name__
        return [_Issue(None, _short(raw), f"a document must be a JSON object, got {got}")]
    issues = []
    if not isinstance(raw.get("id"), str) or not raw["id"]:
        what = f"id={raw['id']!r} is not a non-empty string" if "id" in raw else "'id' is missing"
        issues.append(_Issue("id", raw.get("id"), f"{what}; give each document a unique id"))
    for key, want, fix in (
        ("text", str, "give the text as a string"),
        ("spans", list, "give a list of spans ([] for none)"),
    ):
        if not isinstance(raw.get(key), want):
            what = "is missing" if key not in raw else f"is a {type(raw[key]).__name__}"
            issues.append(_Issue(key, _short(raw.get(key)), f"'{key}' {what}; {fix}"))
    if raw.get("meta") is not None and not isinstance(raw["meta"], dict):
        got = type(raw["meta"]).__name__
        issues.append(_Issue("meta", raw["meta"], f"'meta' is a {got}; give an object or omit it"))
    return issues


class _Reader:
    """Collects documents and problems; raises at the first problem unless lenient."""

    def __init__(self, source: str, lenient: bool) -> None:
        self.source, self.lenient = source, lenient
        self.docs: list[GoldDocument] = []
        self.problems: list[SpanProblem] = []
        self.first_line: dict[str, int] = {}
        self.skipped = {"document": 0, "span": 0}

    def report(self, line: int | None, span_index: int | None, issue: _Issue) -> None:
        kind = "note" if issue.note else "error"
        p = SpanProblem(
            self.source, line, span_index, issue.field, issue.value, issue.message, kind
        )
        if not self.lenient:
            raise SpansFormatError(str(p))
        self.problems.append(p)

    def bad_document(self, issues: Iterable[tuple[int, _Issue]]) -> None:
        for line, issue in issues:
            self.report(line, None, issue)
        self.skipped["document"] += 1

    def add(self, raw: Any, line: int, rows: list[tuple[int, str | None]] | None = None) -> None:
        """Check ``raw`` (a document dict) and keep it; ``rows`` gives each span's own line
        and expected unit text (for row-per-span sources)."""
        issues = _check_document(raw)
        if not issues and raw["id"] in self.first_line:
            first = f"{_row_word(self.source)} {self.first_line[raw['id']]}"
            msg = f"id={raw['id']!r} is already used on {first}; give each document its own id"
            issues = [_Issue("id", raw["id"], msg)]
        if issues:
            return self.bad_document((line, i) for i in issues)
        self.first_line[raw["id"]] = line
        spans = []
        for i, s in enumerate(raw["spans"]):
            span_line, unit = rows[i] if rows else (line, None)
            span, span_issues = _check_span(s, raw["text"], self.lenient, unit)
            for issue in span_issues:
                self.report(span_line, i, issue)
            self.skipped["span"] += span is None
            spans += [span] if span is not None else []
        extra = {k: v for k, v in raw.items() if k not in _DOC_KEYS}
        meta = raw.get("meta") or {}
        self.docs.append(GoldDocument(raw["id"], raw["text"], tuple(spans), meta, extra))

    def result(self) -> SpanSet:
        if self.problems:
            notes = sum(p.kind == "note" for p in self.problems)
            warnings.warn(
                f"{self.source}: skipped {self.skipped['span']} span(s) and "
                f"{self.skipped['document']} document(s) with problems, normalised "
                f"{notes} label(s); see SpanSet.problems",
                stacklevel=3,
            )
        return SpanSet(tuple(self.docs), tuple(self.problems))


# -- rows (CSV, DataFrame, Dataset) ----------------------------------------------------------


def _cell(key: str, value: Any) -> Any:
    """A spreadsheet/DataFrame cell as a JSON value: empty -> None, "12" / 12.0 -> 12."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes, list, dict)):
        value = value.item()  # a numpy scalar
    if value is None or type(value).__name__ == "NAType":
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str):
        if key in ("document_id", "doc_id", "id", "holder", "target", "stance", "sentiment"):
            value = value.strip()
        if key in _INT_COLUMNS and value.strip().lstrip("-").isdigit():
            return int(value)
        return value or None
    if key in _INT_COLUMNS and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json_object(value: Any, key: str) -> dict[str, Any] | _Issue:
    """A JSON-object cell (a dict, a JSON string, or empty) as a dict, or its issue."""
    if value is None or isinstance(value, dict):
        return value or {}
    try:
        obj = json.loads(value)
    except (TypeError, ValueError):
        obj = None
    if isinstance(obj, dict):
        return obj
    return _Issue(key, _short(value), f"{key}={_short(value)!r} is not a JSON object")


def _from_struct(s: Any) -> Any:
    """A Dataset span struct as a JSON span: nulls dropped (but holder), extra merged."""
    if not isinstance(s, dict):
        return s
    out = {k: v for k, v in s.items() if k != "extra" and (v is not None or k == "holder")}
    extra = _json_object(s.get("extra"), "extra")
    return {**out, **extra} if isinstance(extra, dict) else {**out, "extra": s["extra"]}


def _read_rows(
    reader: _Reader,
    rows: Iterable[tuple[int, Mapping[Any, Any]]],
    columns: list[str],
    texts: Mapping[str, str] | None,
) -> None:
    """Group one-span-per-row records by document id (first-seen order) and check them."""
    id_col = next((c for c in ("document_id", "doc_id", "id") if c in columns), None)
    missing = [c for c in ("start", "end", "target") if c not in columns]
    missing = ["doc_id"] * (id_col is None) + missing
    if id_col is None or missing:
        raise SpansFormatError(
            f"{reader.source}: missing columns {missing}; need doc_id (or "
            "id), text, start, end, holder, target, stance and/or sentiment"
        )
    known = {*_FRAME_COLUMNS, *_SPAN_KEYS, "doc_id", "id"}
    groups: dict[str, dict[str, Any]] = {}
    for line, row in rows:
        cells = {k: _cell(str(k), v) for k, v in row.items()}
        doc_id = cells.get(id_col)
        if doc_id is None or None in cells:
            why = "has no doc_id" if doc_id is None else "has more cells than the header"
            reader.report(line, None, _Issue(id_col, doc_id, f"the row {why}; fix the row"))
            reader.skipped["span"] += 1
            continue
        g = groups.setdefault(str(doc_id), {"line": line, "spans": [], "rows": [], "issues": []})
        for col in ("text", "document_meta", "document_extra"):
            value, first = cells.get(col), g.get(col)
            if first is None:
                g[col] = value
            elif value is not None and value != first:
                where = f"{_row_word(reader.source)} {g['line']}"
                msg = f"{col} differs from the one given on {where}; give it once"
                g["issues"].append((line, _Issue(col, _short(value), msg)))
        span = {k: cells.get(k) for k in _SPAN_KEYS if cells.get(k) is not None or k == "holder"}
        for key in ("holder", "target"):
            pair = cells.get(f"{key}_start"), cells.get(f"{key}_end")
            if pair != (None, None):
                span[f"{key}_mention"] = list(pair)
        extra = _json_object(cells.get("span_extra"), "span_extra")
        span.update(extra if isinstance(extra, dict) else {"span_extra": cells["span_extra"]})
        span.update({str(k): v for k, v in cells.items() if k not in known and v is not None})
        if span != {"holder": None}:  # else a row with the document's text and no span
            g["spans"].append(span)
            g["rows"].append((line, cells.get("unit")))
    for doc_id, g in groups.items():
        text, issues = g["text"], g["issues"]
        if texts is not None and doc_id in texts:
            if text is not None and text != texts[doc_id]:
                msg = f"the text differs from texts[{doc_id!r}]; give it in one place"
                issues.append((g["line"], _Issue("text", _short(text), msg)))
            text = texts[doc_id]
        if text is None:
            msg = f"document {doc_id!r} has no text; give it on its first row or pass texts="
            issues.append((g["line"], _Issue("text", None, msg + f"{{{doc_id!r}: ...}}")))
        meta = _json_object(g["document_meta"], "document_meta")
        extra = _json_object(g["document_extra"], "document_extra")
        issues += [(g["line"], x) for x in (meta, extra) if isinstance(x, _Issue)]
        if issues or not isinstance(extra, dict):
            reader.bad_document(issues)
        else:
            raw = {"id": doc_id, "text": text, "spans": g["spans"], "meta": meta, **extra}
            reader.add(raw, g["line"], g["rows"])
