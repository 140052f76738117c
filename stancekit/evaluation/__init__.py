"""Evaluation over labelled spans: :func:`evaluate` and :func:`compare`.

Example:
    >>> from stancekit import StanceAnalyzer, read_spans
    >>> from stancekit.evaluation import evaluate
    >>> gold = read_spans("seeds/csto-armenia-2022-11-28.gold.jsonl")
    >>> report = evaluate(StanceAnalyzer(), gold, mode="pairs")
    >>> sorted(report.to_dict()["stance"])[:3]
    ['accuracy', 'brier', 'ci95']
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from stancekit.evaluation.matching import (
    PairOutcome,
    extract_counts,
    run_extract,
    run_pairs,
)
from stancekit.evaluation.metrics import (
    DirectedRecord,
    classification_metrics,
    directed_five_class,
    paired_bootstrap,
)
from stancekit.results.judgements import AUTHOR, Judgement
from stancekit.spans import GoldDocument, SpanSet

if TYPE_CHECKING:
    from stancekit.analyzer import StanceAnalyzer

__all__ = ["EvaluationReport", "compare", "evaluate"]

STANCE = ("favor", "against", "none")
SENTIMENT = ("positive", "neutral", "negative")
#: Breakdown groups (per target, per holder) smaller than this get no bootstrap interval.
MIN_GROUP_FOR_CI = 20
_POLARITY = {"favor": "positive", "against": "negative", "none": "neutral"}


@dataclass(frozen=True)
class EvaluationReport:
    """Metrics of one model on one gold set, plus what is needed to write predictions.

    ``to_dict()`` has stable keys: ``n_documents``, ``n_spans``, ``mode``, ``model``,
    ``stance``, ``sentiment``, ``extract``, ``per_target``, ``per_holder``, ``directed``
    (a section is None when the gold has no such labels or the mode does not give it).
    """

    mode: str
    model: str
    n_documents: int
    n_spans: int
    stance: dict[str, Any] | None
    sentiment: dict[str, Any] | None
    extract: dict[str, Any] | None
    per_target: dict[str, Any]
    per_holder: dict[str, Any]
    directed: dict[str, Any] | None
    predictions: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report (predictions excluded; see :meth:`write_predictions`)."""
        return {
            "n_documents": self.n_documents,
            "n_spans": self.n_spans,
            "mode": self.mode,
            "model": self.model,
            "stance": self.stance,
            "sentiment": self.sentiment,
            "extract": self.extract,
            "per_target": self.per_target,
            "per_holder": self.per_holder,
            "directed": self.directed,
        }

    def write_json(self, path: str) -> None:
        """Write :meth:`to_dict` as indented JSON."""
        import json

        from stancekit.atomic import atomic_write

        atomic_write(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n")

    def write_predictions(self, path: str) -> None:
        """Write the gold documents back with the model's predictions added."""
        import json

        from stancekit.atomic import atomic_write

        atomic_write(
            path, "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in self.predictions)
        )

    def write_report(self, directory: str) -> str:
        """Write ``report.md`` with tables and PNG figures into ``directory``; return its path."""
        from stancekit.evaluation.report import write_report

        return str(write_report(self, directory))


def _head(
    outcomes: Sequence[PairOutcome], head: str, labels: Sequence[str], **kw: Any
) -> dict[str, Any] | None:
    rows = [o for o in outcomes if getattr(o.gold, head) is not None]
    if not rows:
        return None
    y_true = [str(getattr(o.gold, head)) for o in rows]
    y_pred = [getattr(o.judgement, head) for o in rows]
    probs = np.array([[getattr(o.judgement, f"{head}_probs")[k] for k in labels] for o in rows])
    return classification_metrics(y_true, y_pred, labels=labels, probs=probs, **kw)


def _breakdown(
    outcomes: Sequence[PairOutcome], key: Any, n_bootstrap: int, seed: int
) -> dict[str, Any]:
    groups: dict[str, list[PairOutcome]] = defaultdict(list)
    for o in outcomes:
        groups[key(o)].append(o)
    out = {}
    for name, rows in sorted(groups.items()):
        # intervals only where a group is large enough for them to mean something (and a
        # corpus with thousands of one-sentence holders stays fast)
        n_boot = n_bootstrap if len(rows) >= MIN_GROUP_FOR_CI else 0
        st = _head(
            rows,
            "stance",
            STANCE,
            positive_labels=("favor", "against"),
            n_bootstrap=n_boot,
            seed=seed,
        )
        se = _head(rows, "sentiment", SENTIMENT, n_bootstrap=n_boot, seed=seed)
        out[name] = {
            "n": len(rows),
            "stance": None
            if st is None
            else {k: st[k] for k in ("n", "macro_f1", "f_avg", "accuracy", "ci95")},
            "sentiment": None
            if se is None
            else {k: se[k] for k in ("n", "macro_f1", "accuracy", "ci95")},
        }
    return out


def _directed(outcomes: Sequence[PairOutcome]) -> dict[str, Any] | None:
    records = []
    for o in outcomes:
        g, j = o.gold, o.judgement
        if g.holder is None:
            continue
        if g.stance is not None:
            gold, pred = _POLARITY[g.stance], _POLARITY.get(j.stance, "neutral")
            conf = max(j.stance_probs.get("favor", 0.0), j.stance_probs.get("against", 0.0))
        elif g.sentiment is not None:
            gold, pred = g.sentiment, j.sentiment
            conf = max(
                j.sentiment_probs.get("positive", 0.0), j.sentiment_probs.get("negative", 0.0)
            )
        else:
            continue
        records.append(
            DirectedRecord(
                unit_id=f"{o.document_id}:{g.start}:{g.end}",
                holder=g.holder,
                target=g.target,
                gold=gold,
                pred=pred,
                pred_confidence=float(conf),
                holder_start=None if g.holder_mention is None else g.holder_mention[0],
            )
        )
    result = directed_five_class(records)
    return result if result["n_pairs"] else None


def _span_prediction(span: dict[str, Any], j: Judgement) -> dict[str, Any]:
    return {
        **span,
        "pred_stance": j.stance,
        "pred_stance_probs": dict(j.stance_probs),
        "pred_sentiment": j.sentiment,
        "pred_sentiment_probs": dict(j.sentiment_probs),
    }


def _judgement_span(j: Judgement) -> dict[str, Any]:
    hm, tm = j.holder_mention, j.target_mention
    return {
        "start": j.sentence.start,
        "end": j.sentence.end,
        "holder": None if j.holder is None else j.holder.name,
        "target": j.target.name,
        "stance": j.stance,
        "stance_probs": dict(j.stance_probs),
        "sentiment": j.sentiment,
        "sentiment_probs": dict(j.sentiment_probs),
        "holder_mention": None if hm is None else [hm.start, hm.end],
        "target_mention": None if tm is None else [tm.start, tm.end],
        "attribution": j.attribution,
    }


def evaluate(
    analyzer: StanceAnalyzer,
    gold: SpanSet | Iterable[GoldDocument],
    *,
    mode: str = "pairs",
    min_overlap: float = 0.5,
    n_bootstrap: int = 1000,
    seed: int = 0,
    progress: bool = False,
) -> EvaluationReport:
    """Evaluate ``analyzer`` on gold spans.

    Args:
        analyzer: the analyzer (its model is what is measured).
        gold: documents from :func:`stancekit.read_spans` (or any iterable of them).
        mode: ``"pairs"`` (classification of each gold span) or ``"extract"`` (the
            whole pipeline on raw text, matched to gold).
        min_overlap: extract mode: the overlap of units, as a share of the shorter one,
            that counts as the same unit.
        n_bootstrap, seed: bootstrap resamples and seed of the 95% intervals.
    """
    if mode not in ("pairs", "extract"):
        raise ValueError(f"'mode' must be 'pairs' or 'extract', got {mode!r}")
    if not 0 < min_overlap <= 1:
        raise ValueError(f"'min_overlap' must be in (0, 1], got {min_overlap!r}")
    docs = list(gold.documents if isinstance(gold, SpanSet) else gold)
    model_name = f"{analyzer.model.config.name} {analyzer.model.config.version}"
    n_spans = sum(len(d.spans) for d in docs)
    if mode == "extract":
        results = run_extract(analyzer, docs, progress=progress)
        preds = tuple(
            {**d.to_dict(), "pred_spans": [_judgement_span(j) for j in js]} for d, js in results
        )
        return EvaluationReport(
            mode,
            model_name,
            len(docs),
            n_spans,
            None,
            None,
            extract_counts(results, min_overlap=min_overlap).to_dict(),
            {},
            {},
            None,
            preds,
        )
    outcomes = run_pairs(analyzer, docs, progress=progress)
    by_doc: dict[str, dict[int, Judgement]] = defaultdict(dict)
    for o in outcomes:
        by_doc[o.document_id][o.span_index] = o.judgement
    preds_list = []
    for d in docs:
        rec = d.to_dict()
        rec["spans"] = [_span_prediction(s, by_doc[d.id][i]) for i, s in enumerate(rec["spans"])]
        preds_list.append(rec)
    kw = {"n_bootstrap": n_bootstrap, "seed": seed}
    return EvaluationReport(
        mode=mode,
        model=model_name,
        n_documents=len(docs),
        n_spans=n_spans,
        stance=_head(outcomes, "stance", STANCE, positive_labels=("favor", "against"), **kw),
        sentiment=_head(outcomes, "sentiment", SENTIMENT, **kw),
        extract=None,
        per_target=_breakdown(outcomes, lambda o: o.gold.target, n_bootstrap, seed),
        per_holder=_breakdown(outcomes, lambda o: o.gold.holder or AUTHOR, n_bootstrap, seed),
        directed=_directed(outcomes),
        predictions=tuple(preds_list),
    )


def compare(
    analyzer_a: StanceAnalyzer,
    analyzer_b: StanceAnalyzer,
    gold: SpanSet | Iterable[GoldDocument],
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Paired bootstrap comparison (B − A) of two models on the same gold, pairs mode:
    stance macro-F1 and F_avg, sentiment macro-F1 (where the gold has those labels)."""
    docs = list(gold.documents if isinstance(gold, SpanSet) else gold)
    a = run_pairs(analyzer_a, docs)
    b = run_pairs(analyzer_b, docs)
    out: dict[str, Any] = {
        "model_a": f"{analyzer_a.model.config.name} {analyzer_a.model.config.version}",
        "model_b": f"{analyzer_b.model.config.name} {analyzer_b.model.config.version}",
        "n_documents": len(docs),
    }
    for head, labels, metrics in (
        ("stance", STANCE, (("macro_f1", None), ("f_avg", ("favor", "against")))),
        ("sentiment", SENTIMENT, (("macro_f1", None),)),
    ):
        idx = [i for i, o in enumerate(a) if getattr(o.gold, head) is not None]
        if not idx:
            out[head] = None
            continue
        y = [str(getattr(a[i].gold, head)) for i in idx]
        pa = [getattr(a[i].judgement, head) for i in idx]
        pb = [getattr(b[i].judgement, head) for i in idx]
        out[head] = {
            name: paired_bootstrap(
                y,
                pa,
                pb,
                metric=name,
                labels=labels,
                positive_labels=pos,
                n_bootstrap=n_bootstrap,
                seed=seed,
            )
            for name, pos in metrics
        }
    return out
