"""Evaluation metrics: scores, bootstrap intervals, paired tests and the directed 5-class view.

Plain functions in the style of :mod:`sklearn.metrics` (options are keyword-only); every
result is JSON-serialisable (Python floats, ints, lists and None only).

Example:
    >>> from stancekit.evaluation.metrics import classification_metrics
    >>> m = classification_metrics(["favor", "none"], ["favor", "favor"],
    ...                            labels=["favor", "against", "none"], n_bootstrap=10)
    >>> m["accuracy"], m["confusion"][0]
    (0.5, [1, 0, 0])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence, Sized
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

__all__ = [
    "FIVE_CLASS_LABELS",
    "DirectedRecord",
    "bootstrap_ci",
    "calibration_summary",
    "classification_metrics",
    "directed_five_class",
    "f1_per_class",
    "paired_bootstrap",
    "polarity",
]

#: Labels of :func:`directed_five_class`, for a canonical pair (A, B) with A < B.
FIVE_CLASS_LABELS = ("neutral", "pos_ab", "pos_ba", "neg_ab", "neg_ba")
_POLARITY = {
    "favor": "pos",
    "positive": "pos",
    "against": "neg",
    "negative": "neg",
    "none": "neutral",
    "neutral": "neutral",
}
_PAIRED_METRICS = ("macro_f1", "f_avg", "accuracy")


def _fail(func: str, param: str, must: str, got: object) -> ValueError:
    return ValueError(f"The {param!r} parameter of {func} must {must}. Got {got!r} instead.")


def _encode(func: str, param: str, values: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Map each value to its index in ``labels`` (ValueError for a value not in it)."""
    index = {label: i for i, label in enumerate(labels)}
    for v in values:
        if v not in index:
            raise _fail(func, param, f"contain only values from labels {list(labels)}", v)
    return np.array([index[v] for v in values], dtype=np.int64)


def _check_pair(func: str, y_true: Sized, **preds: Sized) -> None:
    if len(y_true) == 0:
        raise _fail(func, "y_true", "be non-empty", y_true)
    for name, pred in preds.items():
        if len(pred) != len(y_true):
            must = f"have the same length as 'y_true' ({len(y_true)})"
            raise _fail(func, name, must, f"length {len(pred)}")


def _check_labels(func: str, labels: Sequence[str], positive: Sequence[str] | None) -> None:
    if len(labels) == 0 or len(set(labels)) != len(labels):
        raise _fail(func, "labels", "be a non-empty sequence of distinct labels", labels)
    if positive is not None and (not positive or not set(positive) <= set(labels)):
        raise _fail(func, "positive_labels", f"be a non-empty subset of {list(labels)}", positive)


def f1_per_class(t: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Per-class F1 from integer codes (same as sklearn with ``zero_division=0``), fast."""
    cm = np.bincount(t * k + p, minlength=k * k).reshape(k, k)
    denom = cm.sum(axis=0) + cm.sum(axis=1)
    f1: np.ndarray = np.divide(2.0 * np.diag(cm), denom, out=np.zeros(k), where=denom > 0)
    return f1


def _scorer(metric: str, k: int, positive: Sequence[int] | None) -> Callable[..., float]:
    """A fast scorer on integer codes for ``macro_f1``, ``f_avg`` or ``accuracy``."""
    if metric == "accuracy":
        return lambda t, p: float(np.mean(t == p))
    cols = list(range(k)) if metric == "macro_f1" else list(positive or [])
    return lambda t, p: float(np.mean(f1_per_class(t, p, k)[cols]))


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: npt.ArrayLike,
    y_pred: npt.ArrayLike,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(y_true, y_pred)``, resampling items.

    The same ``seed`` always draws the same resamples, so intervals are reproducible.

    >>> acc = lambda t, p: float((t == p).mean())
    >>> lo, hi = bootstrap_ci(acc, [1, 1, 0, 0], [1, 0, 0, 0], n_bootstrap=200)
    >>> 0.0 <= lo <= 0.75 <= hi <= 1.0
    True
    """
    t, p = np.asarray(y_true), np.asarray(y_pred)
    _check_pair("bootstrap_ci", t, y_pred=p)
    if n_bootstrap < 1:
        raise _fail("bootstrap_ci", "n_bootstrap", "be an int >= 1", n_bootstrap)
    if not 0.0 < alpha < 1.0:
        raise _fail("bootstrap_ci", "alpha", "be a float in (0, 1)", alpha)
    rng = np.random.default_rng(seed)
    n = len(t)
    scores = np.empty(n_bootstrap)
    for b in range(n_bootstrap):
        idx = rng.integers(0, n, size=n)
        scores[b] = metric(t[idx], p[idx])
    lo, hi = np.percentile(scores, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(lo), float(hi)


def calibration_summary(
    probs: np.ndarray, t: np.ndarray, n_bins: int
) -> tuple[float, float, dict[str, list[Any]]]:
    """Brier score, ECE and the reliability table (bins are (lower, upper], first is [0, .])."""
    n, k = probs.shape
    brier = float(np.mean(np.sum((probs - np.eye(k)[t]) ** 2, axis=1)))
    conf, correct = probs.max(axis=1), (probs.argmax(axis=1) == t).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.searchsorted(edges[1:-1], conf, side="left")
    ece = 0.0
    table: dict[str, list[Any]] = {
        k: [] for k in ("bin_lower", "bin_upper", "confidence", "accuracy")
    }
    counts = np.bincount(bins, minlength=n_bins)
    for i in range(n_bins):
        table["bin_lower"].append(float(edges[i]))
        table["bin_upper"].append(float(edges[i + 1]))
        if counts[i] == 0:
            table["confidence"].append(None)
            table["accuracy"].append(None)
            continue
        c, a = float(conf[bins == i].mean()), float(correct[bins == i].mean())
        table["confidence"].append(c)
        table["accuracy"].append(a)
        ece += counts[i] / n * abs(a - c)
    return brier, float(ece), {**table, "count": [int(c) for c in counts]}


def classification_metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    *,
    labels: Sequence[str],
    probs: npt.ArrayLike | None = None,
    positive_labels: Sequence[str] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    n_bins: int = 10,
) -> dict[str, Any]:
    """Scores of one classifier on one test set, with bootstrap 95% intervals.

    Keys: ``n``, ``labels``, ``macro_f1`` (over all ``labels``), ``f_avg`` (SemEval-2016:
    mean F1 over ``positive_labels``, e.g. favor and against; None without them),
    ``accuracy``, ``per_class`` ({label: {precision, recall, f1, support}}), ``confusion``
    (rows = true, columns = predicted, in ``labels`` order), ``ci95`` ({metric: [lo, hi]},
    percentile bootstrap over items; None when ``n_bootstrap=0``), and from ``probs`` (shape
    (n, len(labels)), columns in ``labels`` order): ``brier`` (mean over items of the summed
    squared error against the one-hot truth), ``ece`` (over ``n_bins`` equal-width bins of
    the top-class confidence; a bin is correct where the argmax of ``probs`` is the true
    label) and ``reliability`` (per-bin lists ``bin_lower``, ``bin_upper``, ``confidence``,
    ``accuracy``, ``count``; empty bins have None). Without ``probs`` those three are None.
    """
    func = "classification_metrics"
    _check_pair(func, y_true, y_pred=y_pred)
    _check_labels(func, labels, positive_labels)
    t, p = _encode(func, "y_true", y_true, labels), _encode(func, "y_pred", y_pred, labels)
    labels, k = list(labels), len(labels)
    prec, rec, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0
    )
    out: dict[str, Any] = {
        "n": len(t),
        "labels": labels,
        "macro_f1": float(
            f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
        ),
        "f_avg": None,
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {
            label: {
                "precision": float(prec[i]),
                "recall": float(rec[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion": confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        "ci95": {},
        "brier": None,
        "ece": None,
        "reliability": None,
    }
    pos_idx = None
    if positive_labels is not None:
        pos_idx = [labels.index(lab) for lab in positive_labels]
        out["f_avg"] = float(
            f1_score(y_true, y_pred, labels=list(positive_labels), average="macro", zero_division=0)
        )
    if not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise _fail(func, "n_bootstrap", "be an int >= 0 (0: no intervals)", n_bootstrap)
    if n_bootstrap == 0:  # intervals not wanted (e.g. many tiny groups of a breakdown)
        out["ci95"] = None
    for name in _PAIRED_METRICS if n_bootstrap else ():
        if out[name] is not None:
            score = _scorer(name, k, pos_idx)
            out["ci95"][name] = list(bootstrap_ci(score, t, p, n_bootstrap=n_bootstrap, seed=seed))
    if probs is not None:
        pr = np.asarray(probs, dtype=float)
        if pr.shape != (len(t), k):
            raise _fail(func, "probs", f"have shape ({len(t)}, {k})", f"shape {pr.shape}")
        if not np.all(np.isfinite(pr)) or pr.min() < 0 or pr.max() > 1:
            raise _fail(func, "probs", "hold probabilities in [0, 1]", "other values")
        if n_bins < 1:
            raise _fail(func, "n_bins", "be an int >= 1", n_bins)
        out["brier"], out["ece"], out["reliability"] = calibration_summary(pr, t, n_bins)
    return out


def paired_bootstrap(
    y_true: Sequence[str],
    pred_a: Sequence[str],
    pred_b: Sequence[str],
    *,
    metric: str = "macro_f1",
    labels: Sequence[str],
    positive_labels: Sequence[str] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Is system B better than system A? Paired bootstrap over the same items.

    ``metric`` is ``macro_f1``, ``f_avg`` (needs ``positive_labels``) or ``accuracy``.
    Returns ``metric``, ``a``, ``b`` (point scores), ``difference`` (b - a), ``ci95`` (its
    percentile interval), ``p_value`` (one-sided: share of resamples with difference <= 0),
    ``n`` and ``n_bootstrap``.
    """
    func = "paired_bootstrap"
    _check_pair(func, y_true, pred_a=pred_a, pred_b=pred_b)
    _check_labels(func, labels, positive_labels)
    if metric not in _PAIRED_METRICS or (metric == "f_avg" and positive_labels is None):
        must = f"be one of {list(_PAIRED_METRICS)} ('f_avg' needs 'positive_labels')"
        raise _fail(func, "metric", must, metric)
    if n_bootstrap < 1:
        raise _fail(func, "n_bootstrap", "be an int >= 1", n_bootstrap)
    t = _encode(func, "y_true", y_true, labels)
    a, b = _encode(func, "pred_a", pred_a, labels), _encode(func, "pred_b", pred_b, labels)
    pos_idx = None if positive_labels is None else [list(labels).index(x) for x in positive_labels]
    score = _scorer(metric, len(labels), pos_idx)
    rng, n = np.random.default_rng(seed), len(t)
    diffs = np.empty(n_bootstrap)
    for i in range(n_bootstrap):
        idx = rng.integers(0, n, size=n)
        diffs[i] = score(t[idx], b[idx]) - score(t[idx], a[idx])
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    sa, sb = score(t, a), score(t, b)
    return {
        "metric": metric,
        "a": sa,
        "b": sb,
        "difference": sb - sa,
        "ci95": [float(lo), float(hi)],
        "p_value": float(np.mean(diffs <= 0)),
        "n": n,
        "n_bootstrap": n_bootstrap,
    }


def polarity(label: str) -> str:
    """``pos``, ``neg`` or ``neutral`` for a stance or sentiment label.

    >>> polarity("favor"), polarity("negative"), polarity("none")
    ('pos', 'neg', 'neutral')
    """
    if label not in _POLARITY:
        raise _fail("polarity", "label", f"be one of {sorted(_POLARITY)}", label)
    return _POLARITY[label]


@dataclass(frozen=True)
class DirectedRecord:
    """One directed judgement holder -> target in one unit (sentence or document).

    Attributes:
        unit_id: the unit the pair is judged in; directions pair up within a unit.
        holder, target: the two entities (the record for the reverse direction swaps them).
        gold, pred: stance (favor/against/none) or sentiment (positive/negative/neutral).
        pred_confidence: the model's probability that this direction is non-neutral, e.g.
            ``max(p_favor, p_against)``; breaks the tie when both predicted directions are
            non-neutral.
        holder_start: where the holder is mentioned in the unit (a character offset), which
            orders the pair: A is the entity mentioned first. None when unknown.
    """

    unit_id: str
    holder: str
    target: str
    gold: str
    pred: str
    pred_confidence: float
    holder_start: int | None = None


def _combine(ab: str, ba: str, conf_ab: float | None = None, conf_ba: float | None = None) -> str:
    """Five-class label from the polarities of A->B and B->A (A->B wins ties and gold)."""
    if ab == "neutral" and ba == "neutral":
        return "neutral"
    use_ab = ba == "neutral" or (
        ab != "neutral" and (conf_ab is None or conf_ba is None or conf_ab >= conf_ba)
    )
    return f"{ab}_ab" if use_ab else f"{ba}_ba"


def _first(r: DirectedRecord, rev: DirectedRecord) -> bool:
    """Whether ``r``'s holder is A (mentioned first; alphabetical when unknown or tied)."""
    a, b = r.holder_start, rev.holder_start
    if a is not None and b is not None and a != b:
        return a < b
    return r.holder < r.target


def directed_five_class(
    records: Sequence[DirectedRecord], *, with_pairs: bool = False
) -> dict[str, Any]:
    """The 5-class view of directed entity pairs (Park et al., 2021).

    Within a unit, the record A->B is paired with its reverse B->A, where A is the entity
    mentioned first in the unit (the record with the smaller ``holder_start``), as Park et
    al. define the classes; when either record lacks ``holder_start`` (or both mentions
    start at the same offset) A is the alphabetically first name. Each pair gets one of
    ``neutral``, ``pos_ab`` (A is positive toward B), ``pos_ba``,
    ``neg_ab``, ``neg_ba``. A pair is ``neutral`` when both directions are neutral (none);
    when one is not, it decides. When both are not: for predictions the direction with the
    higher ``pred_confidence`` decides (A->B on a tie); gold labels carry no confidence,
    so the A->B direction decides. Records without their reverse are skipped and counted.

    Returns ``n_pairs``, ``n_unpaired``, ``labels``, ``macro_f1`` (over the five labels),
    ``micro_f1`` (equal to accuracy here), ``per_class`` ({label: {precision, recall, f1,
    support}}), ``confusion`` (rows = gold); the scores are None when there is no pair.
    ``with_pairs=True`` adds ``gold`` and ``pred``, the 5-class label of each pair.

    >>> r = [DirectedRecord("s1", "A", "B", "favor", "favor", 0.9),
    ...      DirectedRecord("s1", "B", "A", "none", "against", 0.6)]
    >>> out = directed_five_class(r)
    >>> out["n_pairs"], out["micro_f1"], out["per_class"]["pos_ab"]["f1"]
    (1, 1.0, 1.0)

    Mention order, not the alphabet, names A: here "Zas" is mentioned first.

    >>> r = [DirectedRecord("s1", "Zas", "CSTO", "favor", "favor", 0.9, holder_start=0),
    ...      DirectedRecord("s1", "CSTO", "Zas", "none", "none", 0.1, holder_start=16)]
    >>> directed_five_class(r)["per_class"]["pos_ab"]["support"]
    1
    """
    func = "directed_five_class"
    by_key: dict[tuple[str, str, str], DirectedRecord] = {}
    for r in records:
        polarity(r.gold)  # validates the labels
        polarity(r.pred)
        if r.holder == r.target:
            raise _fail(func, "records", "have holder != target", r)
        key = (r.unit_id, r.holder, r.target)
        if key in by_key:
            raise _fail(func, "records", "hold one record per (unit_id, holder, target)", key)
        by_key[key] = r
    gold: list[str] = []
    pred: list[str] = []
    unpaired = 0
    for (unit, h, t), r in by_key.items():
        rev = by_key.get((unit, t, h))
        if rev is None:
            unpaired += 1
        elif _first(r, rev):
            gold.append(_combine(polarity(r.gold), polarity(rev.gold)))
            pred.append(
                _combine(
                    polarity(r.pred), polarity(rev.pred), r.pred_confidence, rev.pred_confidence
                )
            )
    labels = list(FIVE_CLASS_LABELS)
    out: dict[str, Any] = {
        "n_pairs": len(gold),
        "n_unpaired": unpaired,
        "labels": labels,
        "macro_f1": None,
        "micro_f1": None,
        "per_class": None,
        "confusion": None,
    }
    if gold:
        m = classification_metrics(gold, pred, labels=labels, n_bootstrap=1)
        micro = f1_score(gold, pred, labels=labels, average="micro", zero_division=0)
        out.update(
            macro_f1=m["macro_f1"],
            micro_f1=float(micro),
            per_class=m["per_class"],
            confusion=m["confusion"],
        )
    if with_pairs:
        out.update(gold=gold, pred=pred)
    return out
