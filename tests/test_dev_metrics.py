from __future__ import annotations

import numpy as np

from stancekit.scoring.model import PairInput, Scores
from stancekit.training.data import STANCE_LABELS, Example
from stancekit.training.dev_metrics import directed_view

SENT = "Trump blamed China."


def _ex(holder: str | None, target: str, stance: str, doc: str = "d1") -> Example:
    return Example(PairInput(SENT, holder, target), STANCE_LABELS.index(stance), None, "dsa", doc)


def _scores(rows: list[list[float]]) -> Scores:
    st = np.array(rows)
    return Scores(
        st,
        np.full((len(rows), 3), 1 / 3),
        ("favor", "against", "none"),
        ("positive", "neutral", "negative"),
        np.zeros(len(rows), dtype=bool),
    )


def test_directed_view_combines_both_directions_of_a_pair() -> None:
    exs = [
        _ex("Trump", "China", "against"),
        _ex("China", "Trump", "none"),
        _ex("Xi", "Biden", "none", doc="d2"),
        _ex("Biden", "Xi", "none", doc="d2"),
    ]
    # predictions: Trump->China against (right); the d2 pair predicted neutral (right)
    scores = _scores([[0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8], [0.2, 0.1, 0.7]])
    out = directed_view(exs, scores)
    assert out is not None
    assert (out["n_pairs"], out["n_unpaired"], out["micro_f1"]) == (2, 0, 1.0)


def test_sets_without_holders_have_no_directed_view() -> None:
    exs = [_ex(None, "climate change", "favor")]
    assert directed_view(exs, _scores([[0.8, 0.1, 0.1]])) is None
