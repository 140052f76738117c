"""Reading and writing JSON Lines spans files (see :mod:`stancekit.spans` for the format)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from stancekit.atomic import atomic_open
from stancekit.errors import SpansFormatError
from stancekit.results.judgements import json_line
from stancekit.spans.model import GoldDocument, SpanSet
from stancekit.spans.validate import _Issue, _Reader, _short


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
        except (ValueError, RecursionError) as exc:  # an int of > 4300 digits; deep nesting
            msg = f"unreadable JSON ({type(exc).__name__}: {str(exc)[:80]}); fix the line"
            reader.bad_document([(n, _Issue(None, _short(raw.decode("utf-8")), msg))])
        else:
            reader.add(obj, n)
    return reader.result()


def write_spans(path: str | Path, docs: Iterable[GoldDocument] | SpanSet) -> Path:
    """Write documents as JSON Lines (UTF-8, not ASCII-escaped, except surrogate code points
    from lone ``\\ud800`` escapes, which are written as such escapes so that reading the file
    back gives the same strings), atomically: into a temporary file in the same folder,
    then ``os.replace``; on any error the old file is untouched.
    """
    p = Path(path)
    with atomic_open(p) as f:
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
            f.write(json_line(doc.to_dict()) + "\n")
    return p
