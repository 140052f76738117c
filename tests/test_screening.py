from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from stancekit.errors import DocumentTooLargeError
from stancekit.text.screening import (
    FLAGS,
    check_size,
    guess_language,
    looks_like_html,
    mask_surrogates,
    screen,
    strip_markup,
)

ENGLISH = (
    "A senior Armenian lawmaker on Monday dismissed as insufficient the security assistance "
    "offered by the CSTO, saying that the alliance had failed to condemn the attacks."
)
FRENCH = (
    "Le Premier ministre arménien a déclaré lundi que l'offre de l'OTSC ne répondait pas aux "
    "attentes de son pays, qui demande une condamnation claire des attaques azerbaïdjanaises."
)
SPANISH = (
    "El primer ministro de Armenia dijo el lunes que la oferta de la OTSC no responde a las "
    "expectativas de su país, que exige una condena clara de los ataques de Azerbaiyán."
)
RUSSIAN = (
    "Премьер-министр Армении заявил в понедельник, что предложение ОДКБ не отвечает "
    "ожиданиям его страны, которая требует четкого осуждения нападений Азербайджана."
)


def test_english_news_is_recognised(seed_text: str) -> None:
    assert guess_language(ENGLISH) == "en"
    assert guess_language(seed_text) == "en"


@pytest.mark.parametrize("text", [FRENCH, SPANISH, RUSSIAN, "東京の会議で大臣は発言した。" * 10])
def test_other_languages_are_detected(text: str) -> None:
    assert guess_language(text) == "other"
    assert "non_english" in screen(text)


@pytest.mark.parametrize("text", ["", "CSTO", "Armenian Official Unimpressed By CSTO Offer"])
def test_too_little_text_is_unknown_not_flagged(text: str) -> None:
    assert guess_language(text) == "unknown"
    assert "non_english" not in screen(text)


def test_markup_is_detected_but_comparisons_are_not() -> None:
    assert looks_like_html("<p>Zas praised the CSTO.</p>")
    assert looks_like_html("<!DOCTYPE html><html><body>x</body></html>")
    assert looks_like_html("Text <!-- a comment --> more")
    assert not looks_like_html("If a < b and c > d, then <3 for Armenia.")
    assert not looks_like_html("He wrote <Armenia> in angle brackets.")


def test_strip_markup_keeps_length_so_offsets_hold() -> None:
    page = (
        "<html><head><style>p {color: red}</style><script>var a = '<p>';</script></head>"
        "<body><p>AT&amp;T said&nbsp;no.</p><p>Zas praised the CSTO.</p></body></html>"
    )
    clean = strip_markup(page)
    assert len(clean) == len(page)
    i = page.index("Zas praised")
    assert clean[i : i + 21] == "Zas praised the CSTO."
    assert "<" not in clean and "color" not in clean and "var a" not in clean
    assert "AT&" in clean and "said no." in clean.replace("     ", "")
    assert clean.count("\n") >= 2  # paragraphs become separate lines


def test_strip_markup_keeps_text_without_markup_unchanged() -> None:
    assert strip_markup(ENGLISH) == ENGLISH
    assert strip_markup("Tom &foo; Jerry") == "Tom &foo; Jerry"


def test_mask_surrogates_replaces_each_with_one_replacement_character() -> None:
    text = "a\ud800b\udfffc"
    masked = mask_surrogates(text)
    assert masked == "a\ufffdb\ufffdc" and len(masked) == len(text)
    masked.encode("utf-8")
    assert mask_surrogates("plain") == "plain"


def test_check_size_names_the_document_the_size_and_the_fix() -> None:
    check_size("x" * 10, 10)
    check_size("x" * 10**6, None)
    with pytest.raises(
        DocumentTooLargeError, match=r"document 'd' has 11 characters.*max_chars=10"
    ):
        check_size("x" * 11, 10, id="d")


def test_screen_flags_surrogates_and_long_lines_in_order() -> None:
    text = "<p>" + ENGLISH + "\ud800</p>"
    assert screen(text, max_line=40) == ("html", "lone_surrogates", "long_line")
    assert screen(text) == ("html", "lone_surrogates")
    assert screen("short\nlines\nonly", max_line=10) == ()


def test_every_flag_is_documented_in_the_bad_input_catalogue() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "bad-input.md").read_text("utf-8")
    for flag in FLAGS:
        assert f"`{flag}`" in doc, flag


def test_every_test_the_catalogue_cites_exists() -> None:
    tests = Path(__file__).resolve().parent
    doc = (tests.parent / "docs" / "bad-input.md").read_text("utf-8")
    cited = re.findall(r"`(test_\w+\.py)::(test_\w+)`", doc)
    assert len(cited) >= 30
    for file, name in cited:
        assert f"def {name}(" in (tests / file).read_text("utf-8"), f"{file}::{name}"


@pytest.mark.parametrize(
    "text",
    ["<!--x" * 400_000, "<script>" * 250_000, "a <!-- b " * 200_000, '<style a="' * 200_000],
    ids=["unclosed-comments", "unclosed-scripts", "comment-openers", "unclosed-attribute"],
)
def test_screening_adversarial_markup_takes_linear_time(text: str) -> None:
    # comments and scripts were matched with .*? to their end: O(n^2), hours on 2 MB
    start = time.perf_counter()
    looks_like_html(text)
    screen(text, max_line=20_000)
    assert len(strip_markup(text)) == len(text)
    assert time.perf_counter() - start < 10
