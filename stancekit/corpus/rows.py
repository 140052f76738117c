"""Inputs to judgement rows: the columns, metadata values, dates, JSONL and tables.

The helpers behind :class:`~stancekit.corpus.Corpus`'s constructors: :func:`split_rows`
turns a table of judgement rows into the rows and one metadata row per document,
:func:`parse_date` reads one date, :func:`with_dates` a documents table's dates.

Example:
    >>> parse_date("2022-11-30T23:30:00-05:00")
    (Timestamp('2022-12-01 04:30:00'), None)
    >>> parse_date("someday")
    (None, 'unparseable')
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from stancekit.errors import StancekitError
from stancekit.results.judgements import AUTHOR

__all__ = [
    "DATE_FIELDS",
    "DERIVED_COLUMNS",
    "JUDGEMENT_COLUMNS",
    "META_KEY",
    "REQUIRED_COLUMNS",
    "CorpusError",
    "CorpusWarning",
    "is_missing",
    "json_records",
    "meta_name",
    "parse_date",
    "read_jsonl_file",
    "read_table",
    "scalar",
    "split_rows",
    "take_record",
    "with_dates",
]

DATE_FIELDS = ("date", "published", "published_at", "datetime", "timestamp")
JUDGEMENT_COLUMNS = [
    *("document_id", "sentence_index", "sentence_start", "sentence_end", "sentence"),
    *("holder", "holder_kind", "holder_state", "attribution", "target", "stance", "p_favor"),
    "p_against",
    *("p_none", "sentiment", "p_positive", "p_neutral", "p_negative", "holder_start"),
    *("holder_end", "holder_text", "target_start", "target_end", "target_text", "flags"),
]
REQUIRED_COLUMNS = (
    "document_id",
    "sentence_index",
    "holder",
    "target",
    "p_favor",
    "p_against",
    "p_none",
)
#: Columns the corpus computes (``date`` too, but it is also the raw metadata field).
DERIVED_COLUMNS = ("holder_surface", "target_actor", "date_flag", "date_raw")
META_KEY = b"stancekit.corpus"
PathLike = str | os.PathLike[str]


class CorpusError(StancekitError, ValueError):
    """Corpus input that cannot be read: a bad file, a missing column."""


class CorpusWarning(UserWarning):
    """Something in the corpus input was set aside (an unparseable date, unmatched metadata)."""


def scalar(value: Any) -> Any:
    """A Parquet-friendly metadata value: scalars as they are, anything else as JSON."""
    if value is None or isinstance(value, str | int | float | bool | dt.date | pd.Timestamp):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def meta_name(key: str) -> str:
    return f"meta_{key}" if key in JUDGEMENT_COLUMNS or key in DERIVED_COLUMNS else key


def is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_date(value: Any) -> tuple[pd.Timestamp | None, str | None]:
    """``(timestamp, flag)``: flag is None, ``"missing"`` or ``"unparseable"``."""
    if is_missing(value):
        return None, "missing"
    try:
        ts = pd.Timestamp(value if isinstance(value, dt.date) else str(value).strip())
    except (ValueError, TypeError, OverflowError):
        return None, "unparseable"
    if pd.isna(ts):
        return None, "unparseable"
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts, None


def with_dates(docs: pd.DataFrame) -> pd.DataFrame:
    """``docs`` with ``date`` (datetime64), ``date_flag`` and ``date_raw``; warns on bad dates."""
    source = next((f for f in DATE_FIELDS if f in docs.columns), None)
    raw = docs[source] if source is not None else pd.Series([None] * len(docs), index=docs.index)
    parsed = [parse_date(v) for v in raw]
    out = docs.drop(columns=["date"], errors="ignore")
    out["date"] = pd.to_datetime(pd.Series([p[0] for p in parsed], index=docs.index, dtype=object))
    out["date_flag"] = [p[1] for p in parsed]
    out["date_raw"] = [None if is_missing(v) else str(v) for v in raw]
    bad = out[out["date_flag"] == "unparseable"]
    if len(bad):
        pairs = zip(bad.index[:3], bad["date_raw"][:3], strict=True)
        examples = ", ".join(f"{d!r} ({v!r})" for d, v in pairs)
        warnings.warn(
            f"{len(bad)} of {len(out)} documents have a {source!r} that is not a date: "
            f"{examples}{' ...' if len(bad) > 3 else ''}. Their date is NaT "
            "(date_flag='unparseable') and over_time() leaves them out; write dates as "
            "ISO 8601, e.g. 2022-11-28.",
            CorpusWarning,
            stacklevel=5,
        )
    return out


def split_rows(frame: pd.DataFrame, where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Judgement rows and per-document metadata from a table of judgement rows."""
    if "sentence" not in frame.columns and "evidence" in frame.columns:
        raise CorpusError(
            f"{where}: these are summary rows (`stancekit analyze --summary`); a corpus needs "
            "one row per judgement: run `stancekit analyze --format jsonl` without --summary"
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise CorpusError(
            f"{where}: missing column(s) {missing}; a corpus needs judgement rows as "
            "`stancekit analyze --format jsonl` writes them (DocumentResult.to_records())"
        )
    frame = frame.reset_index(drop=True)
    surface = frame["holder_surface"] if "holder_surface" in frame.columns else frame["holder"]
    rows = pd.DataFrame(
        {c: frame[c] if c in frame.columns else None for c in JUDGEMENT_COLUMNS},
        index=frame.index,
    )
    rows["document_id"] = rows["document_id"].astype(str)
    rows["holder_surface"] = [None if is_missing(s) or s == AUTHOR else str(s) for s in surface]
    meta = frame.drop(
        columns=[c for c in frame.columns if c in (*JUDGEMENT_COLUMNS, *DERIVED_COLUMNS)]
    )
    if "date_raw" in frame.columns:  # written by Corpus: the raw date is the source
        meta["date"] = frame["date_raw"]
    meta.insert(0, "document_id", rows["document_id"])
    docs = meta.groupby("document_id", sort=False).first().reset_index()
    # rows without probabilities (a failed document's ``error`` row) are no judgements
    rows = rows[rows["p_favor"].notna().to_numpy()].drop(columns=["holder"])
    if rows["sentence_index"].notna().all():
        rows["sentence_index"] = rows["sentence_index"].astype("int64")
    return rows.reset_index(drop=True), docs


def read_table(source: pd.DataFrame | Mapping[str, Any] | PathLike) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if isinstance(source, Mapping):
        return pd.DataFrame(
            [{"document_id": str(k), **dict(v)} for k, v in source.items()],
        )
    p = Path(source)
    if not p.is_file():
        raise CorpusError(f"metadata file {str(p)!r}: no such file; check the path")
    header = pd.read_csv(p, nrows=0).columns
    return pd.read_csv(p, dtype={c: str for c in ("document_id", "id") if c in header})


def json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(
        frame.to_json(orient="records", date_format="iso", default_handler=str)
    )
    return records


def read_jsonl_file(path: Path, records: list[dict[str, Any]], docs: list[dict[str, Any]]) -> None:
    if not path.is_file():
        raise CorpusError(f"read_jsonl: {str(path)!r}: no such file; check the path")
    if path.suffix.lower() == ".json":  # `stancekit analyze --format json`: one JSON array
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (ValueError, RecursionError) as exc:  # also a 5,000-digit int, deep nesting
            raise CorpusError(f"read_jsonl: {str(path)!r}: not JSON ({exc})") from None
        for k, obj in enumerate(data if isinstance(data, list) else [data]):
            take_record(obj, f"{str(path)!r}, item {k}", records, docs)
        return
    with path.open(encoding="utf-8-sig") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except (ValueError, RecursionError) as exc:  # a 5,000-digit int, deep nesting
                why = exc.msg if isinstance(exc, json.JSONDecodeError) else type(exc).__name__
                raise CorpusError(
                    f"read_jsonl: {str(path)!r}, line {lineno}: not JSON ({why}); each line "
                    "must be one record as `stancekit analyze --format jsonl` writes it"
                ) from None
            take_record(obj, f"{str(path)!r}, line {lineno}", records, docs)


def take_record(
    obj: Any, where: str, records: list[dict[str, Any]], docs: list[dict[str, Any]]
) -> None:
    """Add a judgement record, or a whole ``DocumentResult.to_dict()``, to the lists."""
    if not isinstance(obj, dict):
        raise CorpusError(f"read_jsonl: {where}: expected a JSON object, got {type(obj).__name__}")
    if "judgements" in obj and isinstance(obj.get("document"), dict):
        doc = obj["document"]
        info = {meta_name(k): scalar(v) for k, v in (doc.get("meta") or {}).items()}
        info.update(
            document_id=str(doc.get("id")),
            n_document_sentences=len(doc.get("sentences") or ()),
            error=obj.get("error"),
        )
        docs.append(info)
        records.extend(obj["judgements"])
    else:
        records.append(obj)
