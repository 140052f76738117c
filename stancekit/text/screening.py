"""Cheap checks on a text before it is analysed: size, markup, language, odd characters.

:class:`~stancekit.analyzer.StanceAnalyzer` runs :func:`check_size` and :func:`screen` on
every document. A document over ``max_chars`` is refused (:class:`DocumentTooLargeError`,
an error result in ``analyze_many``); everything else is analysed as given and the
findings become ``DocumentResult.flags`` (:data:`FLAGS` says what each flag means). The
checks use no model and no extra dependency: a few regular expressions over at most the
first :data:`SAMPLE_CHARS` characters for the language guess, linear scans otherwise.

Example:
    >>> from stancekit.text.screening import guess_language, screen, strip_markup
    >>> screen("<p>Zas praised the CSTO.</p>")
    ('html',)
    >>> strip_markup("<p>Zas praised the CSTO.</p>")
    '\\n  Zas praised the CSTO.\\n   '
    >>> guess_language("Die Regierung in Eriwan hat am Montag erklärt, dass sie das Angebot "
    ...                "der OVKS nicht annehmen werde, weil es keine klare Antwort auf die "
    ...                "Angriffe Aserbaidschans gebe und die Verbündeten schweigen würden.")
    'other'
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from stancekit.errors import DocumentTooLargeError

__all__ = [
    "DEFAULT_MAX_CHARS",
    "FLAGS",
    "SAMPLE_CHARS",
    "check_size",
    "guess_language",
    "looks_like_html",
    "mask_surrogates",
    "screen",
    "strip_markup",
]

#: Documents longer than this many characters are refused by default (``max_chars``).
DEFAULT_MAX_CHARS = 2_000_000
#: The language guess reads at most this many characters from the start of the text.
SAMPLE_CHARS = 50_000

#: Every flag stancekit puts on a ``DocumentResult`` (``document``) or a ``Judgement``
#: (``judgement``), and what it means. ``docs/bad-input.md`` has the full catalogue.
FLAGS: dict[str, str] = {
    "empty": "document: no sentences (empty or blank text); no judgements",
    "html": "document: HTML/XML markup found; analysed as given (strip_markup() first)",
    "non_english": "document: the text does not look like English; the model reads English "
    "only, so its scores are unreliable",
    "lone_surrogates": "document: the text holds surrogate code points (e.g. a lone \\ud800 "
    "escape in JSON); they were read as U+FFFD, offsets unchanged",
    "long_line": "document: a line over the parser's chunk size had no full stop and was cut "
    "at whitespace into several sentences",
    "duplicate_id": "document: an earlier document of the same analyze_many call had this id",
    "no_target_mention": "document: no target is mentioned in any sentence; judgement: the "
    "target is not mentioned in the judged unit",
    "slow": "document: its share of the batch's time exceeded analyze_many's slow_s",
    "windowed": "judgement: the sentence is longer than the model window and was scored in "
    "overlapping windows",
}

_SURROGATE = re.compile("[\ud800-\udfff]")
_TAG_NAMES = (
    "a|abbr|article|aside|b|blockquote|body|br|button|caption|code|dd|div|dl|dt|em|figcaption|"
    "figure|font|footer|form|h[1-6]|head|header|hr|html|i|iframe|img|input|label|li|link|main|"
    "meta|nav|noscript|ol|option|p|pre|script|section|select|small|source|span|strong|style|"
    "sub|sup|svg|table|tbody|td|textarea|tfoot|th|thead|time|title|tr|u|ul|video"
)
_TAG = re.compile(
    rf"<(?:/?(?:{_TAG_NAMES})(?:\s[^<>]*)?/?|!doctype[^<>]*|\?xml[^<>]*)>", re.IGNORECASE
)
_BLOCK = re.compile(
    r"</?(?:p|div|br|li|h[1-6]|tr|table|section|article|header|footer|blockquote|figcaption|"
    r"title|ul|ol|hr|main|aside|nav|figure)\b",
    re.IGNORECASE,
)
#: Where a comment, script, style or noscript block opens (each is blanked to its end).
_HIDDEN = re.compile(r"<!--|<(script|style|noscript)\b[^<>]*>", re.IGNORECASE)
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_LINE = re.compile(r"[^\n\r\u2028\u2029\x0b\x0c\x85]+")
_WORD = re.compile(r"[^\W\d_]+")
#: Frequent English function words that are rare as words of other Latin-script languages.
_ENGLISH = frozenset(
    re.findall(
        r"\w+",
        "the of and to in is that for with was on it as by at from he she his her they this be "
        "are were has have had not but or an which who said will would been their its we you "
        "after about also than more into over what when there can could these those them",
    )
)


def check_size(text: str, max_chars: int | None, *, id: str = "") -> None:
    """Raise :class:`DocumentTooLargeError` when ``text`` is longer than ``max_chars``
    (None: no limit)."""
    if max_chars is not None and len(text) > max_chars:
        who = f"document {id!r}" if id else "the document"
        raise DocumentTooLargeError(
            f"{who} has {len(text):,} characters, over max_chars={max_chars:,}; split it into "
            "articles, or raise the limit with StanceAnalyzer(max_chars=...) if it really is "
            "one article"
        )


def mask_surrogates(text: str) -> str:
    """``text`` with every surrogate code point (U+D800..U+DFFF) replaced by U+FFFD.

    Such code points come from lone ``\\ud800``-style escapes in JSON; they cannot be encoded
    as UTF-8, which the parser and the tokenizer need. The length, and so every offset, is
    unchanged."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


def looks_like_html(text: str) -> bool:
    """Whether ``text`` holds HTML/XML markup: a known tag, a comment or a doctype."""
    return "<!--" in text or _TAG.search(text) is not None


def strip_markup(text: str) -> str:
    """``text`` with markup blanked out, keeping its length so offsets into the result are
    offsets into the original: tags, comments, scripts and styles become spaces (a
    block-level tag starts with a line break, so paragraphs stay separate), and an entity
    becomes its character followed by spaces (``&amp;`` -> ``&`` + 4 spaces). Linear in
    the length of the text, whatever it holds (an unclosed comment is left as it is)."""

    def blank(s: str) -> str:
        head = "\n" if _BLOCK.match(s) else " "
        return head + re.sub(r"[^\n]", " ", s[1:])

    def entity(m: re.Match[str]) -> str:
        s = m.group()
        ch = html.unescape(s)
        if len(ch) > len(s) or _SURROGATE.search(ch) or (not ch.isprintable() and ch != "\t"):
            return " " * len(s)
        return ch + " " * (len(s) - len(ch))

    out = _TAG.sub(lambda m: blank(m.group()), _blank_hidden(text, blank))
    return _ENTITY.sub(entity, out)


def _blank_hidden(text: str, blank: Callable[[str], str]) -> str:
    """Comments and script/style/noscript blocks blanked; each closing marker is searched
    for once per block, and a kind left unclosed is not searched for again (no quadratic
    time on ``"<!--" * 10**6``)."""
    parts: list[str] = []
    pos = 0
    unclosed: set[str] = set()
    start = 0
    while m := _HIDDEN.search(text, start):
        kind = (m.group(1) or "!--").lower()
        start = m.end()
        if kind in unclosed:
            continue
        closing = "-->" if kind == "!--" else rf"</{kind}\s*>"
        end = re.compile(closing, re.IGNORECASE).search(text, m.end())
        if end is None:
            unclosed.add(kind)
            continue
        parts += [text[pos : m.start()], blank(text[m.start() : end.end()])]
        pos = start = end.end()
    return "".join(parts) + text[pos:]


def guess_language(text: str) -> str:
    """``"en"``, ``"other"`` or ``"unknown"`` (too little text to tell), from the share of
    letters that are ASCII and the share of words that are English function words.

    Cheap and rough: it reads at most :data:`SAMPLE_CHARS` characters; texts with fewer
    than 40 letters or 20 words are ``"unknown"``. English news has 30-50% function words;
    French, German or Spanish have under 10% of these."""
    sample = text[:SAMPLE_CHARS]
    words = _WORD.findall(sample)
    n_letters = sum(map(len, words))
    if n_letters < 40:
        return "unknown"
    n_ascii = sum(len(w) for w in words if w.isascii())
    if n_ascii / n_letters < 0.6:
        return "other"
    latin = [w.lower() for w in words if w.isascii()]
    if len(latin) < 20:
        return "unknown"
    share = sum(w in _ENGLISH for w in latin) / len(latin)
    return "en" if share >= 0.12 else "other"


def screen(text: str, *, max_line: int | None = None) -> tuple[str, ...]:
    """The flags (keys of :data:`FLAGS`) that ``text`` itself earns, in a fixed order:
    ``html``, ``non_english``, ``lone_surrogates``, and ``long_line`` when a line has more
    than ``max_line`` characters (the parser's chunk size)."""
    flags = []
    if looks_like_html(text):
        flags.append("html")
    if guess_language(text) == "other":
        flags.append("non_english")
    if _SURROGATE.search(text):
        flags.append("lone_surrogates")
    if (
        max_line is not None
        and len(text) > max_line
        and any(len(m.group().strip()) > max_line for m in _LINE.finditer(text))
    ):
        flags.append("long_line")
    return tuple(flags)
