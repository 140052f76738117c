from __future__ import annotations

from pathlib import Path

import pytest

from stancekit.analyzer import StanceAnalyzer
from stancekit.document import Document
from stancekit.errors import ModelNotFoundError
from stancekit.model import StanceModel
from stancekit.targets import Target

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


def test_missing_model_directory_explains_how_to_get_the_model(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"does not exist.*default model ships"):
        StanceAnalyzer(model=tmp_path / "absent")


def test_bad_batch_size_is_refused(tiny_model: StanceModel) -> None:
    with pytest.raises(ValueError, match="'batch_size' must be a positive int, got 0"):
        StanceAnalyzer(model=tiny_model, batch_size=0)
