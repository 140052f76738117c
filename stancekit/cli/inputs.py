"""What ``stancekit analyze`` reads: files, folders, standard input and JSON Lines files of
articles, one item per article; an input that cannot be read is reported and skipped."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from stancekit.results.judgements import DocumentResult
from stancekit.text.inputs import TEXT_SUFFIXES

__all__ = ["article_lines", "expand_paths", "read_items", "read_source", "skipped"]


def expand_paths(paths: Sequence[str]) -> list[str]:
    """Expand folders into their text files (sorted); ``-`` is standard input."""
    out: list[str] = []
    for raw in paths:
        p = Path(raw)
        if raw == "-":
            out.append(raw)
        elif p.is_dir():
            out.extend(
                str(f)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in TEXT_SUFFIXES
            )
        else:
            out.append(raw)
    return out


def read_source(source: str) -> str:
    """The text of a file or stdin; errors name the file and the fix."""
    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise ValueError(f"{source}: no such file") from None
        except OSError as exc:
            raise ValueError(f"{source}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{source}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None


def article_lines(source: str, text: str) -> Iterator[dict[str, Any] | str]:
    """The articles of a JSONL file (``text``, optional ``id``, other fields are metadata),
    or for a line that is not one, a message naming the line and the fix."""
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{n}"
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as exc:  # bad JSON, a 5,000-digit int, deep nesting
            yield f"{where}: not a JSON object ({type(exc).__name__}); give one article per line"
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
            yield f"{where}: expected an object with a string 'text' field"
            continue
        meta = {k: v for k, v in rec.items() if k not in ("id", "text", "meta")}
        if isinstance(rec.get("meta"), dict):
            meta.update(rec["meta"])
        id_ = rec.get("id")
        yield {"id": where if id_ is None else str(id_), "text": rec["text"], "meta": meta}


def read_items(
    sources: list[str], failures: list[DocumentResult | str]
) -> Iterator[dict[str, Any]]:
    """One item per article: a text file, standard input, or a line of a ``.jsonl`` file."""
    for src in sources:
        try:
            text = read_source(src)
        except ValueError as exc:
            skipped(failures, str(exc))
            continue
        if not src.lower().endswith(".jsonl"):
            yield {"id": "stdin" if src == "-" else src, "text": text, "meta": {"path": src}}
            continue
        for item in article_lines(src, text):
            if isinstance(item, str):
                skipped(failures, item)
            else:
                yield item


def skipped(failures: list[DocumentResult | str], message: str) -> None:
    failures.append(message)
    print(f"stancekit: skipped {message}", file=sys.stderr)
