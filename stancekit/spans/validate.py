"""Checking records against the spans format, and the reader that keeps the documents that
pass and records (or raises) the problems (see :mod:`stancekit.spans` for the checks)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any, NamedTuple, TypeGuard

from stancekit.errors import SpansFormatError
from stancekit.spans.model import (
    _DOC_KEYS,
    _MENTION_KEYS,
    _SPAN_KEYS,
    SENTIMENTS,
    STANCES,
    GoldDocument,
    GoldSpan,
    SpanProblem,
    SpanSet,
    _row_word,
)

_BYTE_HINT = (
    "; the offsets look like UTF-8 byte offsets: stancekit uses character offsets "
    "(convert with len(data[:offset].decode('utf-8')))"
)


class _Issue(NamedTuple):
    field: str | None
    value: Any
    message: str
    note: bool = False


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any, limit: int = 60) -> Any:
    return value[:limit] + "…" if isinstance(value, str) and len(value) > limit else value


def _past_end(what: str, end: int, text: str) -> str:
    n_bytes = len(text.encode("utf-8", "surrogatepass"))  # lone surrogates: 3 bytes, no crash
    hint = _BYTE_HINT if end <= n_bytes else "; fix the offsets or the text"
    return f"{what} is past the text's length {len(text)}{hint}"


def _bytes_give(text: str, start: int, end: int, wanted: str) -> bool:
    """Whether ``text``'s UTF-8 bytes ``[start:end]`` (but not its characters) are ``wanted``."""
    if text[start:end] == wanted:
        return False
    try:
        data = text.encode("utf-8", "surrogatepass")  # lone surrogates must not crash the check
        return data[start:end].decode("utf-8", "surrogatepass") == wanted
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
