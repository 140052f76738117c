"""Tests for stancekit.spans: reading, checking, writing and converting labelled spans."""

from __future__ import annotations

import csv
import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from stancekit.errors import SpansFormatError
from stancekit.spans import (
    GoldDocument,
    GoldSpan,
    SpanProblem,
    SpanSet,
    read_spans,
    read_spans_csv,
    spans_from_dataframe,
    spans_from_dataset,
    write_spans,
)

TEXT = "Ann praised Bob. Bob left."  # unit 0..16; Ann 0..3, Bob 12..15; "Bob left." 17..26
UTEXT = "Zoë blamed Ünal. Ünal denied it."  # non-ASCII: byte offsets differ from characters


def span(**changes: Any) -> dict[str, Any]:
    """A valid span of TEXT, with ``changes`` applied (a value of ... deletes the key)."""
    s: dict[str, Any] = {
        "start": 0,
        "end": 16,
        "holder": "Ann",
        "target": "Bob",
        "stance": "favor",
        "holder_mention": [0, 3],
        "target_mention": [12, 15],
    }
    s.update(changes)
    return {k: v for k, v in s.items() if v is not ...}


def doc(id: Any = "d1", spans: Any = None, **changes: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"id": id, "text": TEXT, "spans": [span()] if spans is None else spans}
    d.update(changes)
    return {k: v for k, v in d.items() if v is not ...}


def write_lines(path: Path, *items: Any) -> Path:
    lines = [x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in items]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def gold(tmp_path: Path) -> Path:
    return tmp_path / "gold.jsonl"


@pytest.fixture
def rich_set() -> SpanSet:
    """Documents exercising every field: null holder, sentiment only, mentions, extras, meta."""
    return SpanSet(
        (
            GoldDocument(
                "d1",
                TEXT,
                (
                    GoldSpan(
                        0,
                        16,
                        "Ann",
                        "Bob",
                        stance="favor",
                        holder_mention=(0, 3),
                        target_mention=(12, 15),
                        extra={"annotator": "ab", "conf": 0.5},
                    ),
                    GoldSpan(17, 26, None, "Bob", sentiment="neutral", target_mention=(17, 20)),
                    GoldSpan(0, 16, "Bob", "Ann", stance="none", sentiment="positive"),
                ),
                meta={"source": "hand", "year": 2022},
                extra={"split": "test"},
            ),
            GoldDocument("d2", UTEXT, (GoldSpan(0, 16, "Zoë", "Ünal", stance="against"),)),
            GoldDocument("d3", "Nothing labelled here.", ()),
        )
    )


# -- objects ---------------------------------------------------------------------------------


def test_span_to_dict_omits_absent_fields_but_keeps_null_holder() -> None:
    s = GoldSpan(17, 26, None, "Bob", sentiment="neutral")
    assert s.to_dict() == {
        "start": 17,
        "end": 26,
        "holder": None,
        "target": "Bob",
        "sentiment": "neutral",
    }


def test_span_to_dict_merges_extras_and_writes_mentions_as_lists() -> None:
    s = GoldSpan(0, 16, "Ann", "Bob", stance="favor", holder_mention=(0, 3), extra={"x": 1})
    assert s.to_dict() == {
        "start": 0,
        "end": 16,
        "holder": "Ann",
        "target": "Bob",
        "stance": "favor",
        "holder_mention": [0, 3],
        "x": 1,
    }


def test_document_unit_text_and_span_set_basics(rich_set: SpanSet) -> None:
    d1 = rich_set.documents[0]
    assert d1.unit_text(d1.spans[1]) == "Bob left."
    assert len(rich_set) == 3 and rich_set.n_spans == 4
    assert [d.id for d in rich_set] == ["d1", "d2", "d3"]
    assert rich_set.to_dict()["documents"][2] == {
        "id": "d3",
        "text": "Nothing labelled here.",
        "spans": [],
    }


def test_document_rejects_a_span_past_its_text() -> None:
    with pytest.raises(SpansFormatError, match=r"GoldDocument 'd1', span 0: end=99 is past"):
        GoldDocument("d1", TEXT, (GoldSpan(0, 99, "Ann", "Bob", stance="favor"),))


def test_span_problem_str_names_file_line_and_span() -> None:
    p = SpanProblem(
        "gold.jsonl",
        12,
        3,
        "end",
        512,
        "end=512 is past the text's length 498; fix the offsets or the text",
    )
    assert str(p) == (
        "gold.jsonl line 12, span 3: end=512 is past the text's length 498; "
        "fix the offsets or the text"
    )
    assert str(SpanProblem("<DataFrame>", 4, None, "text", None, "no text")) == (
        "<DataFrame> row 4: no text"
    )


# -- round trips -----------------------------------------------------------------------------


def test_jsonl_round_trip_gives_equal_objects(rich_set: SpanSet, gold: Path) -> None:
    write_spans(gold, rich_set)
    assert read_spans(gold) == rich_set


def test_rewriting_a_file_this_module_wrote_is_byte_identical(
    rich_set: SpanSet, tmp_path: Path
) -> None:
    first = write_spans(tmp_path / "a.jsonl", rich_set)
    second = write_spans(tmp_path / "b.jsonl", read_spans(first))
    assert first.read_bytes() == second.read_bytes()
    assert "Zoë" in first.read_text(encoding="utf-8")  # UTF-8, not \u escapes


def test_hand_written_file_in_canonical_order_rewrites_byte_identically(
    gold: Path, tmp_path: Path
) -> None:
    own_voice = {"start": 17, "end": 26, "holder": None, "target": "Bob", "sentiment": "negative"}
    write_lines(gold, doc(), doc("d2", spans=[own_voice], meta={"a": 1}, source="x"))
    out = write_spans(tmp_path / "out.jsonl", read_spans(gold))
    assert out.read_bytes() == gold.read_bytes()


def test_extra_keys_on_documents_and_spans_are_kept(gold: Path, tmp_path: Path) -> None:
    write_lines(
        gold,
        doc(
            spans=[span(annotator="ab", notes={"hard": True})],
            source="rfe",
            meta={"url": "https://example.org"},
        ),
    )
    d = read_spans(gold).documents[0]
    assert d.extra == {"source": "rfe"} and d.meta == {"url": "https://example.org"}
    assert d.spans[0].extra == {"annotator": "ab", "notes": {"hard": True}}
    again = json.loads(write_spans(tmp_path / "o.jsonl", [d]).read_text(encoding="utf-8"))
    assert again["source"] == "rfe" and again["spans"][0]["notes"] == {"hard": True}


def test_dataframe_round_trip(rich_set: SpanSet) -> None:
    df = rich_set.to_dataframe()
    assert len(df) == 5  # four spans, and one row for the document without spans
    assert spans_from_dataframe(df) == rich_set


def test_dataframe_has_one_row_per_span_with_unit_and_text(rich_set: SpanSet) -> None:
    df = rich_set.to_dataframe()
    row = df.iloc[1]
    assert (row["document_id"], row["unit"], row["text"]) == ("d1", "Bob left.", TEXT)
    assert row["target_start"] == 17 and row["target_end"] == 20
    for column in ("holder_start", "holder_end", "target_start", "target_end", "stance"):
        assert column in df.columns


def test_dataset_round_trip(rich_set: SpanSet) -> None:
    ds = rich_set.to_dataset()
    assert len(ds) == 3 and ds[0]["id"] == "d1" and len(ds[0]["spans"]) == 3
    assert spans_from_dataset(ds) == rich_set


def test_empty_span_set_round_trips(tmp_path: Path) -> None:
    empty = SpanSet()
    assert read_spans(write_spans(tmp_path / "e.jsonl", empty)) == empty
    assert spans_from_dataframe(empty.to_dataframe()) == empty
    assert spans_from_dataset(empty.to_dataset()) == empty


# -- writing ---------------------------------------------------------------------------------


def test_write_is_atomic_and_leaves_no_temp_files(rich_set: SpanSet, tmp_path: Path) -> None:
    target = write_spans(tmp_path / "gold.jsonl", rich_set)
    before = target.read_bytes()
    bad = GoldDocument(
        "d9", TEXT, (GoldSpan(0, 16, "Ann", "Bob", "favor", extra={"score": float("nan")}),)
    )
    with pytest.raises(ValueError):
        write_spans(target, [*rich_set, bad])  # fails after writing three documents
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["gold.jsonl"]


def test_write_rejects_duplicate_ids(rich_set: SpanSet, gold: Path) -> None:
    with pytest.raises(SpansFormatError, match=r"document 3 repeats id='d1'"):
        write_spans(gold, [*rich_set, rich_set.documents[0]])
    assert not gold.exists() and os.listdir(gold.parent) == []


def test_read_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_spans(tmp_path / "nope.jsonl")


def test_blank_lines_and_a_bom_are_ignored(gold: Path) -> None:
    gold.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc()).encode() + b"\n\n  \n")
    assert len(read_spans(gold)) == 1


# -- strict checks ---------------------------------------------------------------------------

BAD_LINES = [
    # (bad line 2, span index in the message or None, expected message parts)
    ("{not json", None, ["invalid JSON", "column 2"]),
    (["a list"], None, ["a document must be a JSON object, got list"]),
    (doc(id=...), None, ["'id' is missing"]),
    (doc(id=7), None, ["id=7 is not a non-empty string"]),
    (doc(text=...), None, ["'text' is missing"]),
    (doc(text=123), None, ["'text' is a int", "string"]),
    (doc(id="d0"), None, ["id='d0' is already used on line 1", "its own id"]),
    (doc(spans=...), None, ["'spans' is missing", "[]"]),
    (doc(spans={"start": 0}), None, ["'spans' is a dict"]),
    (doc(meta=[1]), None, ["'meta' is a list"]),
    (doc(spans=["x"]), 0, ["a span must be a JSON object, got str"]),
    (doc(spans=[span(), span(start="0")]), 1, ["start='0' is not a character offset"]),
    (doc(spans=[span(end=...)]), 0, ["'end' is missing"]),
    (doc(spans=[span(start=-1)]), 0, ["start=-1 is not a character offset"]),
    (doc(spans=[span(start=1.5)]), 0, ["start=1.5 is not"]),
    (doc(spans=[span(start=True)]), 0, ["start=True is not"]),
    (doc(spans=[span(start=10, end=3)]), 0, ["start=10 > end=3", "reversed"]),
    (doc(spans=[span(end=99)]), 0, ["end=99 is past the text's length 26", "fix the offsets"]),
    (doc(spans=[span(start=5, end=5)]), 0, ["text[5:5]=''", "is empty"]),
    (doc(spans=[span(start=16, end=17)]), 0, ["text[16:17]=' '", "is empty"]),
    (doc(spans=[span(holder=...)]), 0, ["'holder' is missing", "null"]),
    (doc(spans=[span(holder="")]), 0, ["holder='' is not a name", "null"]),
    (doc(spans=[span(holder=5)]), 0, ["holder=5 is not a name"]),
    (doc(spans=[span(target=...)]), 0, ["'target' is missing"]),
    (doc(spans=[span(target=" ")]), 0, ["target=' ' is empty"]),
    (doc(spans=[span(stance=...)]), 0, ["neither 'stance' nor 'sentiment'", "favor/against"]),
    (doc(spans=[span(stance="pro")]), 0, ["stance='pro' is not a label", "favor, against, none"]),
    (doc(spans=[span(sentiment="good")]), 0, ["sentiment='good' is not a label", "positive"]),
    (doc(spans=[span(stance="Favor")]), 0, ["stance='Favor' is not a label; use 'favor'"]),
    (doc(spans=[span(sentiment="NEGATIVE")]), 0, ["use 'negative'"]),
    (doc(spans=[span(holder_mention=[1])]), 0, ["holder_mention=[1] is not a [start, end] pair"]),
    (doc(spans=[span(target_mention="12-15")]), 0, ["target_mention='12-15' is not a"]),
    (doc(spans=[span(holder_mention=[3, 0])]), 0, ["holder_mention=[3, 0] is reversed"]),
    (
        doc(spans=[span(target_mention=[20, 40])]),
        0,
        ["target_mention=[20, 40] is past the text's length 26"],
    ),
]

BAD_IDS = [parts[0][:40] for _, _, parts in BAD_LINES]


@pytest.mark.parametrize(("line", "span_index", "parts"), BAD_LINES, ids=BAD_IDS)
def test_strict_read_raises_at_the_first_problem_naming_file_line_span_and_value(
    gold: Path, line: Any, span_index: int | None, parts: list[str]
) -> None:
    write_lines(gold, doc("d0"), line, doc("d3"))
    with pytest.raises(SpansFormatError) as info:
        read_spans(gold)
    message = str(info.value)
    where = "gold.jsonl line 2" + ("" if span_index is None else f", span {span_index}")
    assert f"{where}: " in message
    for part in parts:
        assert part in message


@pytest.mark.parametrize(("line", "span_index", "parts"), BAD_LINES, ids=BAD_IDS)
def test_lenient_read_skips_and_reports_each_problem(
    gold: Path, line: Any, span_index: int | None, parts: list[str]
) -> None:
    write_lines(gold, doc("d0"), line, doc("d3"))
    with pytest.warns(UserWarning, match=r"gold.jsonl: skipped \d span\(s\) and \d document"):
        result = read_spans(gold, lenient=True)
    assert result.problems and all(p.line == 2 for p in result.problems)
    first = result.problems[0]
    assert first.span_index == span_index
    wrong_case = any("use '" in part for part in parts)
    if wrong_case:  # kept, with the label in lower case
        assert first.kind == "note" and "normalised to" in first.message
    else:
        assert first.kind == "error" and parts[0] in first.message
    assert result.n_spans == 2 + (span_index == 1) + wrong_case


def test_lenient_problems_carry_field_and_value(gold: Path) -> None:
    write_lines(gold, doc(spans=[span(end=99), span(), span(stance="pro", target="")]))
    with pytest.warns(UserWarning, match=r"skipped 2 span\(s\) and 0 document\(s\)"):
        result = read_spans(gold, lenient=True)
    assert [(p.line, p.span_index, p.field, p.value) for p in result.problems] == [
        (1, 0, "end", 99),
        (1, 2, "target", ""),
        (1, 2, "stance", "pro"),
    ]
    assert result.n_spans == 1 and all(p.kind == "error" for p in result.problems)


def test_lenient_read_normalises_wrong_case_labels_with_a_note(gold: Path) -> None:
    write_lines(gold, doc(spans=[span(stance="AGAINST", sentiment="Negative")]))
    with pytest.warns(UserWarning, match=r"normalised 2 label\(s\)"):
        result = read_spans(gold, lenient=True)
    s = result.documents[0].spans[0]
    assert (s.stance, s.sentiment) == ("against", "negative")
    assert [(p.kind, p.field, p.value) for p in result.problems] == [
        ("note", "stance", "AGAINST"),
        ("note", "sentiment", "Negative"),
    ]
    assert "normalised to 'against'" in result.problems[0].message


def test_clean_lenient_read_does_not_warn(gold: Path) -> None:
    write_lines(gold, doc())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_spans(gold, lenient=True).problems == ()


def test_a_mention_outside_the_unit_is_allowed(gold: Path) -> None:
    write_lines(gold, doc(spans=[span(start=17, end=26, holder_mention=[0, 3])]))
    assert read_spans(gold).documents[0].spans[0].holder_mention == (0, 3)


# -- byte offsets ----------------------------------------------------------------------------


def test_end_within_the_byte_length_is_reported_as_byte_offsets(gold: Path) -> None:
    n_chars, n_bytes = len(UTEXT), len(UTEXT.encode("utf-8"))
    assert n_bytes > n_chars
    bad = {"start": 0, "end": n_bytes, "holder": None, "target": "Ünal", "stance": "against"}
    write_lines(gold, {"id": "u", "text": UTEXT, "spans": [bad]})
    with pytest.raises(SpansFormatError, match="look like UTF-8 byte offsets") as info:
        read_spans(gold)
    assert f"end={n_bytes} is past the text's length {n_chars}" in str(info.value)
    assert "character offsets" in str(info.value)


def test_mention_that_matches_the_name_only_on_bytes_is_reported(gold: Path) -> None:
    raw = UTEXT.encode("utf-8")
    b0 = raw.index("Ünal".encode())
    good = {"start": 0, "end": 16, "holder": "Zoë", "target": "Ünal", "stance": "against"}
    write_lines(
        gold, {"id": "u", "text": UTEXT, "spans": [{**good, "target_mention": [b0, b0 + 5]}]}
    )
    with pytest.raises(SpansFormatError, match=r"target_mention=.* byte offsets"):
        read_spans(gold)


def test_end_far_past_the_text_gets_no_byte_hint(gold: Path) -> None:
    write_lines(gold, doc(spans=[span(end=500)]))
    with pytest.raises(SpansFormatError) as info:
        read_spans(gold)
    assert "byte" not in str(info.value)


# -- surrogates and unreadable JSON (found by tests/test_properties.py) ------------------------

STEXT = "Zas \ud800 blamed Baku."  # a lone \ud800 escape in the file: not encodable as UTF-8


def test_lone_surrogates_round_trip_through_write_and_read(gold: Path) -> None:
    docs = SpanSet(
        (GoldDocument("s\udfff", STEXT, (GoldSpan(0, 18, "Zas", "Baku", stance="against"),)),)
    )
    write_spans(gold, docs)
    data = gold.read_bytes()
    data.decode("utf-8")  # valid UTF-8: the surrogates are written as \\ud800 escapes
    assert b"\\ud800" in data and b"\\udfff" in data
    assert read_spans(gold) == docs


def test_byte_offset_hints_do_not_crash_on_lone_surrogates(gold: Path) -> None:
    past = {"start": 0, "end": 20, "holder": None, "target": "Baku", "stance": "none"}
    write_lines(gold, json.dumps({"id": "a", "text": STEXT, "spans": [past]}))
    with pytest.raises(SpansFormatError, match="end=20 is past the text's length 18; the offsets"):
        read_spans(gold)
    other = {**past, "end": 18, "target_mention": [4, 6]}  # not "Baku", but not bytes either
    write_lines(gold, json.dumps({"id": "a", "text": STEXT, "spans": [other]}))
    assert read_spans(gold).documents[0].spans[0].target_mention == (4, 6)


@pytest.mark.parametrize(
    ("line", "why"),
    [("[" * 100_000, "RecursionError"), ('{"id": 1' + "0" * 5_000 + "}", "ValueError")],
    ids=["deep-nesting", "huge-int"],
)
def test_json_python_cannot_read_is_a_spans_error_not_a_crash(
    gold: Path, line: str, why: str
) -> None:
    write_lines(gold, doc("d0"), line)
    with pytest.raises(SpansFormatError, match=f"line 2: unreadable JSON \\({why}"):
        read_spans(gold)
    with pytest.warns(UserWarning, match="skipped 0 span"):
        assert [d.id for d in read_spans(gold, lenient=True)] == ["d0"]


# -- CSV -------------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], *rows: list[Any]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


CSV_HEADER = ["doc_id", "text", "start", "end", "holder", "target", "stance", "sentiment"]


def test_csv_with_text_on_the_first_row_only(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "l.csv",
        CSV_HEADER,
        ["d1", TEXT, 0, 16, "Ann", "Bob", "favor", ""],
        ["d1", "", 17, 26, "", "Bob", "", "neutral"],
        ["d2", UTEXT, 0, 16, "Zoë", "Ünal", "against", "negative"],
    )
    result = read_spans_csv(p)
    assert [d.id for d in result] == ["d1", "d2"]
    s0, s1 = result.documents[0].spans
    assert s0 == GoldSpan(0, 16, "Ann", "Bob", stance="favor")
    assert s1 == GoldSpan(17, 26, None, "Bob", sentiment="neutral")  # empty holder = own voice
    assert result.documents[1].spans[0].sentiment == "negative"


def test_csv_with_texts_mapping_and_mention_columns(tmp_path: Path) -> None:
    header = [
        "id",
        "start",
        "end",
        "holder",
        "target",
        "stance",
        "sentiment",
        "holder_start",
        "holder_end",
        "target_start",
        "target_end",
    ]
    p = write_csv(
        tmp_path / "l.csv", header, ["d1", 0, 16, "Ann", "Bob", "favor", "", 0, 3, 12, 15]
    )
    s = read_spans_csv(p, texts={"d1": TEXT}).documents[0].spans[0]
    assert (s.holder_mention, s.target_mention) == ((0, 3), (12, 15))


def test_csv_groups_rows_of_one_document_in_order_and_keeps_extra_columns(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "l.csv",
        [*CSV_HEADER, "annotator"],
        ["d1", TEXT, 17, 26, "", "Bob", "none", "", "ab"],
        ["d2", "Cy met Di.", 0, 10, "Cy", "Di", "none", "", ""],
        ["d1", "", 0, 16, "Ann", "Bob", "favor", "", "cd"],
    )
    result = read_spans_csv(p)
    d1 = result.documents[0]
    assert [(s.start, s.extra) for s in d1.spans] == [
        (17, {"annotator": "ab"}),
        (0, {"annotator": "cd"}),
    ]
    assert result.documents[1].spans[0].extra == {}


def test_csv_row_without_stance_or_sentiment_names_its_line(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "l.csv",
        CSV_HEADER,
        ["d1", TEXT, 0, 16, "Ann", "Bob", "favor", ""],
        ["d1", "", 17, 26, "", "Bob", "", ""],
    )
    with pytest.raises(SpansFormatError, match=r"l.csv line 3, span 1: neither 'stance'"):
        read_spans_csv(p)
    with pytest.warns(UserWarning):
        assert read_spans_csv(p, lenient=True).n_spans == 1


def test_csv_document_without_text_suggests_texts_argument(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "l.csv", CSV_HEADER, ["d1", "", 0, 16, "Ann", "Bob", "favor", ""])
    with pytest.raises(SpansFormatError, match=r"line 2: document 'd1' has no text.*texts="):
        read_spans_csv(p)


def test_csv_conflicting_texts_are_an_error(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "l.csv",
        CSV_HEADER,
        ["d1", TEXT, 0, 16, "Ann", "Bob", "favor", ""],
        ["d1", "Another text.", 0, 16, "Ann", "Bob", "favor", ""],
    )
    with pytest.raises(
        SpansFormatError, match=r"line 3: text differs from the one given on line 2"
    ):
        read_spans_csv(p)
    one_row = write_csv(tmp_path / "one.csv", CSV_HEADER, ["d1", TEXT, 0, 16, "A", "B", "none", ""])
    with pytest.raises(SpansFormatError, match=r"line 2: the text differs from texts\['d1'\]"):
        read_spans_csv(one_row, texts={"d1": "Other."})


def test_csv_missing_columns_are_named(tmp_path: Path) -> None:
    p = write_csv(tmp_path / "l.csv", ["doc_id", "text", "start"], ["d1", TEXT, 0])
    with pytest.raises(SpansFormatError, match=r"missing columns \['end', 'target'\]"):
        read_spans_csv(p)


def test_csv_bad_offset_cell_is_reported(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "l.csv", CSV_HEADER, ["d1", TEXT, "zero", 16, "Ann", "Bob", "favor", ""]
    )
    with pytest.raises(SpansFormatError, match=r"line 2, span 0: start='zero' is not"):
        read_spans_csv(p)


def test_csv_unit_column_that_matches_only_on_bytes_gets_the_byte_hint(tmp_path: Path) -> None:
    raw = UTEXT.encode("utf-8")
    unit = "Ünal denied it."
    b0 = raw.index(unit.encode())
    p = write_csv(
        tmp_path / "l.csv",
        [*CSV_HEADER, "unit"],
        ["u", UTEXT, b0, b0 + len(unit.encode()), "Ünal", "Zoë", "against", "", unit],
    )
    with pytest.raises(SpansFormatError, match="UTF-8 byte offsets"):
        read_spans_csv(p)


def test_dataframe_problems_name_the_row(rich_set: SpanSet) -> None:
    df = rich_set.to_dataframe()
    df.loc[1, "end"] = 99
    with pytest.raises(SpansFormatError, match=r"<DataFrame> row 1, span 1: end=99 is past"):
        spans_from_dataframe(df)
    with pytest.warns(UserWarning, match=r"skipped 1 span"):
        assert spans_from_dataframe(df, lenient=True).n_spans == 3


def test_dataset_with_bad_meta_is_reported(rich_set: SpanSet) -> None:
    ds = rich_set.to_dataset()
    ds = ds.map(lambda row, i: {"meta": "not json" if i == 2 else row["meta"]}, with_indices=True)
    with pytest.raises(SpansFormatError, match=r"<Dataset> row 2: meta='not json' is not a JSON"):
        spans_from_dataset(ds)


def test_extra_keys_may_not_shadow_fields() -> None:
    with pytest.raises(ValueError, match=r"extra keys \['stance'\] are span fields"):
        GoldSpan(0, 16, "Ann", "Bob", extra={"stance": "favor"})
    with pytest.raises(ValueError, match=r"extra keys \['text'\] are document fields"):
        GoldDocument("d1", TEXT, extra={"text": "x"})


def test_lenient_read_skips_a_line_that_is_not_utf8(gold: Path) -> None:
    gold.write_bytes(json.dumps(doc()).encode() + b'\n{"id": "\xff"}\n')
    with pytest.warns(UserWarning, match=r"skipped 0 span\(s\) and 1 document"):
        result = read_spans(gold, lenient=True)
    assert len(result) == 1 and "not UTF-8" in result.problems[0].message


def test_csv_text_only_row_and_row_without_doc_id(tmp_path: Path) -> None:
    p = write_csv(
        tmp_path / "l.csv",
        CSV_HEADER,
        ["d1", TEXT, "", "", "", "", "", ""],
        ["d1", "", 0, 16, "Ann", "Bob", "against", ""],
        ["", "", 17, 26, "", "Bob", "none", ""],
    )
    with pytest.raises(SpansFormatError, match=r"line 4: the row has no doc_id"):
        read_spans_csv(p)
    with pytest.warns(UserWarning, match=r"skipped 1 span"):
        result = read_spans_csv(p, lenient=True)
    assert [s.stance for s in result.documents[0].spans] == ["against"]


def test_dataframe_with_string_cells_like_a_spreadsheet() -> None:
    import pandas as pd

    df = pd.DataFrame(
        {
            "doc_id": ["d1", "d1"],
            "text": [TEXT, None],
            "start": ["0", "17"],
            "end": ["16", "26"],
            "holder": ["Ann", " "],
            "target": ["Bob", "Bob"],
            "stance": ["Favor", "none"],
        }
    )
    with pytest.raises(SpansFormatError, match=r"<DataFrame> row 0, span 0: stance='Favor'"):
        spans_from_dataframe(df)
    with pytest.warns(UserWarning, match=r"normalised 1 label"):
        result = spans_from_dataframe(df, lenient=True)
    assert result.documents[0].spans == (
        GoldSpan(0, 16, "Ann", "Bob", stance="favor"),
        GoldSpan(17, 26, None, "Bob", stance="none"),
    )
