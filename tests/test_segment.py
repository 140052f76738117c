from __future__ import annotations

import pytest

from stancekit.text.document import Document
from stancekit.text.segment import line_spans, make_document

pytestmark = pytest.mark.slow  # loads the spaCy pipeline


def _assert_covers(doc: Document) -> None:
    pos = 0
    for i, s in enumerate(doc.sentences):
        assert s.index == i
        assert doc.text[s.start : s.end] == s.text
        assert s.text == s.text.strip() and s.text
        assert not doc.text[pos : s.start].strip()
        pos = s.end
    assert not doc.text[pos:].strip()


def test_seed_offsets_round_trip_and_cover_the_text(seed_text: str) -> None:
    doc = make_document(seed_text, id="seed")
    _assert_covers(doc)
    assert len(doc.sentences) == 13


def test_title_and_caption_are_separate_sentences(seed_text: str) -> None:
    doc = make_document(seed_text, id="seed")
    assert doc.sentences[0].text == "Armenian Official Unimpressed By CSTO Offer Of ‘Security Aid’"
    assert doc.sentences[0].kind == "title"
    assert doc.sentences[1].text.startswith("ARMENIA - The leaders")
    assert doc.sentences[1].text.endswith("November 23, 2022.")


def test_tricky_punctuation_keeps_sentences_whole() -> None:
    text = (
        "Caption: Officials at a summit in Yerevan\r\n\r\n"
        "The U.S. said it was “deeply concerned.” Mr. Smith left… then came back.\n"
        "“It is wrong,” said Dr. Jones. Talks resume on Jan. 5."
    )
    doc = make_document(text)
    _assert_covers(doc)
    texts = [s.text for s in doc.sentences]
    assert "Caption: Officials at a summit in Yerevan" in texts
    assert any(t.startswith("The U.S. said") for t in texts)
    assert not any(t.startswith("said it") for t in texts)


def test_long_article_is_covered_without_loss() -> None:
    para = "The minister said the talks in Geneva were useful, and officials agreed. "
    text = "\n\n".join(para * 10 for _ in range(140))
    assert len(text) >= 100_000
    doc = make_document(text)
    _assert_covers(doc)
    assert len(doc.sentences) == 1400


def test_a_line_without_full_stops_is_cut_but_not_lost() -> None:
    text = "word " * 10_000
    spans = line_spans(text, max_chunk=5_000)
    assert len(spans) > 1
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")


def test_empty_and_whitespace_text_have_no_sentences() -> None:
    assert make_document("").sentences == ()
    assert make_document(" \n\t \r\n").sentences == ()


def test_ids_are_stable_for_the_same_text() -> None:
    assert make_document("A b.").id == make_document("A b.").id
    assert make_document("A b.", id="x").id == "x"


def test_lone_surrogates_do_not_crash_the_parser_and_keep_their_offsets() -> None:
    # a lone "\ud800" escape in JSON gives a str spaCy cannot encode (found by test_properties)
    text = "Zas praised the CSTO \ud800 today.\nBad \udfff line. Emoji 👩\u200d👧 here."
    doc = make_document(text)
    _assert_covers(doc)
    assert doc.sentences[0].text == "Zas praised the CSTO \ud800 today."


def test_a_cut_chunk_ends_before_its_whitespace() -> None:
    # the hard cut fell after a tab, which was left at the chunk's end (found by test_properties)
    assert line_spans("\u200f\t\u200f", max_chunk=2) == [(0, 1), (2, 3)]
    assert line_spans("ab\tcd\tef", max_chunk=5) == [(0, 2), (3, 8)]
