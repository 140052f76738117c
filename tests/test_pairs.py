from __future__ import annotations

import pytest

from stancekit.analyzer import StanceAnalyzer
from stancekit.pairs.build import PairRequest, names_match
from stancekit.scoring.model import StanceModel


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Prime Minister Nikol Pashinian", "Pashinian", True),
        ("Pashinian’s", "Nikol Pashinian", True),
        ("the United States", "United States", True),
        ("Mr. Trump", "Donald Trump", True),
        ("CSTO", "csto", True),
        ("Zas", "Baku", False),
        ("Nikol Pashinian", "Armen Khachatrian", False),
        ("", "Zas", False),
    ],
)
def test_names_match_ignores_case_titles_and_surnames(a: str, b: str, same: bool) -> None:
    assert names_match(a, b) is same


@pytest.mark.slow
def test_judge_resolves_a_holder_named_in_another_sentence(tiny_model: StanceModel) -> None:
    text = "Armen Khachatrian spoke on Monday. He said the CSTO had failed Armenia."
    second = text.index("He")
    analyzer = StanceAnalyzer(model=tiny_model)
    out = analyzer.judge(
        text,
        [
            PairRequest(second, len(text), "Khachatrian", "CSTO"),
            PairRequest(second, len(text), None, "Armenia", target_mention=(63, 70)),
            PairRequest(0, second - 1, "Nobody Known", "CSTO"),
        ],
    )
    assert len(out) == 3
    assert out[0].holder is not None and out[0].holder.name == "Armen Khachatrian"
    assert out[0].holder_mention is not None and out[0].holder_mention.text == "He"
    assert out[0].target_mention is not None and out[0].target_mention.text == "CSTO"
    assert out[1].holder is None and out[1].target_mention is not None
    assert out[1].target_mention.text == "Armenia"
    assert out[2].holder is not None and out[2].holder.kind == "UNKNOWN"
    assert out[2].target_mention is None  # the CSTO is not in that unit
    for j in out:
        assert text[j.sentence.start : j.sentence.end] == j.sentence.text


@pytest.mark.slow
def test_judge_rejects_a_unit_outside_the_text(tiny_model: StanceModel) -> None:
    with pytest.raises(ValueError, match="outside the text of length 5"):
        StanceAnalyzer(model=tiny_model).judge("Hello", [PairRequest(0, 9, None, "X")])
