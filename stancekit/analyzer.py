"""The pipeline: text -> sentences -> actors and targets -> pairs -> model -> judgements.

Example:
    >>> from stancekit import StanceAnalyzer
    >>> analyzer = StanceAnalyzer()                       # the default model, CSTO + Azerbaijan
    >>> result = analyzer.analyze(open("seeds/csto-armenia-2022-11-28.txt").read())
    >>> sorted({j.holder_name for j in result.judgements})[:2]
    ['(author)', 'Armen Khachatrian']
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from stancekit.actors import ActorAnalysis, find_actors
from stancekit.document import Document
from stancekit.model import Scores, StanceModel, default_model_path
from stancekit.pairs import Pair, PairRequest, build_pairs, request_pairs
from stancekit.results import DocumentResult, Judgement
from stancekit.segment import Parsed, document_id, parse_many
from stancekit.targets import Target, TargetIndex, as_targets

__all__ = ["DocumentInput", "StanceAnalyzer"]

#: What ``analyze_many`` accepts per item: a text, a Document, an ``(id, text)`` pair, or a
#: mapping with ``text`` and optional ``id`` / ``meta``.
DocumentInput = str | Document | tuple[str, str] | Mapping[str, Any]


def _to_item(item: object, position: int) -> tuple[str, str, Mapping[str, Any]]:
    """``(id, text, meta)`` for one input, or TypeError naming what was wrong."""
    if isinstance(item, str):
        return document_id(item), item, {}
    if isinstance(item, Document):
        return item.id, item.text, item.meta
    if isinstance(item, tuple) and len(item) == 2:
        id_, text = item
        if not isinstance(text, str):
            raise TypeError(f"item {position}: text must be str, got {type(text).__name__}")
        return str(id_), text, {}
    if isinstance(item, Mapping):
        text = item.get("text")
        if not isinstance(text, str):
            raise TypeError(
                f"item {position}: mapping needs a str 'text' field, got {type(text).__name__}"
            )
        id_ = item.get("id")
        meta = item.get("meta") or {k: v for k, v in item.items() if k not in ("id", "text")}
        return (str(id_) if id_ is not None else document_id(text)), text, meta
    raise TypeError(
        f"item {position}: expected str, Document, (id, text) or a mapping with 'text'; "
        f"got {type(item).__name__}"
    )


def _single_item(
    text: object, id: str | None, meta: Mapping[str, Any] | None
) -> tuple[str, str, Mapping[str, Any]]:
    """``(id, text, meta)`` for the ``text`` parameter of :meth:`StanceAnalyzer.analyze` /
    :meth:`StanceAnalyzer.judge`: a str or a Document; ``id`` and ``meta`` override."""
    if isinstance(text, Document):
        return id or text.id, text.text, meta or text.meta
    if isinstance(text, str):
        return (id if id is not None else document_id(text)), text, meta or {}
    raise TypeError(
        f"'text' must be a str or a stancekit Document, got {type(text).__name__}; "
        "decode bytes first (data.decode('utf-8'))"
    )


class StanceAnalyzer:
    """Finds who takes which stance toward which target, sentence by sentence.

    Args:
        model: a model folder, a loaded :class:`StanceModel`, or None for the default model
            (``models/stancekit-minilm``; ``STANCEKIT_MODEL`` overrides).
        targets: targets to judge (``Target`` objects or names); None gives CSTO and
            Azerbaijan (:data:`stancekit.targets.DEFAULT_TARGETS`).
        batch_size: pairs per model forward pass.
        device: ``"cpu"``, ``"cuda"``...; None picks CUDA when present.
        quantize: dynamic int8 linear layers (CPU only): faster, slightly different
            probabilities (accuracy change on the dev sets in ``benchmarks/README.md``).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | StanceModel | None = None,
        targets: Iterable[Target | str] | None = None,
        *,
        batch_size: int = 64,
        device: str | None = None,
        quantize: bool = False,
    ):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"'batch_size' must be a positive int, got {batch_size!r}")
        if isinstance(model, StanceModel):
            self.model = model.quantize() if quantize else model
        else:
            self.model = StanceModel.load(
                default_model_path() if model is None else Path(model),
                device=device,
                quantize=quantize,
            )
        self.targets = as_targets(targets)
        self.batch_size = batch_size
        self._index = TargetIndex(self.targets)

    def analyze(
        self,
        text: str | Document,
        *,
        id: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> DocumentResult:
        """Analyse one article (a str or a :class:`Document`); empty text gives no judgements."""
        parsed = next(parse_many([_single_item(text, id, meta)]))
        return self._judge([parsed])[0]

    def analyze_many(
        self,
        items: Iterable[DocumentInput],
        *,
        batch_size: int = 16,
        progress: bool = True,
    ) -> Iterator[DocumentResult]:
        """Analyse many articles, streaming: ``batch_size`` documents are in memory at a time.

        A document that cannot be analysed (wrong type, failure inside the pipeline) yields
        a :class:`DocumentResult` with ``error`` set and no judgements; the batch goes on.
        """
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"'batch_size' must be a positive int, got {batch_size!r}")
        total = len(items) if isinstance(items, Sequence) else None
        it: Iterable[DocumentInput] = items
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="doc", desc="stancekit", dynamic_ncols=True)
        try:
            source = iter(enumerate(it))
            while chunk := list(islice(source, batch_size)):
                for result in self._analyze_chunk(chunk):
                    if bar is not None:
                        bar.update(1)
                    yield result
        finally:
            if bar is not None:
                bar.close()

    def _analyze_chunk(self, chunk: list[tuple[int, DocumentInput]]) -> list[DocumentResult]:
        slots: list[DocumentResult | None] = [None] * len(chunk)
        good: list[tuple[int, tuple[str, str, Mapping[str, Any]]]] = []
        for k, (pos, raw) in enumerate(chunk):
            try:
                good.append((k, _to_item(raw, pos)))
            except TypeError as exc:
                slots[k] = self._failed(f"item-{pos}", "", exc)
        try:
            parsed = list(parse_many([g for _, g in good]))
            results = self._judge(parsed)
            for (k, _), res in zip(good, results, strict=True):
                slots[k] = res
        except Exception:
            # something in the batch broke: retry one by one so only the culprit fails
            for k, item in good:
                try:
                    slots[k] = self._judge(list(parse_many([item])))[0]
                except Exception as exc:
                    slots[k] = self._failed(item[0], item[1], exc, meta=item[2])
        return [s for s in slots if s is not None]

    def _failed(
        self, id_: str, text: str, exc: Exception, meta: Mapping[str, Any] | None = None
    ) -> DocumentResult:
        return DocumentResult(
            Document(id=id_, text=text, meta=dict(meta or {})),
            self.targets,
            error=f"{type(exc).__name__}: {exc}",
        )

    def judge(
        self,
        text: str | Document,
        requests: Sequence[PairRequest],
        *,
        id: str | None = None,
    ) -> tuple[Judgement, ...]:
        """Judge caller-chosen (unit, holder, target) requests in one document, e.g. gold
        spans. The whole document is the context: holders are resolved by name against its
        actors (so a holder named in another sentence is found), targets by name — an
        analyzer target of that name brings its aliases. One judgement per request, in order.
        """
        id_, text_, meta_ = _single_item(text, id, None)
        doc = Document(id=id_, text=text_, meta=meta_)
        return next(self.judge_many([(doc, requests)], batch_size=1))

    def judge_many(
        self,
        items: Iterable[tuple[Document, Sequence[PairRequest]]],
        *,
        batch_size: int = 32,
    ) -> Iterator[tuple[Judgement, ...]]:
        """:meth:`judge` for many documents, streaming: ``batch_size`` documents are parsed
        together and scored in one model call. Yields one tuple per item, in order."""
        source = iter(items)
        known = {t.name: t for t in self.targets}
        while chunk := list(islice(source, batch_size)):
            parsed = parse_many([(d.id, d.text, d.meta) for d, _ in chunk])
            per_doc: list[tuple[str, list[Pair]]] = []
            for p, (_, requests) in zip(parsed, chunk, strict=True):
                targets = {r.target: known.get(r.target, Target(r.target)) for r in requests}
                index = TargetIndex(list(targets.values()))
                pairs = request_pairs(p.document, find_actors(p), list(requests), targets, index)
                per_doc.append((p.document.id, pairs))
            all_pairs = [pair for _, pairs in per_doc for pair in pairs]
            scores = self.model.predict(
                [p.model_input() for p in all_pairs], batch_size=self.batch_size
            )
            row = 0
            for doc_id, pairs in per_doc:
                yield tuple(self._judgements(doc_id, pairs, scores, row))
                row += len(pairs)

    def _judgements(
        self, doc_id: str, pairs: list[Pair], scores: Scores, row: int
    ) -> list[Judgement]:
        """Judgements for ``pairs``, whose scores start at ``row`` of ``scores``."""
        st_labels, se_labels = scores.stance_labels, scores.sentiment_labels
        out = []
        for k, pair in enumerate(pairs, start=row):
            st = dict(zip(st_labels, map(float, scores.stance[k]), strict=True))
            se = dict(zip(se_labels, map(float, scores.sentiment[k]), strict=True))
            out.append(
                Judgement(
                    document_id=doc_id,
                    sentence=pair.sentence,
                    holder=pair.holder,
                    target=pair.target,
                    stance=max(st, key=st.__getitem__),
                    stance_probs=st,
                    sentiment=max(se, key=se.__getitem__),
                    sentiment_probs=se,
                    holder_mention=pair.holder_mention,
                    target_mention=pair.target_mention,
                    attribution=pair.attribution,
                    flags=("windowed",) if scores.windowed[k] else (),
                )
            )
        return out

    def _judge(self, parsed: list[Parsed]) -> list[DocumentResult]:
        """Actors, pairs and one model call for the whole chunk of documents."""
        per_doc: list[tuple[Parsed, ActorAnalysis, list[Pair]]] = []
        for p in parsed:
            actors = find_actors(p)
            per_doc.append((p, actors, build_pairs(p.document, actors, self._index)))
        all_pairs = [pair for _, _, pairs in per_doc for pair in pairs]
        scores = self.model.predict(
            [p.model_input() for p in all_pairs], batch_size=self.batch_size
        )
        results = []
        row = 0
        for p, actors, pairs in per_doc:
            judgements = self._judgements(p.document.id, pairs, scores, row)
            row += len(pairs)
            flags = () if p.document.sentences else ("empty",)
            results.append(
                DocumentResult(
                    p.document, self.targets, actors.actors, tuple(judgements), flags=flags
                )
            )
        return results
