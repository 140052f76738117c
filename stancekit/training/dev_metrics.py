"""``metrics.json``, what the recipe measures on its development sets
(:func:`build_metrics`), and Park et al.'s 5-class view of a directed-pairs set
(:func:`directed_view`)."""

from __future__ import annotations

from typing import Any

from stancekit.evaluation.metrics import DirectedRecord, directed_five_class
from stancekit.scoring.model import Scores
from stancekit.training.calibration import head_labels, head_metrics
from stancekit.training.config import RecipeConfig
from stancekit.training.data import SENTIMENT_LABELS, STANCE_LABELS, Example
from stancekit.training.runtime import log

__all__ = ["build_metrics", "directed_view"]


def build_metrics(
    config: RecipeConfig,
    *,
    weights_dtype: str,
    temperatures: tuple[float, float],
    training: dict[str, Any],
    sets: dict[str, list[Example]],
    raw: dict[str, Scores],
    calibrated: dict[str, Scores],
) -> dict[str, Any]:
    """The content of ``metrics.json``: run facts plus :func:`head_metrics` per set and
    head (``temperatures`` is ``(stance, sentiment)``); logs a summary line per set."""
    metrics: dict[str, Any] = {
        "model": config.name,
        "version": config.version,
        "weights_dtype": weights_dtype,
        "temperature_stance": temperatures[0],
        "temperature_sentiment": temperatures[1],
        "calibration_sets": {
            "stance": config.calibrate_stance_on,
            "sentiment": config.calibrate_sentiment_on,
        },
        "bootstrap": {"samples": config.bootstrap_samples, "ci": "95% percentile, pairs resampled"},
        "ece_bins": config.ece_bins,
        "training": training,
        "sets": {},
    }
    for name, exs in sets.items():
        entry: dict[str, Any] = {"n_pairs": len(exs)}
        for head, labels in (("stance", STANCE_LABELS), ("sentiment", SENTIMENT_LABELS)):
            y, m = head_labels(exs, head)
            if len(y) == 0:
                continue
            entry[head] = head_metrics(
                getattr(raw[name], head)[m],
                getattr(calibrated[name], head)[m],
                y,
                labels,
                bootstrap=config.bootstrap_samples,
                bins=config.ece_bins,
                seed=config.seed,
            )
        directed = directed_view(exs, calibrated[name])
        if directed is not None:
            entry["directed_five_class"] = directed
        entry["windowed_pairs"] = int(raw[name].windowed.sum())
        metrics["sets"][name] = entry
        log(
            f"{name}: "
            + ", ".join(
                f"{h} macro-F1 {entry[h]['macro_f1']['value']:.3f} "
                f"acc {entry[h]['accuracy']['value']:.3f} "
                f"ECE {entry[h]['ece_before']['value']:.3f}->{entry[h]['ece_after']['value']:.3f}"
                for h in ("stance", "sentiment")
                if h in entry
            )
        )
    return metrics


def directed_view(
    exs: list[Example], scores: Scores, *, with_pairs: bool = False
) -> dict[str, Any] | None:
    """Park et al.'s 5-class view (macro- and micro-F1) of the holder-directed stance pairs
    of a set, when it holds both directions of entity pairs (DSA, A = the entity mentioned
    first); else None. With ``with_pairs``, also the per-pair ``gold`` and ``pred`` 5-class
    labels (for paired bootstraps)."""
    records = []
    for i, e in enumerate(exs):
        if e.stance is None or e.pair.holder is None:
            continue
        probs = scores.stance[i]
        records.append(
            DirectedRecord(
                unit_id=f"{e.doc_id}\x00{e.pair.sentence}",
                holder=e.pair.holder,
                target=e.pair.target,
                gold=STANCE_LABELS[e.stance],
                pred=STANCE_LABELS[int(probs.argmax())],
                pred_confidence=float(max(probs[0], probs[1])),  # favor, against
                holder_start=None if e.pair.holder_span is None else e.pair.holder_span[0],
            )
        )
    if not records:
        return None
    try:
        out = directed_five_class(records, with_pairs=with_pairs)
    except ValueError:  # repeated or self-directed pairs: not a directed-pairs set
        return None
    if not out["n_pairs"]:
        return None
    keys = ("n_pairs", "n_unpaired", "macro_f1", "micro_f1")
    return {k: out[k] for k in (*keys, "gold", "pred") if with_pairs or k in keys}
