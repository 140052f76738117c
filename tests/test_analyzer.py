from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stancekit.actors.targets import Target
from stancekit.analyzer import StanceAnalyzer
from stancekit.errors import ModelNotFoundError
from stancekit.scoring.model import StanceModel
from stancekit.text.document import Document

pytestmark = pytest.mark.slow  # spaCy


@pytest.fixture(scope="module")
def analyzer(tiny_model: StanceModel) -> StanceAnalyzer:
    return StanceAnalyzer(model=tiny_model)


def test_seed_judgements_name_all_three_speakers(analyzer: StanceAnalyzer, seed_text: str) -> None:
    result = analyzer.analyze(seed_text, id="seed")
    holders = {j.holder.name for j in result.judgements if j.holder is not None}
    assert {"Armen Khachatrian", "Nikol Pashinian", "Stanislav Zas"} <= holders
    assert {j.target.name for j in result.judgements} == {"CSTO", "Azerbaijan"}


def test_every_judgement_points_at_real_text(analyzer: StanceAnalyzer, seed_text: str) -> None:
    result = analyzer.analyze(seed_text)
    text = result.document.text
    for j in result.judgements:
        assert text[j.sentence.start : j.sentence.end] == j.sentence.text
        for m in (j.holder_mention, j.target_mention):
            if m is not None:
                assert text[m.start : m.end] == m.text
                assert j.sentence.start <= m.start and m.end <= j.sentence.end
        assert sum(j.stance_probs.values()) == pytest.approx(1.0)


def test_each_target_mentioning_sentence_gets_the_authors_voice(
    analyzer: StanceAnalyzer, seed_text: str
) -> None:
    result = analyzer.analyze(seed_text)
    author = {(j.sentence.index, j.target.name) for j in result.judgements if j.holder is None}
    any_ = {(j.sentence.index, j.target.name) for j in result.judgements}
    assert author == any_
    assert (0, "CSTO") in author  # the title mentions the CSTO


def test_an_actor_is_not_judged_toward_itself(analyzer: StanceAnalyzer) -> None:
    result = analyzer.analyze(
        "The CSTO said it would send a mission to Armenia.",
    )
    assert all(j.holder is None or j.holder.name != "CSTO" for j in result.judgements)


def test_user_targets_replace_the_defaults(tiny_model: StanceModel) -> None:
    an = StanceAnalyzer(model=tiny_model, targets=[Target("NATO", aliases=["the Alliance"])])
    result = an.analyze("Chancellor Olaf Scholz said NATO must stay united.")
    assert {j.target.name for j in result.judgements} == {"NATO"}
    assert "Olaf Scholz" in {j.holder_name for j in result.judgements}


@pytest.mark.parametrize("text", ["", "   \n\t  \r\n"])
def test_empty_text_gives_an_empty_result(analyzer: StanceAnalyzer, text: str) -> None:
    result = analyzer.analyze(text)
    assert result.ok and result.judgements == () and result.document.sentences == ()
    assert result.flags == ("empty",)


def test_non_string_input_raises_type_error_naming_the_parameter(
    analyzer: StanceAnalyzer,
) -> None:
    with pytest.raises(TypeError, match="'text' must be a str"):
        analyzer.analyze(b"bytes")  # type: ignore[arg-type]


def test_analyze_accepts_a_document(analyzer: StanceAnalyzer) -> None:
    res = analyzer.analyze(Document(id="x", text="Baku blamed the CSTO.", meta={"k": 1}))
    assert res.document.id == "x" and res.document.meta == {"k": 1}


def test_one_bad_item_does_not_stop_analyze_many(analyzer: StanceAnalyzer) -> None:
    items = [
        "Zas praised the CSTO.",
        42,
        {"id": "m", "text": "Baku blamed the CSTO."},
        ("t", "The CSTO met."),
    ]
    results = list(analyzer.analyze_many(items, batch_size=2, progress=False))  # type: ignore[arg-type]
    assert len(results) == 4
    assert [r.ok for r in results] == [True, False, True, True]
    assert "item 1" in (results[1].error or "") and "int" in (results[1].error or "")
    assert results[2].document.id == "m" and results[3].document.id == "t"


def test_analyze_many_matches_analyze(analyzer: StanceAnalyzer, seed_text: str) -> None:
    one = analyzer.analyze(seed_text, id="a")
    many = list(analyzer.analyze_many([{"id": "a", "text": seed_text}, "x"], progress=False))
    assert many[0].to_records() == one.to_records()


def test_analyze_many_parses_ahead_and_gives_what_one_batch_at_a_time_gives(
    analyzer: StanceAnalyzer, seed_text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    import stancekit.analyzer as module

    parsing_threads: set[str] = set()
    real = module.parse_many  # type: ignore[attr-defined]

    def spy(items: Any) -> Any:
        parsing_threads.add(threading.current_thread().name)
        return real(items)

    monkeypatch.setattr(module, "parse_many", spy)
    paragraphs = [p for p in seed_text.split("\n") if p.strip()]
    items = [(f"p{k}", p) for k, p in enumerate(paragraphs)]
    ahead = list(analyzer.analyze_many(items, batch_size=3, progress=False, parse_ahead=True))
    assert parsing_threads and threading.main_thread().name not in parsing_threads
    parsing_threads.clear()
    serial = list(analyzer.analyze_many(items, batch_size=3, progress=False))
    assert parsing_threads == {threading.main_thread().name}
    assert [r.to_records() for r in ahead] == [r.to_records() for r in serial]
    assert sum(len(r.judgements) for r in ahead) > 10


def test_a_batch_whose_parse_fails_ahead_is_redone_one_by_one_and_only_the_culprit_fails(
    analyzer: StanceAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import stancekit.analyzer as module

    real = module.parse_many  # type: ignore[attr-defined]

    def broken_on_marker(items: Any) -> Any:
        items = list(items)
        if any("BREAKS" in text for _, text, _ in items):
            raise RuntimeError("the parser broke")
        return real(items)

    monkeypatch.setattr(module, "parse_many", broken_on_marker)
    items = [
        ("a", "Baku blamed the CSTO."),
        ("b", "BREAKS. The CSTO met."),
        ("c", "Zas praised the CSTO."),
        ("d", "Azerbaijan met the CSTO."),
    ]
    results = list(analyzer.analyze_many(items, batch_size=2, progress=False, parse_ahead=True))
    assert [r.document.id for r in results] == ["a", "b", "c", "d"]
    assert [r.ok for r in results] == [True, False, True, True]
    assert results[1].error == "RuntimeError: the parser broke"
    assert results[0].judgements and results[2].judgements
    with pytest.raises(ValueError, match="parse_ahead=True needs timeout_s=None"):
        next(analyzer.analyze_many(items, parse_ahead=True, timeout_s=5))


def test_missing_model_directory_explains_how_to_get_the_model(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"does not exist.*default model ships"):
        StanceAnalyzer(model=tmp_path / "absent")


def test_bad_batch_size_is_refused(tiny_model: StanceModel) -> None:
    with pytest.raises(ValueError, match="'batch_size' must be a positive int, got 0"):
        StanceAnalyzer(model=tiny_model, batch_size=0)


# -- bad input (docs/bad-input.md) -----------------------------------------------------------


def test_bytes_in_analyze_many_give_an_error_result_with_the_decode_fix(
    analyzer: StanceAnalyzer,
) -> None:
    items = [b"\xff\xfe not UTF-8", ("b", b"\xc3\x28"), {"id": "m", "text": b"x"}, "Fine."]
    results = list(analyzer.analyze_many(items, progress=False))  # type: ignore[arg-type]
    assert [r.ok for r in results] == [False, False, False, True]
    for r in results[:3]:
        assert (r.error or "").startswith("TypeError: ") and "decode bytes first" in (r.error or "")


def test_html_is_analysed_and_flagged(analyzer: StanceAnalyzer) -> None:
    res = analyzer.analyze("<p>Baku blamed the CSTO for the attacks.</p>")
    assert res.ok and "html" in res.flags
    assert res.judgements  # analysed as given, not dropped


def test_a_sentence_longer_than_the_model_window_is_flagged_windowed(
    analyzer: StanceAnalyzer,
) -> None:
    text = "The CSTO " + "said that the talks went on and on " * 20 + "in Yerevan."
    res = analyzer.analyze(text)
    assert len(res.document.sentences) == 1
    assert res.judgements and all("windowed" in j.flags for j in res.judgements)


def test_a_line_longer_than_the_parser_chunk_is_cut_and_flagged(analyzer: StanceAnalyzer) -> None:
    from stancekit.text.segment import MAX_CHUNK

    text = "the CSTO met again and talked " * (MAX_CHUNK // 30 + 10)
    res = analyzer.analyze(text)
    assert "long_line" in res.flags and len(res.document.sentences) >= 2


def test_non_english_text_is_flagged_not_scored_silently(analyzer: StanceAnalyzer) -> None:
    text = (
        "Le Premier ministre arménien a déclaré lundi que l'offre de l'OTSC ne répondait pas "
        "aux attentes de son pays, qui demande une condamnation claire des attaques."
    )
    res = analyzer.analyze(text)
    assert res.ok and "non_english" in res.flags


def test_lone_surrogates_are_read_as_replacement_characters_and_flagged(
    tiny_model: StanceModel,
) -> None:
    an = StanceAnalyzer(model=tiny_model, targets=["CSTO", "X\ud800"])
    text = "Zas praised the CSTO \ud800 today. X\ud800 blamed the CSTO."
    res = an.analyze(text)
    assert res.ok and "lone_surrogates" in res.flags
    assert res.document.text == text  # the output keeps the text as given
    assert {j.target.name for j in res.judgements} == {"CSTO", "X\ud800"}


def test_duplicate_ids_in_analyze_many_are_analysed_and_flagged(analyzer: StanceAnalyzer) -> None:
    items = [("a", "Baku blamed the CSTO."), ("b", "x"), ("a", "The CSTO met.")]
    results = list(analyzer.analyze_many(items, batch_size=2, progress=False))
    assert [r.flags.count("duplicate_id") for r in results] == [0, 0, 1]
    assert all(r.ok for r in results) and results[2].judgements


def test_a_document_without_any_target_mention_is_flagged(analyzer: StanceAnalyzer) -> None:
    res = analyzer.analyze("The weather in Yerevan was mild on Monday.")
    assert res.ok and res.judgements == () and "no_target_mention" in res.flags
    assert "no_target_mention" not in analyzer.analyze("Baku blamed the CSTO.").flags


def test_a_requested_target_absent_from_its_unit_is_flagged(analyzer: StanceAnalyzer) -> None:
    from stancekit.pairs.build import PairRequest

    text = "Zas praised the CSTO. The weather was mild."
    js = analyzer.judge(
        text, [PairRequest(0, 21, "Zas", "CSTO"), PairRequest(22, 43, None, "NATO")]
    )
    assert "no_target_mention" not in js[0].flags and "no_target_mention" in js[1].flags


def test_a_document_over_max_chars_is_refused_without_stopping_the_batch(
    tiny_model: StanceModel,
) -> None:
    from stancekit.errors import DocumentTooLargeError

    an = StanceAnalyzer(model=tiny_model, max_chars=100)
    with pytest.raises(DocumentTooLargeError, match=r"'big' has 101 characters.*max_chars=100"):
        an.analyze("x" * 101, id="big")
    results = list(an.analyze_many([("big", "x" * 101), ("ok", "The CSTO met.")], progress=False))
    assert (results[0].error or "").startswith("DocumentTooLargeError: document 'big' has 101")
    assert results[0].judgements == () and results[1].ok


def test_max_chars_must_be_positive_or_none(tiny_model: StanceModel) -> None:
    with pytest.raises(
        ValueError, match=r"'max_chars' must be a positive int or None \(no limit\), got 0"
    ):
        StanceAnalyzer(model=tiny_model, max_chars=0)
    assert StanceAnalyzer(model=tiny_model, max_chars=None).max_chars is None


def test_documents_slower_than_slow_s_are_flagged(analyzer: StanceAnalyzer) -> None:
    items = ["Baku blamed the CSTO.", "The CSTO met."]
    fast = list(analyzer.analyze_many(items, progress=False))
    slow = list(analyzer.analyze_many(items, progress=False, slow_s=1e-9))
    assert all("slow" not in r.flags for r in fast) and all("slow" in r.flags for r in slow)
    with pytest.raises(ValueError, match="'slow_s' must be a positive number or None"):
        next(analyzer.analyze_many(items, slow_s=0))


def test_a_document_over_timeout_s_is_an_error_result_and_the_batch_goes_on(
    analyzer: StanceAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import stancekit.analyzer as module
    from stancekit.actors import find_actors
    from stancekit.results.judgements import BatchSummary

    real = find_actors

    def slow_on_marker(parsed: Any) -> Any:
        if "SLOWDOWN" in parsed.document.text:
            time.sleep(30)  # stands for a pathological actor-linking case
        return real(parsed)

    monkeypatch.setattr(module, "find_actors", slow_on_marker)
    items = [("a", "Baku blamed the CSTO."), ("slow", "SLOWDOWN. The CSTO met."), ("c", "CSTO.")]
    summary = BatchSummary()
    start = time.monotonic()
    results = list(analyzer.analyze_many(items, progress=False, timeout_s=1.0, summary=summary))
    took = time.monotonic() - start
    assert [r.document.id for r in results] == ["a", "slow", "c"]
    assert results[0].ok and results[2].ok and results[0].judgements
    error = results[1].error or ""
    assert error.startswith("DocumentTimeoutError: document 'slow' took longer than timeout_s=1.0")
    assert "raise timeout_s" in error
    assert summary.skipped == {"DocumentTimeoutError": 1}
    assert took < 3 * 1.0 + 5  # batch budget (3 x 1 s) + 1 s alone + parsing, not 30 s
    with pytest.raises(ValueError, match="'timeout_s' must be a positive number"):
        next(analyzer.analyze_many(items, timeout_s=0))


def test_timeout_s_off_the_main_thread_warns_and_does_not_interrupt(
    analyzer: StanceAnalyzer,
) -> None:
    import threading

    caught: list[Any] = []

    def worker() -> None:
        with pytest.warns(RuntimeWarning, match="needs POSIX signals and the main thread"):
            caught.extend(analyzer.analyze_many(["The CSTO met."], progress=False, timeout_s=5))

    t = threading.Thread(target=worker)
    t.start()
    t.join()
    assert len(caught) == 1 and caught[0].ok


def test_the_batch_summary_counts_what_was_skipped_and_why(analyzer: StanceAnalyzer) -> None:
    from stancekit.results.judgements import BatchSummary

    an = StanceAnalyzer(model=analyzer.model, targets=["CSTO", "Atlantis"], max_chars=50)
    items = ["Baku blamed the CSTO.", 42, "x" * 51, "", ("a", "The CSTO met."), ("a", "No.")]
    summary = BatchSummary()
    results = list(an.analyze_many(items, progress=False, summary=summary))  # type: ignore[arg-type]
    assert len(results) == 6
    assert (summary.n_documents, summary.n_analysed, summary.n_skipped) == (6, 4, 2)
    assert summary.skipped == {"TypeError": 1, "DocumentTooLargeError": 1}
    assert summary.flagged["empty"] == 1 and summary.flagged["duplicate_id"] == 1
    assert summary.unmentioned_targets == ("Atlantis",)
    line = str(summary)
    assert "6 documents: 4 analysed, 2 skipped" in line and "never mentioned: Atlantis" in line


# -- determinism -----------------------------------------------------------------------------


def test_jsonl_output_is_byte_identical_across_runs_and_batch_sizes(
    tiny_model: StanceModel, seed_text: str
) -> None:
    from stancekit.results.judgements import json_line

    outputs = set()
    for batch_size in (1, 7, 64, 7):
        an = StanceAnalyzer(model=tiny_model, batch_size=batch_size)
        items = [("seed", seed_text), ("seed-2", seed_text.replace("CSTO", "C.S.T.O. (CSTO)"))]
        lines = [
            json_line(rec) + "\n"
            for res in an.analyze_many(items, batch_size=2, progress=False)
            for rec in [*res.to_records(), *res.summary().to_records()]
        ]
        assert len(lines) > 20
        outputs.add("".join(lines).encode("utf-8"))
    assert len(outputs) == 1


def _jsonl(results: Any) -> bytes:
    from stancekit.results.judgements import json_line

    return "".join(
        json_line(rec) + "\n"
        for res in results
        for rec in [*res.to_records(), *res.summary().to_records()]
    ).encode("utf-8")


def test_jsonl_output_is_byte_identical_across_document_batch_sizes_1_7_64(
    tiny_model: StanceModel, seed_text: str
) -> None:
    # each paragraph of the seed article is a document: the batch size changes which
    # documents' pairs share a model call, so padding and batch shapes change
    paragraphs = [p for p in seed_text.split("\n") if p.strip()]
    items = [("seed", seed_text), *((f"p{k}", p) for k, p in enumerate(paragraphs))]
    assert len(items) >= 10
    outputs = {
        _jsonl(
            StanceAnalyzer(model=tiny_model, batch_size=size).analyze_many(
                items, batch_size=size, progress=False
            )
        )
        for size in (1, 7, 64)
    }
    assert len(outputs) == 1 and outputs.pop().count(b"\n") > 30


def test_default_model_output_is_byte_identical_across_batch_sizes_1_7_64(
    seed_text: str,
) -> None:
    from stancekit.scoring.model import CONFIG_NAME, default_model_path

    if not (default_model_path() / CONFIG_NAME).exists():
        pytest.skip("default model not built")
    model = StanceModel.load(default_model_path(), device="cpu")
    paragraphs = [p for p in seed_text.split("\n") if p.strip()]
    items = [("seed", seed_text), *((f"p{k}", p) for k, p in enumerate(paragraphs))]
    outputs = {
        _jsonl(
            StanceAnalyzer(model=model, batch_size=size).analyze_many(
                items, batch_size=size, progress=False
            )
        )
        for size in (1, 7, 64)
    }
    assert len(outputs) == 1


def test_a_name_straddling_a_sentence_boundary_is_dropped_as_evidence_not_a_crash(
    analyzer: StanceAnalyzer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the actor stage finds known names anywhere in the text; in the megabyte property test
    # "CSTO Baku" straddled a sentence boundary, the model input got a span of (-5, 4), and
    # analyze() raised ValueError (test_properties.py::test_a_megabyte_without_a_full_stop...)
    import stancekit.analyzer as module
    from stancekit.actors import Actor, ActorAnalysis, Attribution, find_actors

    real = find_actors

    def straddling(parsed: Any) -> ActorAnalysis:
        found = real(parsed)
        doc = parsed.document
        m = doc.mention(12, 22, "ORG")  # "CSTO. Baku": ends inside sentence 1
        actor = Actor("CSTO Baku", "ORG", mentions=(m,))
        att = Attribution(1, actor, "speaker", m, "said")
        return ActorAnalysis((*found.actors, actor), (*found.attributions, att))

    monkeypatch.setattr(module, "find_actors", straddling)
    res = analyzer.analyze("Zas met the CSTO. Baku said the CSTO failed.")
    assert res.ok
    held = [j for j in res.judgements if j.holder_name == "CSTO Baku"]
    assert held and all(j.holder_mention is None for j in held)
    for j in res.judgements:
        for m in (j.holder_mention, j.target_mention):
            assert m is None or j.sentence.start <= m.start <= m.end <= j.sentence.end
