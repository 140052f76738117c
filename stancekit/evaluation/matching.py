"""Running a model over gold spans and lining its output up with the gold.

Two modes:

- **pairs**: for every gold span the analyzer judges exactly that (unit, holder, target),
  with the whole document as context (:meth:`StanceAnalyzer.judge`). This measures
  classification.
- **extract**: the analyzer runs on the raw text with the gold targets; its judgements are
  matched to gold by unit (exact offsets, or overlap of at least ``min_overlap`` of the
  shorter unit), holder (:func:`stancekit.pairs.build.names_match`) and target (case-insensitive
  name). This measures the whole pipeline, holder attribution included.

Example:
    >>> from stancekit.evaluation.matching import units_match
    >>> units_match((0, 10), (0, 10)), units_match((0, 10), (5, 30), min_overlap=0.5)
    (True, True)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from stancekit.actors.targets import Target
from stancekit.pairs.build import PairRequest, names_match
from stancekit.results.judgements import Judgement
from stancekit.spans import GoldDocument, GoldSpan
from stancekit.text.document import Document

if TYPE_CHECKING:
    from stancekit.analyzer import StanceAnalyzer

__all__ = [
    "ExtractCounts",
    "PairOutcome",
    "extract_counts",
    "run_extract",
    "run_pairs",
    "units_match",
]


@dataclass(frozen=True)
class PairOutcome:
    """A gold span and the model's judgement of exactly that span (pairs mode)."""

    document_id: str
    span_index: int
    gold: GoldSpan
    judgement: Judgement


def run_pairs(
    analyzer: StanceAnalyzer, gold: Iterable[GoldDocument], *, progress: bool = False
) -> list[PairOutcome]:
    """Judge every gold span (pairs mode), one model call per document."""
    docs = [d for d in gold if d.spans]
    items = (
        (
            Document(id=d.id, text=d.text, meta=d.meta),
            [
                PairRequest(
                    s.start,
                    s.end,
                    s.holder,
                    s.target,
                    holder_mention=s.holder_mention,
                    target_mention=s.target_mention,
                )
                for s in d.spans
            ],
        )
        for d in docs
    )
    out: list[PairOutcome] = []
    judged = analyzer.judge_many(items)
    for doc in _progress(docs, progress, "pairs"):
        judgements = next(judged)
        out.extend(
            PairOutcome(doc.id, i, s, j)
            for i, (s, j) in enumerate(zip(doc.spans, judgements, strict=True))
        )
    return out


def run_extract(
    analyzer: StanceAnalyzer, gold: Iterable[GoldDocument], *, progress: bool = False
) -> list[tuple[GoldDocument, tuple[Judgement, ...]]]:
    """Analyse each gold document's raw text for its gold targets (extract mode)."""
    from stancekit.analyzer import StanceAnalyzer as _Analyzer

    known = {t.name.casefold(): t for t in analyzer.targets}
    out: list[tuple[GoldDocument, tuple[Judgement, ...]]] = []
    for doc in _progress(list(gold), progress, "extract"):
        names = list(dict.fromkeys(s.target for s in doc.spans))
        targets = [known.get(n.casefold(), Target(n)) for n in names]
        if not targets:
            out.append((doc, ()))
            continue
        an = _Analyzer(model=analyzer.model, targets=targets, batch_size=analyzer.batch_size)
        out.append((doc, an.analyze(doc.text, id=doc.id).judgements))
    return out


def units_match(a: tuple[int, int], b: tuple[int, int], *, min_overlap: float = 0.5) -> bool:
    """Same unit: equal offsets, or an overlap of at least ``min_overlap`` of the shorter."""
    if a == b:
        return True
    inter = min(a[1], b[1]) - max(a[0], b[0])
    shorter = min(a[1] - a[0], b[1] - b[0])
    return shorter > 0 and inter / shorter >= min_overlap


def _same_holder(a: str | None, b: str | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and names_match(a, b))


@dataclass(frozen=True)
class ExtractCounts:
    """Matching counts of extract mode (precision = tp / n_pred, recall = tp / n_gold)."""

    tp: int
    n_pred: int
    n_gold: int
    holder_tp: int
    holder_n_pred: int
    holder_n_gold: int

    @staticmethod
    def _prf(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
        p = tp / n_pred if n_pred else 0.0
        r = tp / n_gold if n_gold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    def to_dict(self) -> dict[str, Any]:
        """Precision, recall, F1 of (holder, target, stance) triples and of holders alone."""
        p, r, f = self._prf(self.tp, self.n_pred, self.n_gold)
        hp, hr, hf = self._prf(self.holder_tp, self.holder_n_pred, self.holder_n_gold)
        return {
            "precision": p,
            "recall": r,
            "f1": f,
            "n_pred": self.n_pred,
            "n_gold": self.n_gold,
            "tp": self.tp,
            "holder_precision": hp,
            "holder_recall": hr,
            "holder_f1": hf,
            "holder_n_pred": self.holder_n_pred,
            "holder_n_gold": self.holder_n_gold,
        }


def _greedy(gold: Sequence[Any], pred: Sequence[Any], same: Any) -> int:
    """One-to-one matches between ``gold`` and ``pred`` items (first fit, in text order)."""
    used: set[int] = set()
    tp = 0
    for g in gold:
        for k, p in enumerate(pred):
            if k not in used and same(g, p):
                used.add(k)
                tp += 1
                break
    return tp


def extract_counts(
    results: Sequence[tuple[GoldDocument, tuple[Judgement, ...]]], *, min_overlap: float = 0.5
) -> ExtractCounts:
    """Match predicted non-none triples and holders to gold, document by document."""
    tp = n_pred = n_gold = htp = hn_pred = hn_gold = 0
    for doc, judgements in results:
        gold = [s for s in doc.spans if s.stance is not None and s.stance != "none"]
        pred = [j for j in judgements if j.stance != "none"]
        n_gold += len(gold)
        n_pred += len(pred)
        tp += _greedy(
            gold,
            pred,
            lambda g, j: (
                g.stance == j.stance
                and g.target.casefold() == j.target.name.casefold()
                and _same_holder(g.holder, None if j.holder is None else j.holder.name)
                and units_match(
                    (g.start, g.end), (j.sentence.start, j.sentence.end), min_overlap=min_overlap
                )
            ),
        )
        g_holders = _unique([(s.start, s.end, s.holder) for s in doc.spans if s.holder])
        p_holders = _unique(
            [
                (j.sentence.start, j.sentence.end, j.holder.name)
                for j in judgements
                if j.holder is not None
            ]
        )
        hn_gold += len(g_holders)
        hn_pred += len(p_holders)
        htp += _greedy(
            g_holders,
            p_holders,
            lambda g, p: (
                names_match(g[2], p[2]) and units_match(g[:2], p[:2], min_overlap=min_overlap)
            ),
        )
    return ExtractCounts(tp, n_pred, n_gold, htp, hn_pred, hn_gold)


def _unique(items: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    return list(dict.fromkeys(items))


def _progress(items: list[GoldDocument], on: bool, desc: str) -> Iterable[GoldDocument]:
    if not on:
        return items
    from tqdm.auto import tqdm

    bar: Iterable[GoldDocument] = tqdm(items, desc=f"evaluate ({desc})", unit="doc")
    return bar
