from __future__ import annotations

import numpy as np

from stancekit.model import PairInput, Scores
from stancekit.training.card import directed_view
from stancekit.training.data import STANCE_LABELS, Example

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


def _card(datasets: list[dict[str, object]], training: dict[str, object]) -> str:
    from stancekit.training.card import model_card
    from stancekit.training.config import RecipeConfig

    cfg = RecipeConfig.from_dict({"datasets": datasets})
    metrics = {
        "weights_dtype": "float16",
        "temperature_stance": 1.0,
        "temperature_sentiment": 1.0,
        "bootstrap": {"samples": 10},
        "ece_bins": 15,
        "calibration_sets": {"stance": "dsa_valid", "sentiment": "newsmtsc_heldout"},
        "training": training,
        "sets": {},
    }
    return model_card(cfg, metrics)


_NEWS: dict[str, object] = {
    "name": "newsmtsc",
    "file": "newsmtsc_train.jsonl",
    "holdout_fraction": 0.1,
    "holdout_key": "^story_(\\d+)",
}
_SNLI: dict[str, object] = {"name": "snli", "file": "snli/train.tsv", "format": "nli_tsv"}


def test_card_says_whether_nli_data_was_mixed_in_and_how_it_is_read() -> None:
    without = _card([_NEWS], {})
    assert "No NLI data was used." in without
    with_nli = _card([_NEWS, _SNLI], {})
    assert "NLI pairs (snli)" in with_nli and "entailment = favor" in with_nli
    assert "No NLI data" not in with_nli


def test_card_names_the_holdout_grouping_key() -> None:
    assert "the group is the id's match of `^story_(\\d+)`" in _card([_NEWS], {})


def test_card_lists_averaged_weights_only_when_there_were_several() -> None:
    assert "element-wise mean" not in _card([_NEWS], {"averaged_weights_of": ["step 9"]})
    card = _card([_NEWS], {"averaged_weights_of": ["checkpoint-10", "step 20 (in memory)"]})
    assert "mean of 2 weight sets of this one run: checkpoint-10, step 20 (in memory)" in card


def test_card_describes_a_soup_of_train_seeds() -> None:
    runs = [{"train_seed": 13, "global_step": 40}, {"train_seed": 29, "global_step": 40}]
    card = _card(
        [_NEWS],
        {"soup_of_train_seeds": [13, 29], "runs": runs, "averaged_weights_of": ["step 40"]},
    )
    assert "element-wise mean of 2 runs (a uniform model soup, `train_seeds`)" in card
    assert "train seeds 13, 29 set the data order and dropout" in card
    assert "weight sets of" not in card  # no checkpoint averaging within the runs


def test_card_gives_the_training_time_when_it_is_known() -> None:
    assert "on 2 CPU cores, 54 min of training." in _card([_NEWS], {"train_seconds_this_run": 3245})
    assert "min of training" not in _card([_NEWS], {})
