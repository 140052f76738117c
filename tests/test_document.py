from __future__ import annotations

import pytest

from stancekit.text.document import Document, Mention, Sentence


def _doc(text: str, spans: list[tuple[int, int]]) -> Document:
    return Document(
        id="d",
        text=text,
        sentences=tuple(Sentence(s, e, i, text[s:e]) for i, (s, e) in enumerate(spans)),
    )


def test_sentence_text_must_match_its_offsets() -> None:
    with pytest.raises(ValueError, match="end - start"):
        Sentence(0, 5, 0, "abc")


def test_document_rejects_text_outside_every_sentence() -> None:
    with pytest.raises(ValueError, match="belong to no sentence"):
        _doc("One. Two.", [(0, 4)])


def test_document_rejects_overlapping_sentences() -> None:
    with pytest.raises(ValueError, match="inside the previous sentence"):
        _doc("One. Two.", [(0, 4), (2, 9)])


def test_document_rejects_sentence_past_the_end() -> None:
    text = "One."
    with pytest.raises(ValueError, match="past the text's length 4"):
        Document(id="d", text=text, sentences=(Sentence(0, 6, 0, "One.xx"),))


def test_document_rejects_non_string_text() -> None:
    with pytest.raises(TypeError, match="'text' must be str"):
        Document(id="d", text=b"bytes")  # type: ignore[arg-type]


def test_whitespace_between_sentences_is_allowed() -> None:
    doc = _doc("One.\n\n  Two.  ", [(0, 4), (8, 12)])
    assert [s.text for s in doc.sentences] == ["One.", "Two."]


def test_sentence_at_finds_the_owning_sentence() -> None:
    doc = _doc("One. Two.", [(0, 4), (5, 9)])
    assert doc.sentence_at(6) == doc.sentences[1]
    assert doc.sentence_at(4) is None


def test_mention_is_built_from_offsets() -> None:
    doc = _doc("Zas spoke.", [(0, 10)])
    assert doc.mention(0, 3, "PERSON") == Mention(0, 3, "Zas", "PERSON")
    with pytest.raises(ValueError, match="outside the text"):
        doc.mention(5, 40, "PERSON")
