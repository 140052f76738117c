"""Documents as the analyzer accepts them (:mod:`stancekit.text.inputs`)."""

from __future__ import annotations

import pytest

from stancekit.text.document import Document
from stancekit.text.inputs import single_item, to_item
from stancekit.text.segment import document_id


def test_every_accepted_form_gives_id_text_and_meta() -> None:
    text = "The CSTO met in Yerevan."
    assert to_item(text, 0) == (document_id(text), text, {})
    assert to_item(("a1", text), 1) == ("a1", text, {})
    assert to_item({"id": 7, "text": text, "meta": {"outlet": "RFE/RL"}}, 2) == (
        "7",
        text,
        {"outlet": "RFE/RL"},
    )
    # a mapping without "meta" keeps its other fields as the metadata
    assert to_item({"text": text, "outlet": "RFE/RL"}, 3)[2] == {"outlet": "RFE/RL"}
    doc = Document("d", text, {"k": 1})
    assert to_item(doc, 4) == ("d", text, {"k": 1})


@pytest.mark.parametrize(
    "item, message",
    [
        (b"bytes", r"item 5: expected str, .* got bytes; decode bytes first"),
        (("a1", b"bytes"), r"item 5: text must be str, got bytes; decode bytes first"),
        ({"text": None}, r"item 5: mapping needs a str 'text' field, got NoneType"),
        (42, r"item 5: expected str, Document, \(id, text\) or a mapping with 'text'; got int"),
    ],
)
def test_anything_else_is_a_type_error_naming_the_item_and_the_fix(
    item: object, message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        to_item(item, 5)


def test_the_id_and_meta_parameters_override_a_documents_own() -> None:
    doc = Document("d", "The CSTO met.", {"k": 1})
    assert single_item(doc, "other", {"k": 2}) == ("other", "The CSTO met.", {"k": 2})
    assert single_item("The CSTO met.", None, None)[0] == document_id("The CSTO met.")
    with pytest.raises(TypeError, match=r"'text' must be a str or a stancekit Document, got int"):
        single_item(3, None, None)
