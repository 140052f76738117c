"""Evaluation metrics against small cases computed by hand."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from stancekit.evaluation.metrics import (
    FIVE_CLASS_LABELS,
    DirectedRecord,
    bootstrap_ci,
    classification_metrics,
    directed_five_class,
    paired_bootstrap,
    polarity,
)

LABELS = ["favor", "against", "none"]
POSITIVE = ["favor", "against"]

# Eight items. Confusion (rows = true, columns = predicted; favor, against, none):
#   favor   [2, 1, 0]
#   against [0, 2, 1]
#   none    [0, 1, 1]
# favor:   tp=2, predicted 2, true 3 -> P=1,   R=2/3, F1=2*1*(2/3)/(1+2/3) = 4/5
# against: tp=2, predicted 4, true 3 -> P=1/2, R=2/3, F1=2*(1/2)(2/3)/(1/2+2/3) = 4/7
# none:    tp=1, predicted 2, true 2 -> P=1/2, R=1/2, F1=1/2
# macro-F1 = (4/5 + 4/7 + 1/2) / 3 = (131/70) / 3 = 131/210
# F_avg (favor, against) = (4/5 + 4/7) / 2 = 24/35
# accuracy = 5/8
Y_TRUE = ["favor", "favor", "favor", "against", "against", "against", "none", "none"]
Y_PRED = ["favor", "favor", "against", "against", "against", "none", "none", "against"]

# Four items with probabilities (columns favor, against, none):
#   1 true favor   [0.7, 0.2, 0.1 ] top favor (right), conf 0.7; Brier .09+.04+.01      = 0.14
#   2 true against [0.6, 0.3, 0.1 ] top favor (wrong), conf 0.6; Brier .36+.49+.01      = 0.86
#   3 true none    [0.1, 0.1, 0.8 ] top none  (right), conf 0.8; Brier .01+.01+.04      = 0.06
#   4 true favor   [0.4, 0.35,0.25] top favor (right), conf 0.4; Brier .36+.1225+.0625  = 0.545
# Brier = (0.14 + 0.86 + 0.06 + 0.545) / 4 = 0.40125
# ECE, 2 bins: [0, .5] holds item 4: |1 - 0.4| * 1/4 = 0.15;
#              (.5, 1] holds 1, 2, 3: conf 0.7, acc 2/3: |2/3 - 0.7| * 3/4 = 0.025 -> 0.175
# ECE, 3 bins: [0, 1/3] empty; (1/3, 2/3] holds 2, 4: conf 0.5, acc 1/2 -> 0;
#              (2/3, 1] holds 1, 3: conf 0.75, acc 1: 0.25 * 2/4 = 0.125 -> 0.125
P_TRUE = ["favor", "against", "none", "favor"]
PROBS = np.array([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8], [0.4, 0.35, 0.25]])
P_PRED = ["favor", "favor", "none", "favor"]


def _f(x: Fraction | float) -> Any:
    return pytest.approx(float(x))


def test_classification_metrics_hand_computed() -> None:
    m = classification_metrics(Y_TRUE, Y_PRED, labels=LABELS, positive_labels=POSITIVE)
    assert m["n"] == 8
    assert m["labels"] == LABELS
    assert m["confusion"] == [[2, 1, 0], [0, 2, 1], [0, 1, 1]]
    assert m["per_class"]["favor"] == {
        "precision": 1.0,
        "recall": _f(Fraction(2, 3)),
        "f1": _f(Fraction(4, 5)),
        "support": 3,
    }
    assert m["per_class"]["against"]["precision"] == _f(0.5)
    assert m["per_class"]["against"]["f1"] == _f(Fraction(4, 7))
    assert m["per_class"]["none"]["f1"] == _f(0.5)
    assert m["per_class"]["none"]["support"] == 2
    assert m["macro_f1"] == _f(Fraction(131, 210))
    assert m["f_avg"] == _f(Fraction(24, 35))
    assert m["accuracy"] == _f(Fraction(5, 8))
    assert m["brier"] is None and m["ece"] is None and m["reliability"] is None
    assert set(m["ci95"]) == {"macro_f1", "f_avg", "accuracy"}
    for name, (lo, hi) in m["ci95"].items():
        assert lo <= m[name] <= hi, name
    json.dumps(m, allow_nan=False)  # plain Python types only


def test_f_avg_is_none_without_positive_labels() -> None:
    m = classification_metrics(Y_TRUE, Y_PRED, labels=LABELS, n_bootstrap=50)
    assert m["f_avg"] is None
    assert set(m["ci95"]) == {"macro_f1", "accuracy"}


def test_brier_ece_and_reliability_hand_computed() -> None:
    m = classification_metrics(P_TRUE, P_PRED, labels=LABELS, probs=PROBS, n_bins=2)
    assert m["brier"] == _f(0.40125)
    assert m["ece"] == _f(0.175)
    m3 = classification_metrics(P_TRUE, P_PRED, labels=LABELS, probs=PROBS, n_bins=3)
    assert m3["ece"] == _f(0.125)
    rel = m3["reliability"]
    assert rel["bin_lower"] == [0.0, _f(1 / 3), _f(2 / 3)]
    assert rel["bin_upper"] == [_f(1 / 3), _f(2 / 3), 1.0]
    assert rel["count"] == [0, 2, 2]
    assert rel["confidence"] == [None, _f(0.5), _f(0.75)]
    assert rel["accuracy"] == [None, _f(0.5), 1.0]
    json.dumps(m3, allow_nan=False)


def test_confidence_on_a_bin_edge_goes_to_the_lower_bin() -> None:
    probs = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    m = classification_metrics(
        ["favor", "favor"], ["favor", "favor"], labels=LABELS, probs=probs, n_bins=2, n_bootstrap=10
    )
    assert m["reliability"]["count"] == [1, 1]
    assert m["ece"] == _f(0.25)  # bin 1: |1 - .5| * 1/2; bin 2: |1 - 1| * 1/2


def test_fast_bootstrap_scorer_matches_sklearn() -> None:
    rng = np.random.default_rng(1)
    labels = [*LABELS, "unused"]
    y = list(rng.choice(LABELS, size=40))
    a, b = list(rng.choice(LABELS, size=40)), list(rng.choice(LABELS, size=40))
    for metric, pos in (("macro_f1", None), ("f_avg", POSITIVE), ("accuracy", None)):
        res = paired_bootstrap(
            y, a, b, metric=metric, labels=labels, positive_labels=pos, n_bootstrap=10
        )
        for sys_name, pred in (("a", a), ("b", b)):
            ref = classification_metrics(
                y, pred, labels=labels, positive_labels=pos, n_bootstrap=10
            )
            assert res[sys_name] == _f(ref[metric])


def test_bootstrap_ci_is_deterministic_and_contains_the_estimate() -> None:
    def acc(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(t == p))

    first = bootstrap_ci(acc, Y_TRUE, Y_PRED, seed=3)
    assert first == bootstrap_ci(acc, Y_TRUE, Y_PRED, seed=3)
    assert first[0] <= 5 / 8 <= first[1]
    assert all(isinstance(v, float) for v in first)
    a = classification_metrics(Y_TRUE, Y_PRED, labels=LABELS, seed=7)
    assert a["ci95"] == classification_metrics(Y_TRUE, Y_PRED, labels=LABELS, seed=7)["ci95"]


def test_bootstrap_ci_validation() -> None:
    with pytest.raises(ValueError, match="'n_bootstrap' parameter of bootstrap_ci"):
        bootstrap_ci(lambda t, p: 0.0, [1], [1], n_bootstrap=0)
    with pytest.raises(ValueError, match="'alpha'"):
        bootstrap_ci(lambda t, p: 0.0, [1], [1], alpha=1.5)
    with pytest.raises(ValueError, match=r"'y_pred'.*same length"):
        bootstrap_ci(lambda t, p: 0.0, [1, 2], [1])


def test_paired_bootstrap_identical_predictions() -> None:
    res = paired_bootstrap(Y_TRUE, Y_PRED, list(Y_PRED), labels=LABELS)
    assert res["difference"] == 0.0
    assert res["ci95"] == [0.0, 0.0]
    assert res["p_value"] == 1.0
    assert res["a"] == res["b"] == _f(Fraction(131, 210))
    assert set(res) == {"metric", "a", "b", "difference", "ci95", "p_value", "n", "n_bootstrap"}
    assert (res["metric"], res["n"], res["n_bootstrap"]) == ("macro_f1", 8, 1000)
    json.dumps(res, allow_nan=False)


def test_paired_bootstrap_clearly_better_b() -> None:
    y = (["favor", "against", "none"] * 20)[:60]
    worse = [lab if i % 2 else "none" for i, lab in enumerate(y)]
    res = paired_bootstrap(y, worse, y, metric="f_avg", labels=LABELS, positive_labels=POSITIVE)
    assert res["b"] == 1.0
    assert res["difference"] > 0
    assert res["ci95"][0] > 0
    assert res["p_value"] < 0.05
    flipped = paired_bootstrap(y, y, worse, metric="accuracy", labels=LABELS)
    assert flipped["difference"] == _f(-0.5 + 10 / 60)  # worse is right on odd items + nones
    assert flipped["ci95"][1] < 0 and flipped["p_value"] == 1.0


def test_paired_bootstrap_validation() -> None:
    with pytest.raises(ValueError, match=r"'metric'.*f_avg"):
        paired_bootstrap(Y_TRUE, Y_PRED, Y_PRED, metric="f_avg", labels=LABELS)
    with pytest.raises(ValueError, match="'metric'"):
        paired_bootstrap(Y_TRUE, Y_PRED, Y_PRED, metric="auc", labels=LABELS)
    with pytest.raises(ValueError, match=r"'pred_b'.*same length"):
        paired_bootstrap(Y_TRUE, Y_PRED, Y_PRED[:3], labels=LABELS)
    with pytest.raises(ValueError, match=r"'pred_a'.*Got 'pro'"):
        paired_bootstrap(Y_TRUE, ["pro"] * 8, Y_PRED, labels=LABELS)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"y_pred": ["favor"] * 7 + ["pro"]},
            r"'y_pred' parameter of classification_metrics "
            r"must contain only values from labels \['favor', 'against', 'none'\]\. Got 'pro'",
        ),
        ({"y_true": ["fav", *Y_TRUE[1:]]}, r"'y_true'.*Got 'fav' instead\."),
        ({"y_pred": Y_PRED[:5]}, r"'y_pred'.*same length as 'y_true' \(8\)\. Got 'length 5'"),
        ({"y_true": [], "y_pred": []}, r"'y_true'.*non-empty"),
        ({"labels": []}, r"'labels'.*non-empty"),
        ({"labels": ["favor", "favor", "against", "none"]}, r"'labels'.*distinct"),
        ({"positive_labels": ["pro"]}, r"'positive_labels'.*subset"),
        ({"probs": np.full((8, 2), 0.5)}, r"'probs'.*shape \(8, 3\)\. Got 'shape \(8, 2\)'"),
        ({"probs": np.full((8, 3), 2.0)}, r"'probs'.*\[0, 1\]"),
        ({"probs": np.full((8, 3), 0.3), "n_bins": 0}, r"'n_bins'"),
        ({"n_bootstrap": -1}, r"'n_bootstrap'"),
    ],
)
def test_classification_metrics_validation(kwargs: dict[str, object], pattern: str) -> None:
    args: dict[str, object] = {"y_true": Y_TRUE, "y_pred": Y_PRED, "labels": LABELS, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        classification_metrics(**args)  # type: ignore[arg-type]


def _r(unit: str, h: str, t: str, gold: str, pred: str, conf: float) -> DirectedRecord:
    return DirectedRecord(unit, h, t, gold, pred, conf)


def test_directed_five_class_hand_computed() -> None:
    records = [
        # only A->B is non-neutral: gold pos_ab, pred pos_ab
        _r("s1", "A", "B", "favor", "favor", 0.9),
        _r("s1", "B", "A", "none", "none", 0.2),
        # both neutral in gold: neutral; pred C->A against: neg_ba (canonical order A < C)
        _r("s1", "A", "C", "none", "none", 0.1),
        _r("s1", "C", "A", "none", "against", 0.7),
        # both non-neutral: gold takes A->B (neg_ab); pred takes the more confident B->A
        _r("s2", "A", "B", "against", "against", 0.6),
        _r("s2", "B", "A", "favor", "favor", 0.8),
        # gold only Y->X: neg_ba; pred both at 0.7, the tie goes to X->Y: pos_ab
        _r("s2", "X", "Y", "none", "favor", 0.7),
        _r("s2", "Y", "X", "against", "against", 0.7),
        # sentiment labels, reverse direction listed first: gold and pred pos_ba
        _r("s3", "Zed", "Abe", "positive", "positive", 0.9),
        _r("s3", "Abe", "Zed", "neutral", "neutral", 0.1),
        # unpaired: no reverse in the same unit (4 records)
        _r("s3", "Abe", "Moe", "favor", "favor", 0.9),
        _r("s1", "B", "C", "against", "none", 0.3),
        _r("s4", "A", "B", "favor", "favor", 0.9),
        _r("s5", "B", "A", "favor", "favor", 0.9),
    ]
    out = directed_five_class(records)
    assert out["n_pairs"] == 5
    assert out["n_unpaired"] == 4
    assert out["labels"] == list(FIVE_CLASS_LABELS)
    # gold -> pred: pos_ab->pos_ab, neutral->neg_ba, neg_ab->pos_ba, neg_ba->pos_ab, pos_ba->pos_ba
    assert out["confusion"] == [
        [0, 0, 0, 0, 1],  # neutral
        [0, 1, 0, 0, 0],  # pos_ab
        [0, 0, 1, 0, 0],  # pos_ba
        [0, 0, 1, 0, 0],  # neg_ab
        [0, 1, 0, 0, 0],  # neg_ba
    ]
    # pos_ab and pos_ba: P=1/2, R=1 -> F1=2/3; the other three 0 -> macro 4/3 / 5 = 4/15
    assert out["per_class"]["pos_ab"]["f1"] == _f(Fraction(2, 3))
    assert out["per_class"]["neutral"]["f1"] == 0.0
    assert out["macro_f1"] == _f(Fraction(4, 15))
    assert out["micro_f1"] == _f(0.4)  # 2 of 5 right
    json.dumps(out, allow_nan=False)


def test_directed_five_class_orders_a_pair_by_mention_not_by_name() -> None:
    # "Zas" comes after "CSTO" in the alphabet but is mentioned first: A = Zas
    records = [
        DirectedRecord("s1", "Zas", "CSTO", "favor", "favor", 0.9, holder_start=0),
        DirectedRecord("s1", "CSTO", "Zas", "none", "none", 0.1, holder_start=16),
        # mentioned second this time: A = Baku
        DirectedRecord("s2", "Zas", "Baku", "against", "none", 0.2, holder_start=30),
        DirectedRecord("s2", "Baku", "Zas", "none", "none", 0.1, holder_start=2),
    ]
    out = directed_five_class(records, with_pairs=True)
    assert out["gold"] == ["pos_ab", "neg_ba"]
    assert out["pred"] == ["pos_ab", "neutral"]
    # without mention offsets the alphabet decides, as before
    plain = [
        DirectedRecord(*(r.unit_id, r.holder, r.target, r.gold, r.pred, r.pred_confidence))
        for r in records
    ]
    assert directed_five_class(plain, with_pairs=True)["gold"] == ["pos_ba", "neg_ba"]


def test_directed_five_class_without_pairs() -> None:
    out = directed_five_class([_r("s1", "A", "B", "favor", "favor", 0.9)])
    assert (out["n_pairs"], out["n_unpaired"], out["macro_f1"], out["confusion"]) == (
        0,
        1,
        None,
        None,
    )


def test_directed_five_class_validation() -> None:
    with pytest.raises(ValueError, match=r"'label' parameter of polarity.*Got 'pro'"):
        directed_five_class([_r("s1", "A", "B", "pro", "favor", 0.5)])
    with pytest.raises(ValueError, match="holder != target"):
        directed_five_class([_r("s1", "A", "A", "favor", "favor", 0.5)])
    with pytest.raises(ValueError, match="one record per"):
        directed_five_class([_r("s1", "A", "B", "favor", "favor", 0.5)] * 2)


def test_polarity() -> None:
    assert [polarity(x) for x in ("favor", "positive", "against", "negative")] == [
        "pos",
        "pos",
        "neg",
        "neg",
    ]
    assert polarity("none") == polarity("neutral") == "neutral"


def test_no_interval_is_computed_when_none_is_asked_for() -> None:
    out = classification_metrics(["a", "b"], ["a", "a"], labels=["a", "b"], n_bootstrap=0)
    assert out["ci95"] is None and out["accuracy"] == 0.5
