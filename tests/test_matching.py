from __future__ import annotations

import pytest

from stancekit.actors import Actor
from stancekit.actors.targets import Target
from stancekit.evaluation.matching import extract_counts, units_match
from stancekit.results.judgements import Judgement
from stancekit.spans import GoldDocument, GoldSpan
from stancekit.text.document import Sentence

TEXT = "Zas praised the CSTO. Pashinian condemned Azerbaijan. Nothing else."
S0 = Sentence(0, 21, 0, TEXT[0:21])
S1 = Sentence(22, 53, 1, TEXT[22:53])


def _j(sent: Sentence, holder: str | None, target: str, stance: str) -> Judgement:
    probs = {k: (0.8 if k == stance else 0.1) for k in ("favor", "against", "none")}
    se = {"positive": 0.2, "neutral": 0.6, "negative": 0.2}
    return Judgement(
        "d",
        sent,
        None if holder is None else Actor(holder, "PERSON"),
        Target(target),
        stance,
        probs,
        "neutral",
        se,
    )


@pytest.mark.parametrize(
    ("a", "b", "overlap", "same"),
    [
        ((0, 10), (0, 10), 0.5, True),
        ((0, 10), (5, 30), 0.5, True),
        ((0, 10), (6, 30), 0.5, False),
        ((0, 10), (20, 30), 0.1, False),
        ((0, 10), (0, 100), 1.0, True),
    ],
)
def test_units_match_by_overlap_of_the_shorter_unit(
    a: tuple[int, int], b: tuple[int, int], overlap: float, same: bool
) -> None:
    assert units_match(a, b, min_overlap=overlap) is same


def test_extract_counts_match_unit_holder_alias_target_and_stance() -> None:
    gold = GoldDocument(
        "d",
        TEXT,
        (
            GoldSpan(0, 21, "Stanislav Zas", "CSTO", stance="favor"),
            GoldSpan(22, 53, "Nikol Pashinian", "Azerbaijan", stance="against"),
            GoldSpan(22, 53, None, "Azerbaijan", stance="none"),
        ),
    )
    preds = (
        _j(S0, "Zas", "CSTO", "favor"),  # tp: surname matches the full name
        _j(S1, "Pashinian", "Azerbaijan", "favor"),  # wrong stance: fp and fn
        _j(S1, None, "Azerbaijan", "against"),  # author: gold none -> fp
        _j(S1, None, "CSTO", "none"),  # none predictions are not triples
    )
    counts = extract_counts([(gold, preds)]).to_dict()
    # 1 tp of 3 non-none predictions; 2 non-none gold triples
    assert (counts["tp"], counts["n_pred"], counts["n_gold"]) == (1, 3, 2)
    assert counts["precision"] == pytest.approx(1 / 3)
    assert counts["recall"] == pytest.approx(1 / 2)
    assert counts["f1"] == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    # holders: gold {(S0, Zas), (S1, Pashinian)}, predicted the same two -> all found
    assert counts["holder_precision"] == counts["holder_recall"] == 1.0


def test_extract_counts_with_nothing_predicted_are_zero_not_errors() -> None:
    gold = GoldDocument("d", TEXT, (GoldSpan(0, 21, "Zas", "CSTO", stance="favor"),))
    counts = extract_counts([(gold, ())]).to_dict()
    assert counts["precision"] == counts["recall"] == counts["f1"] == 0.0
    assert counts["holder_recall"] == 0.0
