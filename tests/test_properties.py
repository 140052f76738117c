"""Property-based tests (hypothesis): for any Unicode text — control characters, RTL marks,
emoji with zero-width joiners, surrogate code points (lone ``\\ud800`` escapes in JSON),
CRLF, tabs, markup — segmentation covers the text without overlap, actor and target
mentions point at real text, the analyzer raises nothing but its documented errors and its
judgements point at real text, and spans files round-trip losslessly.

Example counts: ``STANCEKIT_PROPERTY_EXAMPLES=N`` sets every test's ``max_examples``
(default: the per-test numbers below, about 1,100 examples in all, within ~2 minutes on
2 cores). Run with ``--hypothesis-show-statistics`` for hypothesis' own report; the
examples run per test are printed at the end of the module (``-s``) and, when
``STANCEKIT_PROPERTY_COUNTS`` names a file, written there as JSON.
"""

from __future__ import annotations

import json
import os
import random
import re
import string
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from stancekit.actors.targets import Target
from stancekit.analyzer import StanceAnalyzer
from stancekit.errors import DocumentTooLargeError, SpansFormatError
from stancekit.results.judgements import BatchSummary, DocumentResult, json_line
from stancekit.scoring.model import StanceModel
from stancekit.spans import GoldDocument, GoldSpan, SpanSet, read_spans, write_spans
from stancekit.text.document import Document
from stancekit.text.screening import FLAGS, mask_surrogates, screen, strip_markup
from stancekit.text.segment import line_spans

RUNS: Counter[str] = Counter()
_OVERRIDE = int(os.environ.get("STANCEKIT_PROPERTY_EXAMPLES", "0"))


def examples(n: int, **kw: Any) -> settings:
    """Hypothesis settings with ``n`` examples (or the environment's override)."""
    return settings(
        max_examples=_OVERRIDE or n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        **kw,
    )


@pytest.fixture(scope="module", autouse=True)
def _report_counts() -> Iterator[None]:
    yield
    print(f"\nproperty examples run: {sum(RUNS.values())} {dict(sorted(RUNS.items()))}")
    out = os.environ.get("STANCEKIT_PROPERTY_COUNTS")
    if out:
        path = Path(out)
        old = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**old, **RUNS}, indent=2, sort_keys=True))


# -- strategies ------------------------------------------------------------------------------

#: Pieces that stress the pipeline: line breaks of every kind, bidi controls, joiners,
#: emoji sequences, surrogates, NUL, markup, entities, quotes, abbreviations, target names.
FRAGMENTS = [
    *("\r\n", "\n\n", "\r", "\t", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u2029", " "),
    *("\u200f", "\u200e", "\u202e", "\u2066", "\u200d", "\u200b", "\ufeff", "\u00ad"),
    *("👩\u200d👩\u200d👧", "🇦🇲", "👍🏽", "\ud800", "\udfff", "\ud83d\ude00", "\x00", "\x7f"),
    *("<p>", "</p>", "<br/>", "&amp;", "&nbsp;", "&#x202e;", "<!-- c -->"),
    *(". ", "! ", "? ", "…", "“", "”", "‘", "’", '"', "U.S.", "Mr.", " said ", " — "),
    *("CSTO", "the CSTO", "Azerbaijan", "Baku", "Stanislav Zas", "Armenia", "Pashinian"),
    *("he", "she", "they", "the minister", "Russian", "Armenians", "NATO", "said."),
    *("مرحبا", "שלום", "Привет", "東京", "ﷺ", "ﬁ", "İ", "ß", "Ⅻ", "٣", "\u0301"),
]
ANY_CHAR = st.characters(exclude_categories=())  # every code point, surrogates included
TEXT = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.text(ANY_CHAR, max_size=12)), max_size=30
).map("".join)
WORDS = "the CSTO Azerbaijan Armenia said that Zas Pashinian he minister told reporters on "
WORDS += "Monday it would not accept aid . , “ ” and blamed Baku for attacks NATO was"
ENGLISH_WORDS = st.sampled_from(WORDS.split(" "))
NEWSY = st.lists(
    st.one_of(ENGLISH_WORDS, ENGLISH_WORDS, ENGLISH_WORDS, st.sampled_from(FRAGMENTS)),
    max_size=60,
).map(" ".join)
ANY_TEXT = st.one_of(TEXT, NEWSY)


# -- segmentation ----------------------------------------------------------------------------


@examples(500)
@given(text=TEXT, max_chunk=st.integers(1, 40))
def test_line_spans_are_ordered_stripped_bounded_and_keep_every_visible_character(
    text: str, max_chunk: int
) -> None:
    RUNS["line_spans"] += 1
    spans = line_spans(text, max_chunk=max_chunk)
    pos = 0
    covered = [False] * len(text)
    for s, e in spans:
        assert pos <= s < e <= len(text)
        assert e - s <= max_chunk
        assert not text[s].isspace() and not text[e - 1].isspace()
        covered[s:e] = [True] * (e - s)
        pos = e
    assert all(c or ch.isspace() for c, ch in zip(covered, text, strict=True))


def test_line_spans_cut_a_megabyte_without_full_stops_or_line_breaks() -> None:
    text = ("word\u200dword\tCSTO 👩\u200d👩\u200d👧 " * 50_000)[:1_000_000]
    assert len(text) == 1_000_000
    spans = line_spans(text)
    assert len(spans) >= 50
    assert "".join(text[s:e] for s, e in spans).replace(" ", "") == text.replace(" ", "")


def assert_covers(doc: Document) -> None:
    """Sentences in order, not overlapping, stripped, non-empty, and every character outside
    them whitespace."""
    pos = 0
    for i, s in enumerate(doc.sentences):
        assert s.index == i
        assert pos <= s.start < s.end <= len(doc.text)
        assert doc.text[s.start : s.end] == s.text == s.text.strip()
        assert not doc.text[pos : s.start].strip()
        pos = s.end
    assert not doc.text[pos:].strip()


@pytest.mark.slow
@examples(150)
@given(text=ANY_TEXT)
def test_sentences_cover_any_text_without_overlap(text: str) -> None:
    from stancekit.text.segment import make_document

    RUNS["segment"] += 1
    assert_covers(make_document(text, id="p"))


@pytest.mark.slow
@examples(120)
@given(text=ANY_TEXT)
def test_actor_and_target_mentions_point_at_real_text(text: str) -> None:
    from stancekit.actors import find_actors
    from stancekit.actors.targets import DEFAULT_TARGETS, TargetIndex
    from stancekit.pairs.build import build_pairs
    from stancekit.text.segment import parse_many

    RUNS["actors"] += 1
    parsed = next(parse_many([("p", text, {})]))
    doc = parsed.document
    analysis = find_actors(parsed)
    for actor in analysis.actors:
        assert actor.name
        for m in actor.mentions:
            assert 0 <= m.start < m.end <= len(text) and text[m.start : m.end] == m.text
    for att in analysis.attributions:
        assert 0 <= att.sentence_index < len(doc.sentences)
        if att.mention is not None:
            sent = doc.sentences[att.sentence_index]
            assert text[att.mention.start : att.mention.end] == att.mention.text
            assert sent.start <= att.mention.start and att.mention.end <= sent.end
    for pair in build_pairs(doc, analysis, TargetIndex(DEFAULT_TARGETS)):
        for pm in (pair.holder_mention, pair.target_mention):
            if pm is not None:
                assert pair.sentence.start <= pm.start and pm.end <= pair.sentence.end
                assert text[pm.start : pm.end] == pm.text
        model_input = pair.model_input()
        for span in (model_input.holder_span, model_input.target_span):
            if span is not None:
                assert 0 <= span[0] <= span[1] <= len(model_input.sentence)


# -- the analyzer ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def analyzer(tiny_model: StanceModel) -> StanceAnalyzer:
    targets = [Target("CSTO"), Target("Azerbaijan", aliases=["Baku"]), Target("\ud800x")]
    return StanceAnalyzer(model=tiny_model, targets=targets, max_chars=5_000)


def assert_result_is_sound(res: DocumentResult) -> None:
    """Judgements point at real text, probabilities are distributions, flags are known,
    and every record survives JSON Lines as UTF-8."""
    text = res.document.text
    assert set(res.flags) <= set(FLAGS)
    if res.error is not None:
        assert res.judgements == ()
    else:
        assert_covers(res.document)
    for j in res.judgements:
        s = j.sentence
        assert text[s.start : s.end] == s.text
        assert s in res.document.sentences
        for m in (j.holder_mention, j.target_mention):
            if m is not None:
                assert s.start <= m.start < m.end <= s.end and text[m.start : m.end] == m.text
        assert abs(sum(j.stance_probs.values()) - 1) < 1e-5
        assert abs(sum(j.sentiment_probs.values()) - 1) < 1e-5
        assert set(j.flags) <= set(FLAGS)
    for rec in [*res.to_records(), *res.summary().to_records(), res.to_dict()]:
        line = json_line(rec)
        line.encode("utf-8")  # no surrogates left raw
        assert "\n" not in line
        assert json.loads(line) == json.loads(json.dumps(rec))


@pytest.mark.slow
@examples(120)
@given(text=ANY_TEXT)
def test_analyze_any_text_gives_judgements_that_point_at_real_text(
    analyzer: StanceAnalyzer, text: str
) -> None:
    RUNS["analyze"] += 1
    try:
        res = analyzer.analyze(text, id="p")
    except DocumentTooLargeError:
        assert len(text) > 5_000
        return
    assert res.ok
    assert_result_is_sound(res)
    assert res.flags[: len(screen(text))] == screen(text)
    event("judged" if res.judgements else "no judgement")
    for flag in res.flags:
        event(f"flag {flag}")


@pytest.mark.slow
def test_a_megabyte_without_a_full_stop_is_analysed_whole(analyzer: StanceAnalyzer) -> None:
    rng = random.Random(0)
    words = ["the", "said", "talks", "in", "Yerevan", "went", "on", "and", "Zas", "blamed"]
    words += ["\u200d", "👩\u200d👧", "\t", "\u202e", "“", "”", "was", "CSTO", "Baku"]
    weights = [50] * (len(words) - 2) + [1, 1]  # a target every ~400 words: parsing dominates
    text = " ".join(rng.choices(words, weights, k=260_000))[:1_000_000]
    assert len(text) == 1_000_000 and "." not in text and "\n" not in text
    an = StanceAnalyzer(model=analyzer.model, targets=analyzer.targets, max_chars=None)
    res = an.analyze(text, id="mb")
    RUNS["megabyte"] += 1
    assert res.ok and "long_line" in res.flags
    assert len(res.document.sentences) >= 50 and res.judgements
    assert_result_is_sound(res)


BAD_ITEMS = st.sampled_from(
    [42, None, b"\xff\xfe bytes", ("id", b"x"), {"id": "m"}, {"text": 3}, ["a"], 1.5]
)
ITEMS = st.lists(
    st.one_of(
        ANY_TEXT,
        st.tuples(st.sampled_from(["a", "b", "\ud800"]), ANY_TEXT),
        st.fixed_dictionaries({"id": st.sampled_from(["a", "c"]), "text": ANY_TEXT}),
        ANY_TEXT.map(lambda t: Document(id="doc", text=t)),
        st.just("x" * 5_001),
        BAD_ITEMS,
    ),
    max_size=8,
)


@pytest.mark.slow
@examples(40)
@given(items=ITEMS, batch_size=st.integers(1, 4))
def test_analyze_many_never_dies_and_counts_what_it_skipped(
    analyzer: StanceAnalyzer, items: list[Any], batch_size: int
) -> None:
    RUNS["analyze_many"] += 1
    summary = BatchSummary()
    results = list(
        analyzer.analyze_many(items, batch_size=batch_size, progress=False, summary=summary)
    )
    assert len(results) == len(items)
    ids: set[str] = set()
    for item, res in zip(items, results, strict=True):
        assert_result_is_sound(res)
        assert ("duplicate_id" in res.flags) == (res.document.id in ids)
        ids.add(res.document.id)
        expected = _expected_error(item)
        if expected is None:
            assert res.ok, res.error
        else:
            assert (res.error or "").startswith(f"{expected}: ")
    assert summary.n_documents == len(items)
    assert summary.n_analysed == sum(r.ok for r in results)
    assert sum(summary.skipped.values()) == summary.n_skipped
    assert summary.n_judgements == sum(len(r.judgements) for r in results)


def _expected_error(item: Any) -> str | None:
    """The error class ``analyze_many`` must report for ``item`` (max_chars=5,000)."""
    text = {str: item, Document: getattr(item, "text", None)}.get(type(item))
    if isinstance(item, tuple) and len(item) == 2:
        text = item[1]
    elif isinstance(item, dict):
        text = item.get("text")
    if not isinstance(text, str):
        return "TypeError"
    return "DocumentTooLargeError" if len(text) > 5_000 else None


# -- spans files -----------------------------------------------------------------------------

#: JSON reads the escapes of a high surrogate followed by a low one as one character, so a
#: str holding such a pair cannot survive JSON (documented in write_spans): keep them apart.
_PAIR = re.compile("([\ud800-\udbff])(?=[\udc00-\udfff])")


def json_text(**kw: Any) -> st.SearchStrategy[str]:
    return st.text(ANY_CHAR, **kw).map(lambda t: _PAIR.sub("\\1 ", t))


JSON_TEXT = TEXT.map(lambda t: _PAIR.sub("\\1 ", t))
NAMES = st.one_of(json_text(min_size=1, max_size=8), st.sampled_from(FRAGMENTS)).map(
    lambda t: _PAIR.sub("\\1 ", t)
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), json_text(max_size=6)),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(string.ascii_letters, max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def gold_documents(draw: st.DrawFn, id: str) -> GoldDocument:
    text = draw(JSON_TEXT.filter(lambda t: bool(t.strip())))
    visible = [i for i, ch in enumerate(text) if not ch.isspace()]
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        a = draw(st.integers(0, len(text) - 1))
        b = draw(st.integers(a, len(text)))
        if not text[a:b].strip():
            a, b = visible[0], visible[0] + 1
        mention = st.none() | st.tuples(st.integers(0, len(text) - 1), st.just(1)).map(
            lambda p: (p[0], p[0] + 1)
        )
        target_mention = draw(mention)
        target = text[slice(*target_mention)] if target_mention else draw(NAMES)
        if not target.strip():
            target, target_mention = "T", None
        spans.append(
            GoldSpan(
                a,
                b,
                draw(st.none() | NAMES.filter(str.strip)),
                target,
                stance=draw(st.sampled_from(["favor", "against", "none"])),
                sentiment=draw(st.none() | st.sampled_from(["positive", "neutral", "negative"])),
                target_mention=target_mention,
                extra=draw(st.dictionaries(st.sampled_from(["note", "w"]), JSON_VALUES)),
            )
        )
    meta = draw(st.dictionaries(json_text(max_size=4), JSON_VALUES, max_size=2))
    return GoldDocument(id, text, tuple(spans), meta)


@examples(200)
@given(
    docs=st.lists(json_text(min_size=1, max_size=6), unique=True, max_size=4).flatmap(
        lambda ids: st.tuples(*[gold_documents(i) for i in ids])
    )
)
def test_spans_jsonl_round_trip_is_lossless(
    tmp_path_factory: pytest.TempPathFactory, docs: tuple[GoldDocument, ...]
) -> None:
    RUNS["spans_round_trip"] += 1
    folder = tmp_path_factory.mktemp("rt", numbered=True)
    first = write_spans(folder / "a.jsonl", docs)
    back = read_spans(first)
    assert back == SpanSet(docs)
    second = write_spans(folder / "b.jsonl", back)
    assert second.read_bytes() == first.read_bytes()
    first.read_bytes().decode("utf-8")  # valid UTF-8 even with surrogates in the text


SPAN_KEYS = ["start", "end", "holder", "target", "stance", "sentiment", "holder_mention", "x"]
LINES = st.one_of(
    st.binary(max_size=40),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"id": st.one_of(st.text(max_size=3), JSON_VALUES), "text": st.one_of(TEXT, JSON_VALUES)},
        optional={
            "spans": st.one_of(
                JSON_VALUES,
                st.lists(
                    st.dictionaries(
                        st.sampled_from(SPAN_KEYS),
                        st.one_of(
                            st.integers(-2, 60),
                            st.sampled_from(["favor", "Favor", "NONE", "x", "", "Bob"]),
                            st.lists(st.integers(-1, 60), max_size=3),
                            JSON_VALUES,
                        ),
                    ),
                    max_size=3,
                ),
            ),
            "meta": JSON_VALUES,
        },
    ).map(lambda d: json.dumps(d).encode()),
)


@examples(250)
@given(lines=st.lists(LINES, max_size=6), lenient=st.booleans())
def test_reading_any_bytes_gives_valid_documents_or_a_spans_format_error(
    tmp_path_factory: pytest.TempPathFactory, lines: list[bytes], lenient: bool
) -> None:
    RUNS["spans_read_any"] += 1
    path = tmp_path_factory.mktemp("any", numbered=True) / "g.jsonl"
    path.write_bytes(b"\n".join(lines))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # lenient reads warn about what they skipped
            got = read_spans(path, lenient=lenient)
    except SpansFormatError:
        assert not lenient
        return
    ids = [d.id for d in got.documents]
    assert len(ids) == len(set(ids))
    for doc in got.documents:
        for s in doc.spans:
            assert 0 <= s.start <= s.end <= len(doc.text) and doc.text[s.start : s.end].strip()
            assert s.stance in (None, "favor", "against", "none")
    write_spans(path, got)  # whatever was read can be written back
    assert read_spans(path).documents == got.documents


# -- screening -------------------------------------------------------------------------------


@examples(300)
@given(text=TEXT)
def test_screening_never_raises_and_its_rewrites_keep_every_offset(text: str) -> None:
    RUNS["screening"] += 1
    assert set(screen(text, max_line=10)) <= set(FLAGS)
    masked = mask_surrogates(text)
    assert len(masked) == len(text)
    masked.encode("utf-8")
    stripped = strip_markup(text)
    assert len(stripped) == len(text)
    assert all(a.isspace() for a, b in zip(stripped, text, strict=True) if b.isspace())
