"""Recalibrate a model for a new domain from labelled spans, without training.

The default model's temperatures are fitted on the recipe's development sets. On other
material (unseen topics, another kind of text) the same scores can be over- or
under-confident: on VAST's unseen topics the shipped model's stance ECE is about 0.18.
:func:`recalibrate` refits one softmax temperature per head on your labelled spans and
writes a copy of the model with them (weights unchanged, saved atomically). It reports
the expected calibration error before and after, the "after" figure **cross-fitted**: the
temperature used on each fold of documents was fitted on the other folds, so the figure
is an estimate for new documents of the same kind, not an in-sample one.

>>> from stancekit.spans import GoldDocument, GoldSpan
>>> said = {"favor": "praised", "against": "condemned", "none": "met"}
>>> texts = [(f"Zas {said[s]} the CSTO.", s) for s in ["favor", "against", "none"] * 4]
>>> docs = [GoldDocument(f"d{i}", t, (GoldSpan(0, len(t), "Zas", "CSTO", stance=s),))
...         for i, (t, s) in enumerate(texts)]
>>> result = recalibrate(docs, min_spans=10)
>>> result.heads, result.n_spans
(('stance',), {'stance': 12})
>>> result.temperature_after["stance"] > 0
True
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from stancekit.errors import StancekitError
from stancekit.evaluation.metrics import calibration_summary
from stancekit.finetuning.data import DataInput, as_documents, to_examples
from stancekit.scoring.model import StanceModel, default_model_path
from stancekit.training.calibration import fit_temperature, head_labels, uncalibrated
from stancekit.training.data import Example

__all__ = ["CalibrationError", "CalibrationResult", "recalibrate"]


class CalibrationError(StancekitError, ValueError):
    """Too few labelled spans (or classes) to fit a temperature, or a bad setting."""


@dataclass(frozen=True)
class CalibrationResult:
    """What :func:`recalibrate` fitted and measured, one entry per head it could fit.

    ``ece_before`` uses the model's current temperature; ``ece_after_cv`` the refitted
    temperature, cross-fitted over ``folds`` folds of documents; ``model_dir`` is the
    written copy (None when ``out`` was not given).
    """

    heads: tuple[str, ...]
    n_spans: dict[str, int]
    temperature_before: dict[str, float]
    temperature_after: dict[str, float]
    ece_before: dict[str, float]
    ece_after_cv: dict[str, float]
    folds: int
    model_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (also written as ``recalibration.json`` in ``model_dir``)."""
        return {
            "heads": list(self.heads),
            "n_spans": dict(self.n_spans),
            "temperature_before": dict(self.temperature_before),
            "temperature_after": dict(self.temperature_after),
            "ece_before": dict(self.ece_before),
            "ece_after_cv": dict(self.ece_after_cv),
            "folds": self.folds,
            "model_dir": self.model_dir,
        }

    def to_dataframe(self) -> pd.DataFrame:
        """One row per head: spans, temperatures and ECE before / after."""
        return pd.DataFrame(
            [
                {
                    "head": h,
                    "n_spans": self.n_spans[h],
                    "temperature_before": self.temperature_before[h],
                    "temperature_after": self.temperature_after[h],
                    "ece_before": self.ece_before[h],
                    "ece_after_cv": self.ece_after_cv[h],
                }
                for h in self.heads
            ]
        )


def _rescale(probs: np.ndarray, t: float) -> np.ndarray:
    z = np.log(np.clip(probs, 1e-12, None)) / t
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    out: np.ndarray = e / e.sum(1, keepdims=True)
    return out


def _folds(exs: list[Example], k: int, seed: int) -> np.ndarray:
    """A fold number per example; all spans of a document share one fold."""
    docs = sorted({e.doc_id for e in exs})
    order = np.random.default_rng(seed).permutation(len(docs))
    fold_of = {docs[i]: n % k for n, i in enumerate(order)}
    return np.array([fold_of[e.doc_id] for e in exs])


def recalibrate(
    spans: DataInput,
    model: str | os.PathLike[str] | StanceModel | None = None,
    out: str | os.PathLike[str] | None = None,
    *,
    folds: int = 2,
    min_spans: int = 50,
    n_bins: int = 15,
    seed: int = 0,
) -> CalibrationResult:
    """Refit the calibration temperatures of ``model`` on labelled ``spans``.

    Args:
        spans: labelled spans (a JSONL path, a SpanSet or GoldDocument objects) from the
            domain the model will be used on; a few hundred spans are enough.
        model: a model folder or a loaded model (default: the shipped model).
        out: where to write the recalibrated copy (atomically); None writes nothing.
        folds: folds of documents for the cross-fitted ECE (at least 2).
        min_spans: a head with fewer labelled spans, or fewer than two of its classes, is
            left as it is (and not in ``heads``).
        n_bins: confidence bins of the ECE.
        seed: seeds the folds.

    Returns:
        A :class:`CalibrationResult`.

    Raises:
        CalibrationError: when no head has enough labelled spans, or a bad setting.
    """
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise CalibrationError(f"folds={folds!r} must be an int >= 2")
    sm = (
        model if isinstance(model, StanceModel) else StanceModel.load(model or default_model_path())
    )
    docs, _ = as_documents(spans, name="spans")
    exs = to_examples(docs, source="recalibration")
    raw = uncalibrated(sm).predict([e.pair for e in exs])
    before = {"stance": sm.config.temperature_stance, "sentiment": sm.config.temperature_sentiment}
    after = dict(before)
    heads: list[str] = []
    n_spans: dict[str, int] = {}
    ece_before: dict[str, float] = {}
    ece_cv: dict[str, float] = {}
    fold = _folds(exs, folds, seed)
    for head in ("stance", "sentiment"):
        y, m = head_labels(exs, head)
        if len(y) < min_spans or len(set(y.tolist())) < 2:
            continue
        p, f = getattr(raw, head)[m], fold[m]
        cv = np.empty_like(p)
        crossed = True
        for k in range(folds):
            test = f == k
            train = ~test
            if not test.any():
                continue
            if len(set(y[train].tolist())) < 2:
                crossed = False  # nothing (or one class) to fit this fold's temperature on
                break
            cv[test] = _rescale(p[test], fit_temperature(p[train], y[train]))
        heads.append(head)
        n_spans[head] = len(y)
        after[head] = round(fit_temperature(p, y), 4)
        ece_before[head] = round(calibration_summary(_rescale(p, before[head]), y, n_bins)[1], 4)
        if crossed:
            ece_cv[head] = round(calibration_summary(cv, y, n_bins)[1], 4)
        else:
            ece_cv[head] = float("nan")
            n_docs = len({e.doc_id for e, keep in zip(exs, m, strict=True) if keep})
            warnings.warn(
                f"recalibrate: the cross-fitted ECE of the {head} head is not available "
                f"(NaN): {n_docs} document(s) with {head} labels for folds={folds}, so a "
                "fold has no other documents of two classes to fit its temperature on; "
                "give more documents or fewer folds (the temperature itself is still "
                "fitted on all spans)",
                stacklevel=2,
            )
    if not heads:
        raise CalibrationError(
            f"spans: no head has {min_spans} labelled spans of two or more classes "
            f"(got {len(exs)} spans); label more spans or lower min_spans"
        )
    result = CalibrationResult(
        heads=tuple(heads),
        n_spans=n_spans,
        temperature_before=before,
        temperature_after=after,
        ece_before=ece_before,
        ece_after_cv=ece_cv,
        folds=folds,
    )
    if out is not None:
        cfg = replace(
            sm.config,
            temperature_stance=after["stance"],
            temperature_sentiment=after["sentiment"],
            weights_sha256=None,
        )
        new = StanceModel(sm.model, sm.tokenizer, cfg, device=str(sm.device))
        saved = new.save(
            out,
            extra_files={"recalibration.json": json.dumps(result.to_dict(), indent=2) + "\n"},
        )
        result = replace(result, model_dir=str(saved))
    return result
