"""Temperature scaling and the per-head development metrics of the recipe.

One softmax temperature per head is fitted by minimising the NLL on a calibration set
(:func:`fit_temperature`) and applied to already computed scores
(:func:`apply_temperature`). :func:`head_metrics` reports macro-F1, accuracy and ECE
before / after scaling with 95% percentile-bootstrap CIs; the scores, the ECE and the
bootstrap come from :mod:`stancekit.evaluation.metrics`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from stancekit.evaluation.metrics import (
    bootstrap_ci,
    calibration_summary,
    classification_metrics,
    f1_per_class,
)
from stancekit.scoring.model import Scores, StanceModel, _softmax
from stancekit.training.data import Example
from stancekit.training.runtime import log

__all__ = [
    "apply_temperature",
    "cross_fitted",
    "fit_temperature",
    "head_labels",
    "head_metrics",
    "predict_sets",
    "uncalibrated",
]


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The T > 0 minimising the NLL of ``softmax(log(probs) / T)`` (bounded search)."""
    from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]

    logp = np.log(np.clip(probs, 1e-12, None))

    def nll(log_t: float) -> float:
        z = logp / math.exp(log_t)
        z = z - z.max(1, keepdims=True)
        lse = np.log(np.exp(z).sum(1))
        return float((lse - z[np.arange(len(y)), y]).mean())

    res = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded")
    return float(math.exp(res.x))


def uncalibrated(sm: StanceModel) -> StanceModel:
    """``sm`` with both temperatures at 1 (same weights, not copied): the raw scores that
    temperatures are fitted on."""
    cfg = replace(sm.config, temperature_stance=1.0, temperature_sentiment=1.0)
    return StanceModel(sm.model, sm.tokenizer, cfg, device=str(sm.device))


def predict_sets(sm: StanceModel, sets: dict[str, list[Example]], batch: int) -> dict[str, Scores]:
    """``sm.predict`` on every set (logging the time each took)."""
    out = {}
    for name, exs in sets.items():
        t = time.monotonic()
        out[name] = sm.predict([e.pair for e in exs], batch_size=batch)
        log(f"scored {name}: {len(exs)} pairs in {time.monotonic() - t:.0f}s")
    return out


def apply_temperature(cal: StanceModel, exs: list[Example], raw: Scores) -> Scores:
    """Calibrated scores from the T=1 scores: exact ``softmax(logits / T)`` for pairs
    scored in one window (log-probabilities are logits up to a constant); pairs scored in
    several windows are re-scored with the calibrated model (it averages per window)."""
    cfg = cal.config
    st = _softmax(np.log(np.clip(raw.stance, 1e-30, None)) / cfg.temperature_stance)
    se = _softmax(np.log(np.clip(raw.sentiment, 1e-30, None)) / cfg.temperature_sentiment)
    idx = np.flatnonzero(raw.windowed)
    if len(idx):
        again = cal.predict([exs[i].pair for i in idx])
        st[idx] = again.stance
        se[idx] = again.sentiment
    return Scores(st, se, raw.stance_labels, raw.sentiment_labels, raw.windowed)


def head_labels(exs: list[Example], head: str) -> tuple[np.ndarray, np.ndarray]:
    """``(label ids of the examples labelled for head, mask of those examples)``."""
    y = np.array([-1 if getattr(e, head) is None else getattr(e, head) for e in exs])
    m = y >= 0
    return y[m], m


def _nll(probs: np.ndarray, y: np.ndarray) -> float:
    return float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean())


def cross_fitted(probs: np.ndarray, y: np.ndarray, *, seed: int) -> tuple[np.ndarray, float]:
    """Two-fold cross-fitted temperature scaling of one set: the pairs are split in two
    halves at random (``seed``); each half is scaled with the temperature fitted on the
    other. Returns ``(the scaled probabilities, the temperature fitted on the whole
    set)``. The ECE of the former estimates what fitting a temperature on data like this
    set gives (``stancekit calibrate``) without measuring on the data it was fitted on."""
    logp = np.log(np.clip(probs, 1e-30, None))
    half = np.random.default_rng(seed).permutation(len(y)) % 2 == 0
    out = np.empty_like(probs)
    for part in (half, ~half):
        if part.all() or not part.any():  # fewer than two pairs: nothing to cross-fit
            return probs.copy(), 1.0
        t = fit_temperature(probs[~part], y[~part])
        out[part] = _softmax(logp[part] / t)
    return out, fit_temperature(probs, y)


def head_metrics(
    probs: np.ndarray,
    probs_cal: np.ndarray,
    y: np.ndarray,
    labels: Sequence[str],
    *,
    bootstrap: int,
    bins: int,
    seed: int,
) -> dict[str, Any]:
    """Point estimates and 95% percentile-bootstrap CIs (resampling pairs; every CI uses
    the same ``bootstrap`` resamples, drawn with ``seed``), rounded to 4 decimals.

    ``macro_f1`` is over all ``labels``, ``macro_f1_present_labels`` over the labels
    present in ``y``; ``ece_before`` / ``ece_after`` are the ECE (``bins`` equal-width
    bins) of ``probs`` / ``probs_cal``; ``ece_own_temperature`` is the ECE after
    :func:`cross_fitted` scaling of ``probs`` (with ``temperature``, the one fitted on the
    whole set); ``nll_*`` are point values only."""
    names, k = list(labels), len(labels)
    present = sorted(set(y.tolist()))
    pred = probs.argmax(1)
    m = classification_metrics(
        [names[j] for j in y],
        [names[j] for j in pred],
        labels=names,
        probs=probs,
        n_bootstrap=bootstrap,
        seed=seed,
        n_bins=bins,
    )

    def ci(metric: Any, scores: np.ndarray) -> list[float]:
        return list(bootstrap_ci(metric, y, scores, n_bootstrap=bootstrap, seed=seed))

    def f1_present(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.mean(f1_per_class(t, p, k)[present]))

    def ece(t: np.ndarray, pr: np.ndarray) -> float:
        return calibration_summary(pr, t, bins)[1]

    def r(x: float) -> float:
        return round(x, 4)

    def scored(value: float, interval: list[float]) -> dict[str, Any]:
        return {"value": r(value), "ci95": [r(x) for x in interval]}

    own, own_t = cross_fitted(probs, y, seed=seed)
    return {
        "n": m["n"],
        "labels": names,
        "labels_present": [names[j] for j in present],
        "gold_counts": {names[j]: int((y == j).sum()) for j in range(k)},
        "macro_f1": scored(m["macro_f1"], m["ci95"]["macro_f1"]),
        "macro_f1_present_labels": scored(f1_present(y, pred), ci(f1_present, pred)),
        "accuracy": scored(m["accuracy"], m["ci95"]["accuracy"]),
        "f1_per_label": {x: r(m["per_class"][x]["f1"]) for x in names},
        "ece_before": scored(m["ece"], ci(ece, probs)),
        "ece_after": scored(ece(y, probs_cal), ci(ece, probs_cal)),
        "ece_own_temperature": {**scored(ece(y, own), ci(ece, own)), "temperature": r(own_t)},
        "nll_before": r(_nll(probs, y)),
        "nll_after": r(_nll(probs_cal, y)),
    }
