"""What the analyzer accepts as a document: a text, a :class:`Document`, an ``(id, text)``
pair or a mapping with ``text``, each turned into ``(id, text, meta)``; anything else is a
``TypeError`` naming the item, what it got and the fix (decode bytes first).

    >>> to_item(("a1", "The CSTO met."), 0)
    ('a1', 'The CSTO met.', {})
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stancekit.text.document import Document
from stancekit.text.segment import document_id

__all__ = ["TEXT_SUFFIXES", "DocumentInput", "single_item", "to_item"]

#: File suffixes read as one document per file (``stancekit analyze FOLDER``, Ray's reader).
TEXT_SUFFIXES = (".txt", ".md", ".text")

#: What ``analyze_many`` accepts per item: a text, a Document, an ``(id, text)`` pair, or a
#: mapping with ``text`` and optional ``id`` / ``meta``.
DocumentInput = str | Document | tuple[str, str] | Mapping[str, Any]


def _decode_hint(value: object) -> str:
    if isinstance(value, (bytes, bytearray)):
        return "; decode bytes first, e.g. data.decode('utf-8', errors='replace')"
    return ""


def to_item(item: object, position: int) -> tuple[str, str, Mapping[str, Any]]:
    """``(id, text, meta)`` for one input, or TypeError naming what was wrong."""
    if isinstance(item, str):
        return document_id(item), item, {}
    if isinstance(item, Document):
        return item.id, item.text, item.meta
    if isinstance(item, tuple) and len(item) == 2:
        id_, text = item
        if not isinstance(text, str):
            raise TypeError(
                f"item {position}: text must be str, got {type(text).__name__}" + _decode_hint(text)
            )
        return str(id_), text, {}
    if isinstance(item, Mapping):
        text = item.get("text")
        if not isinstance(text, str):
            raise TypeError(
                f"item {position}: mapping needs a str 'text' field, got {type(text).__name__}"
                + _decode_hint(text)
            )
        id_ = item.get("id")
        meta = item.get("meta") or {k: v for k, v in item.items() if k not in ("id", "text")}
        return (str(id_) if id_ is not None else document_id(text)), text, meta
    raise TypeError(
        f"item {position}: expected str, Document, (id, text) or a mapping with 'text'; "
        f"got {type(item).__name__}" + _decode_hint(item)
    )


def single_item(
    text: object, id: str | None, meta: Mapping[str, Any] | None
) -> tuple[str, str, Mapping[str, Any]]:
    """``(id, text, meta)`` for the ``text`` parameter of :meth:`StanceAnalyzer.analyze` /
    :meth:`StanceAnalyzer.judge`: a str or a Document; ``id`` and ``meta`` override."""
    if isinstance(text, Document):
        return id or text.id, text.text, meta or text.meta
    if isinstance(text, str):
        return (id if id is not None else document_id(text)), text, meta or {}
    raise TypeError(
        f"'text' must be a str or a stancekit Document, got {type(text).__name__}; "
        "decode bytes first (data.decode('utf-8'))"
    )
