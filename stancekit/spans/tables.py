"""Converting spans to and from tables: CSV files, pandas DataFrames and Hugging Face
Datasets (see :mod:`stancekit.spans`)."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stancekit.errors import SpansFormatError
from stancekit.spans.model import _SPAN_KEYS, GoldDocument, SpanSet, _row_word
from stancekit.spans.validate import _Issue, _Reader, _short

if TYPE_CHECKING:
    import datasets
    import pandas as pd

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


def _to_dataframe(documents: Iterable[GoldDocument]) -> pd.DataFrame:
    """:meth:`SpanSet.to_dataframe` of ``documents``."""
    import pandas as pd

    cols: dict[str, list[Any]] = {c: [] for c in _FRAME_COLUMNS}
    for doc in documents:
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


def _to_dataset(documents: Iterable[GoldDocument]) -> datasets.Dataset:
    """:meth:`SpanSet.to_dataset` of ``documents``."""
    from datasets import Dataset, Features, List, Value

    string, int64 = Value("string"), Value("int64")
    span_features = {k: int64 if k in ("start", "end") else string for k in _SPAN_KEYS}
    span_features.update(holder_mention=List(int64), target_mention=List(int64), extra=string)
    features = Features(
        id=string, text=string, spans=List(span_features), meta=string, extra=string
    )
    rows = []
    for d in documents:
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


def _dumps(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


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
