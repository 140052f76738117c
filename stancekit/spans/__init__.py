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

The modules: :mod:`~stancekit.spans.model` (the data classes and labels),
:mod:`~stancekit.spans.validate` (the checks), :mod:`~stancekit.spans.jsonl` (JSON Lines
files) and :mod:`~stancekit.spans.tables` (CSV files, DataFrames and Datasets).

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

from stancekit.spans.jsonl import read_spans, write_spans
from stancekit.spans.model import SENTIMENTS, STANCES, GoldDocument, GoldSpan, SpanProblem, SpanSet
from stancekit.spans.tables import read_spans_csv, spans_from_dataframe, spans_from_dataset

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
