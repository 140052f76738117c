"""Reading labelled-spans files into training examples (stancekit.training.data)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stancekit.training.data import (
    Example,
    LabelledSpansError,
    holdout_split,
    read_labelled_spans,
    subsample,
)

TEXT = "Rain fell in Oslo. Ayla praised the Berg plan."
UNIT = (19, len(TEXT))  # the second sentence


def _span(**over: Any) -> dict[str, Any]:
    span: dict[str, Any] = {
        "start": UNIT[0],
        "end": UNIT[1],
        "holder": "Ayla",
        "target": "Berg plan",
        "stance": "favor",
        "holder_mention": [19, 23],
        "target_mention": [36, 45],
    }
    span.update(over)
    return span


def _write(path: Path, *docs: Any) -> Path:
    path.write_text(
        "".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in docs),
        encoding="utf-8",
    )
    return path


def _doc(*spans: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {"id": "d1", "text": TEXT, "spans": list(spans), **over}


def test_a_span_becomes_an_example_over_its_unit(tmp_path: Path) -> None:
    path = _write(tmp_path / "news.jsonl", _doc(_span()))
    [ex] = read_labelled_spans(path)
    assert ex.pair.sentence == "Ayla praised the Berg plan."
    assert (ex.pair.holder, ex.pair.target) == ("Ayla", "Berg plan")
    assert (ex.stance, ex.sentiment) == (0, None)
    assert (ex.source, ex.doc_id) == ("news", "d1")


def test_mention_offsets_are_made_relative_to_the_unit(tmp_path: Path) -> None:
    [ex] = read_labelled_spans(_write(tmp_path / "a.jsonl", _doc(_span())))
    assert ex.pair.holder_span == (0, 4)
    assert ex.pair.target_span == (17, 26)
    s, e = ex.pair.target_span
    assert ex.pair.sentence[s:e] == "Berg plan"


def test_a_mention_outside_the_unit_is_dropped(tmp_path: Path) -> None:
    span = _span(target="Oslo", target_mention=[13, 17])
    [ex] = read_labelled_spans(_write(tmp_path / "a.jsonl", _doc(span)))
    assert ex.pair.target_span is None
    assert ex.pair.holder_span == (0, 4)


def test_sentiment_only_spans_have_no_stance_label(tmp_path: Path) -> None:
    span = _span(holder=None, holder_mention=None, stance=None, sentiment="negative")
    [ex] = read_labelled_spans(_write(tmp_path / "a.jsonl", _doc(span)), source="mtsc")
    assert (ex.stance, ex.sentiment, ex.source) == (None, 2, "mtsc")
    assert ex.pair.holder is None


def test_blank_lines_are_skipped_and_missing_ids_named_by_line(tmp_path: Path) -> None:
    doc = {"text": TEXT, "spans": [_span()]}
    exs = read_labelled_spans(_write(tmp_path / "set.jsonl", "", doc))
    assert [e.doc_id for e in exs] == ["set-2"]


@pytest.mark.parametrize(
    ("line", "where", "field"),
    [
        ("{not json", ":1", "not valid JSON"),
        ("[1, 2]", ":1", "JSON object"),
        ({"text": 3, "spans": []}, ":1", "'text'"),
        ({"text": TEXT, "spans": {}}, ":1", "'spans'"),
        (_doc(_span(stance="pro")), ":1 span 0", "stance='pro'"),
        (_doc(_span(), _span(sentiment="meh")), ":1 span 1", "sentiment='meh'"),
        (_doc(_span(stance=None)), ":1 span 0", "needs a 'stance' or a 'sentiment'"),
        (_doc(_span(end=999)), ":1 span 0", "end=999"),
        (_doc(_span(target="  ")), ":1 span 0", "target="),
        (_doc(_span(holder=7)), ":1 span 0", "holder=7"),
        (_doc(_span(target_mention=[40, 99])), ":1 span 0", "target_mention=[40, 99]"),
        (_doc(_span(holder_mention=[1])), ":1 span 0", "holder_mention=[1]"),
    ],
)
def test_errors_name_the_file_line_and_field(
    tmp_path: Path, line: Any, where: str, field: str
) -> None:
    path = _write(tmp_path / "bad.jsonl", line)
    with pytest.raises(LabelledSpansError, match=re.escape(f"{path}{where}") + ".*"):
        read_labelled_spans(path)
    with pytest.raises(LabelledSpansError, match=re.escape(field)):
        read_labelled_spans(path)


def test_the_error_names_the_line_after_good_lines(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl", _doc(_span()), "", _doc(_span(stance="x")))
    with pytest.raises(LabelledSpansError, match=re.escape(f"{path}:3 span 0: stance='x'")):
        read_labelled_spans(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LabelledSpansError, match=re.escape("nope.jsonl")):
        read_labelled_spans(tmp_path / "nope.jsonl")


def _examples(n: int) -> list[Example]:
    from stancekit.scoring.model import PairInput

    return [
        Example(PairInput(f"s{i}", None, f"t{i % 3}"), 2, None, "x", f"doc{i // 2}")
        for i in range(n)
    ]


def test_holdout_split_keeps_whole_groups_together() -> None:
    exs = _examples(40)
    keys: dict[str, Callable[[Example], str]] = {
        "doc": lambda e: e.doc_id,
        "target": lambda e: e.pair.target,
    }
    for group, key in keys.items():
        train, held = holdout_split(exs, 0.5, group=group, seed=1)
        assert len(train) + len(held) == len(exs)
        assert not {key(e) for e in train} & {key(e) for e in held}
    assert holdout_split(exs, 0.0) == (exs, [])
    with pytest.raises(ValueError, match="holdout group"):
        holdout_split(exs, 0.1, group="sentence")


def test_subsample_is_reproducible_and_keeps_order() -> None:
    exs = _examples(20)
    a, b = subsample(exs, 5, seed=3), subsample(exs, 5, seed=3)
    assert a == b and len(a) == 5
    assert [exs.index(e) for e in a] == sorted(exs.index(e) for e in a)
    assert subsample(exs, None) == exs and subsample(exs, 50) == exs
