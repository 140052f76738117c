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
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import replace
from itertools import islice
from typing import Any

from stancekit.actors import ActorAnalysis, find_actors
from stancekit.actors.targets import Target, TargetIndex, as_targets
from stancekit.engine.deadline import can_interrupt, time_limit
from stancekit.engine.memory import release_freed_memory, spacy_memory_zone
from stancekit.engine.prefetch import prefetched
from stancekit.errors import DocumentTooLargeError
from stancekit.pairs.build import (
    Pair,
    PairRequest,
    build_pairs,
    request_pairs,
    scoring_input,
    within_unit,
)
from stancekit.results.judgements import BatchSummary, DocumentResult, Judgement
from stancekit.scoring.model import Scores, StanceModel, default_model_path
from stancekit.text.document import Document
from stancekit.text.inputs import DocumentInput, single_item, to_item
from stancekit.text.screening import DEFAULT_MAX_CHARS, check_size, screen
from stancekit.text.segment import MAX_CHUNK, Parsed, parse_many

__all__ = ["DEFAULT_SLOW_S", "StanceAnalyzer"]

#: ``analyze_many``'s default ``slow_s``: documents estimated to take longer are flagged.
DEFAULT_SLOW_S = 60.0

_Item = tuple[str, str, Mapping[str, Any]]
#: A chunk screened: error results in their slots (None elsewhere), the good items by slot.
_Screened = tuple[list["DocumentResult | None"], list[tuple[int, _Item]]]
#: A document ready to score: its Document, actors, pairs and its own seconds so far.
_Prepared = tuple[Document, ActorAnalysis, list[Pair], float]


class StanceAnalyzer:
    """Finds who takes which stance toward which target, sentence by sentence.

    Args:
        model: a model folder, a shipped model's name (``"fast"``: MiniLM; ``"accurate"``:
            stance model 1.0 over MPNet), a loaded :class:`StanceModel`, or None for the
            default model (:data:`stancekit.scoring.model.DEFAULT_MODEL`; ``STANCEKIT_MODEL``
            overrides).
        targets: targets to judge (``Target`` objects or names); None gives CSTO and
            Azerbaijan (:data:`stancekit.actors.targets.DEFAULT_TARGETS`).
        batch_size: pairs per model forward pass.
        device: ``"cpu"``, ``"cuda"``...; None picks CUDA when present.
        quantize: dynamic int8 linear layers (CPU only): faster, slightly different
            probabilities (accuracy change on the dev sets in ``benchmarks/README.md``).
        max_chars: documents longer than this many characters are refused
            (:class:`~stancekit.errors.DocumentTooLargeError`; an error result in
            :meth:`analyze_many`) instead of exhausting memory; None: no limit.
        allow_pickle: let :meth:`StanceModel.load` read pickle weights (``.bin``); only
            for model folders you trust (see :meth:`StanceModel.load`).
        backend: ``"torch"``, or ``"onnx"`` to score with ONNX Runtime on the CPU
            (:meth:`StanceModel.use_onnx`, ``pip install stancekit[onnx]``); with
            ``quantize=True`` the ONNX graph is quantised to int8.

    Every document is screened first (:mod:`stancekit.text.screening`): markup, a language other
    than English, surrogate code points and cut lines become ``DocumentResult.flags``.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | StanceModel | None = None,
        targets: Iterable[Target | str] | None = None,
        *,
        batch_size: int = 64,
        device: str | None = None,
        quantize: bool = False,
        max_chars: int | None = DEFAULT_MAX_CHARS,
        allow_pickle: bool = False,
        backend: str = "torch",
    ):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"'batch_size' must be a positive int, got {batch_size!r}")
        if max_chars is not None and (
            not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars < 1
        ):
            raise ValueError(
                f"'max_chars' must be a positive int or None (no limit), got {max_chars!r}"
            )
        if backend not in ("torch", "onnx"):
            raise ValueError(f"'backend' must be 'torch' or 'onnx', got {backend!r}")
        if isinstance(model, StanceModel):
            if backend == "onnx":
                self.model = model.use_onnx(quantize=quantize)
            else:
                self.model = model.quantize() if quantize else model
        else:
            self.model = StanceModel.load(
                default_model_path() if model is None else model,
                device=device,
                quantize=quantize,
                allow_pickle=allow_pickle,
                backend=backend,
            )
        self.targets = as_targets(targets)
        self.batch_size = batch_size
        self.max_chars = max_chars
        self._index = TargetIndex(self.targets)

    def analyze(
        self,
        text: str | Document,
        *,
        id: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> DocumentResult:
        """Analyse one article (a str or a :class:`Document`); empty text gives no judgements.

        Raises:
            TypeError: ``text`` is neither a str nor a Document (bytes: decode them first).
            DocumentTooLargeError: the text is longer than ``max_chars``.
        """
        item = single_item(text, id, meta)
        check_size(item[1], self.max_chars, id=item[0])
        with spacy_memory_zone():  # spaCy's strings for this text are freed after it
            result = self._judge([next(parse_many([item]))])[0]
        release_freed_memory()
        return result

    def analyze_many(
        self,
        items: Iterable[DocumentInput],
        *,
        batch_size: int = 16,
        progress: bool = True,
        slow_s: float | None = DEFAULT_SLOW_S,
        timeout_s: float | None = None,
        summary: BatchSummary | None = None,
        parse_ahead: bool = False,
    ) -> Iterator[DocumentResult]:
        """Analyse many articles, streaming: ``batch_size`` documents are in memory at a time.

        A document that cannot be analysed (wrong type, over ``max_chars``, failure inside
        the pipeline) yields a :class:`DocumentResult` with ``error`` set and no judgements;
        the batch goes on. A document whose id an earlier one had is analysed and flagged
        ``duplicate_id``. ``summary``, when given, counts every result as it is yielded
        (analysed, skipped and why, flags).

        ``slow_s`` flags documents estimated to take longer than that many seconds
        (``slow``; None: never). Documents are processed in batches, so a document's time
        is estimated: its own actor analysis plus its share (by characters) of the parse
        and its share (by pairs) of the model call.

        ``timeout_s`` is a hard limit (None: none): a batch of ``n`` documents gets
        ``n * timeout_s`` seconds; if it runs over, its documents are redone one at a time,
        each with ``timeout_s`` seconds, and one that runs over again yields an error result
        (:class:`~stancekit.errors.DocumentTimeoutError`) while the batch goes on. So no
        document is worked on for more than ``(batch_size + 1) * timeout_s`` seconds, and a
        batch of ``n`` takes at most about ``2 * n * timeout_s``. It interrupts with
        ``SIGALRM`` (:mod:`stancekit.engine.deadline`): on POSIX, in the main thread only;
        elsewhere it warns once and documents are only flagged ``slow``.

        ``parse_ahead=True`` parses the next batch and finds its actors in a worker thread
        while the model scores this one (:mod:`stancekit.engine.prefetch`); the results are the
        same. It pays where spaCy's one core is otherwise idle while the model scores (more
        cores than the model's threads use); on 2 cores it gained 4%
        (``benchmarks/prefetch_ab.py``), so it is off by default. It needs
        ``timeout_s=None``: the deadline is a signal, which only the main thread receives.
        """
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"'batch_size' must be a positive int, got {batch_size!r}")
        if slow_s is not None and not (isinstance(slow_s, (int, float)) and slow_s > 0):
            raise ValueError(f"'slow_s' must be a positive number or None, got {slow_s!r}")
        if timeout_s is not None and not (
            isinstance(timeout_s, (int, float))
            and not isinstance(timeout_s, bool)
            and timeout_s > 0
        ):
            raise ValueError(
                f"'timeout_s' must be a positive number of seconds or None, got {timeout_s!r}"
            )
        if parse_ahead and timeout_s is not None:
            raise ValueError(
                f"parse_ahead=True needs timeout_s=None (got timeout_s={timeout_s!r}): the "
                "deadline interrupts with a signal, which the worker thread cannot receive; "
                "drop one of the two"
            )
        if timeout_s is not None and not can_interrupt():
            warnings.warn(
                "analyze_many(timeout_s=...) needs POSIX signals and the main thread; here "
                "documents are not interrupted, only flagged 'slow' (slow_s)",
                RuntimeWarning,
                stacklevel=2,
            )
        total = len(items) if isinstance(items, Sequence) else None
        it: Iterable[DocumentInput] = items
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="doc", desc="stancekit", dynamic_ncols=True)
        seen: set[str] = set()
        source = iter(enumerate(it))
        chunks = iter(lambda: list(islice(source, batch_size)), [])
        try:
            for results in self._chunk_results(chunks, slow_s, timeout_s, parse_ahead):
                release_freed_memory()
                for result in results:
                    if result.document.id in seen:
                        result = replace(result, flags=(*result.flags, "duplicate_id"))
                    seen.add(result.document.id)
                    if summary is not None:
                        summary.add(result)
                    if bar is not None:
                        bar.update(1)
                    yield result
        finally:
            if bar is not None:
                bar.close()

    def _chunk_results(
        self,
        chunks: Iterator[list[tuple[int, DocumentInput]]],
        slow_s: float | None,
        timeout_s: float | None,
        parse_ahead: bool,
    ) -> Iterator[list[DocumentResult]]:
        """The results of each chunk of documents, in order; with ``parse_ahead`` the next
        chunk is parsed and its actors found in a worker thread while this one is scored
        (:mod:`stancekit.engine.prefetch`)."""
        if not parse_ahead:
            for chunk in chunks:
                screened = self._screen(chunk)
                yield self._analyze_chunk(screened, slow_s, timeout_s)
            return
        screened_chunks = map(self._screen, chunks)
        for screened, ahead in prefetched(screened_chunks, self._prepare_screened):
            yield self._analyze_chunk(screened, slow_s, None, ahead)

    def _screen(self, chunk: list[tuple[int, DocumentInput]]) -> _Screened:
        """Error results for the items that cannot be analysed (wrong type, too large), in
        their slots, and the others as ``(slot, (id, text, meta))``."""
        slots: list[DocumentResult | None] = [None] * len(chunk)
        good: list[tuple[int, _Item]] = []
        for k, (pos, raw) in enumerate(chunk):
            try:
                item = to_item(raw, pos)
            except TypeError as exc:
                slots[k] = self._failed(f"item-{pos}", "", exc)
                continue
            try:
                check_size(item[1], self.max_chars, id=item[0])
            except DocumentTooLargeError as exc:
                slots[k] = self._failed(item[0], item[1], exc, meta=item[2])
                continue
            good.append((k, item))
        return slots, good

    def _prepare_screened(self, screened: _Screened) -> tuple[list[_Prepared], float]:
        """:meth:`_prepare_items` for the good items of a screened chunk."""
        return self._prepare_items([item for _, item in screened[1]])

    def _prepare_items(self, items: list[_Item]) -> tuple[list[_Prepared], float]:
        """Parse the documents and find their actors and pairs, in a spaCy memory zone
        (nothing returned holds a spaCy object); and the parse's seconds."""
        with spacy_memory_zone():
            t0 = time.perf_counter()
            parsed = list(parse_many(items))
            parse_s = time.perf_counter() - t0
            return self._prepare(parsed), parse_s

    def _analyze_chunk(
        self,
        screened: _Screened,
        slow_s: float | None,
        timeout_s: float | None = None,
        ahead: Future[tuple[list[_Prepared], float]] | None = None,
    ) -> list[DocumentResult]:
        """One chunk's results; ``ahead``, when given, is its parse already under way."""
        slots, good = list(screened[0]), screened[1]
        budget = None if timeout_s is None else timeout_s * len(good)
        try:
            with time_limit(budget, f"a batch of {len(good)} documents ran over {budget} s"):
                if ahead is None:
                    prepared, parse_s = self._prepare_screened(screened)
                else:
                    prepared, parse_s = ahead.result()
                results = self._finish(prepared, parse_s=parse_s, slow_s=slow_s)
            for (k, _), res in zip(good, results, strict=True):
                slots[k] = res
        except Exception:
            # something in the batch broke or ran over: one by one, so only the culprit fails
            for k, item in good:
                try:
                    with time_limit(timeout_s, _timeout_message(item[0], timeout_s)):
                        prepared, parse_s = self._prepare_items([item])
                        slots[k] = self._finish(prepared, parse_s=parse_s, slow_s=slow_s)[0]
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
        analyzer target of that name brings its aliases. One judgement per request, in order;
        a request whose target is not mentioned in its unit is flagged ``no_target_mention``.
        """
        id_, text_, meta_ = single_item(text, id, None)
        doc = Document(id=id_, text=text_, meta=meta_)
        return next(self.judge_many([(doc, requests)], batch_size=1))

    def judge_many(
        self,
        items: Iterable[tuple[Document, Sequence[PairRequest]]],
        *,
        batch_size: int = 32,
    ) -> Iterator[tuple[Judgement, ...]]:
        """:meth:`judge` for many documents, streaming: ``batch_size`` documents are parsed
        together and scored in one model call. Yields one tuple per item, in order.

        Raises :class:`DocumentTooLargeError` for a document over ``max_chars``."""
        source = iter(items)
        known = {t.name: t for t in self.targets}
        while chunk := list(islice(source, batch_size)):
            for d, _ in chunk:
                check_size(d.text, self.max_chars, id=d.id)
            per_doc: list[tuple[str, list[Pair]]] = []
            with spacy_memory_zone():
                parsed = parse_many([(d.id, d.text, d.meta) for d, _ in chunk])
                for p, (_, requests) in zip(parsed, chunk, strict=True):
                    targets = {r.target: known.get(r.target, Target(r.target)) for r in requests}
                    index = TargetIndex(list(targets.values()))
                    actors = find_actors(p)
                    pairs = request_pairs(p.document, actors, list(requests), targets, index)
                    per_doc.append((p.document.id, [within_unit(pair) for pair in pairs]))
            all_pairs = [pair for _, pairs in per_doc for pair in pairs]
            scores = self._predict(all_pairs)
            release_freed_memory()
            row = 0
            for doc_id, pairs in per_doc:
                yield tuple(self._judgements(doc_id, pairs, scores, row))
                row += len(pairs)

    def _predict(self, pairs: list[Pair]) -> Scores:
        return self.model.predict([scoring_input(p) for p in pairs], batch_size=self.batch_size)

    def _judgements(
        self, doc_id: str, pairs: list[Pair], scores: Scores, row: int
    ) -> list[Judgement]:
        """Judgements for ``pairs``, whose scores start at ``row`` of ``scores``."""
        st_labels, se_labels = scores.stance_labels, scores.sentiment_labels
        out = []
        for k, pair in enumerate(pairs, start=row):
            st = dict(zip(st_labels, map(float, scores.stance[k]), strict=True))
            se = dict(zip(se_labels, map(float, scores.sentiment[k]), strict=True))
            flags: tuple[str, ...] = ("windowed",) if scores.windowed[k] else ()
            if pair.target_mention is None:
                flags += ("no_target_mention",)
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
                    flags=flags,
                )
            )
        return out

    def _judge(
        self, parsed: list[Parsed], *, parse_s: float = 0.0, slow_s: float | None = None
    ) -> list[DocumentResult]:
        """Actors, pairs and one model call for the whole chunk of documents."""
        return self._finish(self._prepare(parsed), parse_s=parse_s, slow_s=slow_s)

    def _prepare(self, parsed: list[Parsed]) -> list[_Prepared]:
        """Each document's actors and pairs, and the seconds that took."""
        out: list[_Prepared] = []
        for p in parsed:
            t0 = time.perf_counter()
            actors = find_actors(p)
            pairs = [within_unit(pair) for pair in build_pairs(p.document, actors, self._index)]
            out.append((p.document, actors, pairs, time.perf_counter() - t0))
        return out

    def _finish(
        self, prepared: list[_Prepared], *, parse_s: float, slow_s: float | None
    ) -> list[DocumentResult]:
        """One model call for every pair of the chunk, then each document's result."""
        all_pairs = [pair for _, _, pairs, _ in prepared for pair in pairs]
        t0 = time.perf_counter()
        scores = self._predict(all_pairs)
        model_s = time.perf_counter() - t0
        n_chars = max(1, sum(len(doc.text) for doc, _, _, _ in prepared))
        results = []
        row = 0
        for doc, actors, pairs, own_s in prepared:
            judgements = self._judgements(doc.id, pairs, scores, row)
            row += len(pairs)
            flags = screen(doc.text, max_line=MAX_CHUNK)
            if not doc.sentences:
                flags += ("empty",)
            elif not pairs:
                flags += ("no_target_mention",)
            spent = own_s + parse_s * len(doc.text) / n_chars
            spent += model_s * len(pairs) / max(1, len(all_pairs))
            if slow_s is not None and spent > slow_s:
                flags += ("slow",)
            results.append(
                DocumentResult(doc, self.targets, actors.actors, tuple(judgements), flags=flags)
            )
        return results


def _timeout_message(doc_id: str, timeout_s: float | None) -> str:
    return (
        f"document {doc_id!r} took longer than timeout_s={timeout_s} s and was stopped; "
        "raise timeout_s, or split the document (max_chars bounds the size analysed)"
    )
