"""Fine-tuning data: labelled-spans documents in, training examples out.

- :func:`as_documents` accepts a JSONL path, a :class:`~stancekit.spans.SpanSet` or
  :class:`~stancekit.spans.GoldDocument` objects.
- :func:`split_by_document` makes the dev set when none is given: whole documents,
  stratified by each document's most common label, seeded.
- :func:`to_examples` turns documents into the recipe's
  :class:`~stancekit.training.data.Example` pairs.
- :func:`mix_examples` draws original training pairs (the default recipe's files) to mix
  in against forgetting.

>>> from stancekit.spans import GoldDocument, GoldSpan
>>> docs = [GoldDocument(f"d{i}", f"Zas praised the CSTO {i}.",
...         (GoldSpan(0, 20, "Zas", "CSTO", stance="favor"),)) for i in range(10)]
>>> train, dev = split_by_document(docs, 0.2, seed=0)
>>> len(train), len(dev)
(8, 2)
>>> same = [GoldDocument(f"c{i}", "Zas praised the CSTO.", d.spans) for i, d in enumerate(docs)]
>>> [len(part) for part in split_by_document(same, 0.2, seed=0)]  # one text: one side
[10, 0]
"""

from __future__ import annotations

import os
import random
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from stancekit.scoring.model import PairInput
from stancekit.spans import GoldDocument, SpanSet, read_spans
from stancekit.training.data import SENTIMENT_LABELS, STANCE_LABELS, Example

__all__ = [
    "MIX_FILES",
    "DataInput",
    "as_documents",
    "class_counts",
    "mix_examples",
    "split_by_document",
    "to_examples",
]

DataInput = str | os.PathLike[str] | SpanSet | Iterable[GoldDocument]


def as_documents(data: DataInput, *, name: str) -> tuple[list[GoldDocument], SpanSet | None]:
    """``(documents, span set)`` of ``data``; the span set (with its problems) when it was
    read from a file or given as one, else None. ``name`` is the parameter's name for
    error messages."""
    if isinstance(data, (str, os.PathLike)):
        p = Path(data)
        if not p.is_file():
            raise FileNotFoundError(
                f"{name}={str(p)!r} is not a file; give a labelled-spans JSONL file"
            )
        with warnings.catch_warnings():  # the problems are reported by the checks
            warnings.simplefilter("ignore")
            spans = read_spans(p, lenient=True)
        return list(spans.documents), spans
    if isinstance(data, SpanSet):
        return list(data.documents), data
    docs = list(data)
    bad = [type(d).__name__ for d in docs if not isinstance(d, GoldDocument)]
    if bad:
        raise TypeError(
            f"{name} must be a JSONL path, a SpanSet or GoldDocument objects; got {bad[0]}"
        )
    return docs, None


def _doc_label(docs: Iterable[GoldDocument]) -> str:
    labels = [s.stance or s.sentiment or "" for d in docs for s in d.spans]
    return Counter(labels).most_common(1)[0][0] if labels else ""


def split_by_document(
    docs: Sequence[GoldDocument], fraction: float, *, seed: int
) -> tuple[list[GoldDocument], list[GoldDocument]]:
    """``(train, dev)``: about ``fraction`` of the documents of each stratum (documents
    grouped by their most common label) go to dev, at least one document when a stratum
    has two or more. The spans of a document never sit on both sides, nor do documents
    with the same text (one comment labelled for several targets, say)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, d in enumerate(docs):
        groups[" ".join(d.text.split()).lower()].append(i)
    strata: dict[str, list[list[int]]] = defaultdict(list)
    for members in groups.values():
        label = _doc_label(docs[i] for i in members)
        strata[label].append(members)
    rng = random.Random(seed)
    dev_idx: set[int] = set()
    for key in sorted(strata):
        grp = strata[key]
        rng.shuffle(grp)
        k = round(len(grp) * fraction)
        if k == 0 and len(grp) >= 2 and rng.random() < len(grp) * fraction:
            k = 1
        dev_idx.update(i for members in grp[:k] for i in members)
    if not dev_idx and len(groups) >= 2:
        dev_idx.update(rng.choice(sorted(groups.values())))
    train = [d for i, d in enumerate(docs) if i not in dev_idx]
    dev = [d for i, d in enumerate(docs) if i in dev_idx]
    return train, dev


def to_examples(docs: Iterable[GoldDocument], *, source: str) -> list[Example]:
    """One :class:`Example` per span (mention offsets made relative to the span's unit;
    a mention outside the unit is dropped, as in the recipe)."""
    out: list[Example] = []
    for d in docs:
        for s in d.spans:

            def rel(
                m: tuple[int, int] | None, s0: int = s.start, s1: int = s.end
            ) -> tuple[int, int] | None:
                if m is None or m[0] < s0 or m[1] > s1:
                    return None
                return (m[0] - s0, m[1] - s0)

            pair = PairInput(
                d.text[s.start : s.end],
                s.holder,
                s.target,
                rel(s.holder_mention),
                rel(s.target_mention),
            )
            out.append(
                Example(
                    pair,
                    None if s.stance is None else STANCE_LABELS.index(s.stance),
                    None if s.sentiment is None else SENTIMENT_LABELS.index(s.sentiment),
                    source,
                    d.id,
                )
            )
    return out


#: The default recipe's training files that :func:`mix_examples` draws from (VAST is left
#: out: part of it is the recipe's zero-shot held-out set).
MIX_FILES: tuple[str, ...] = (
    "dsa_train.jsonl",
    "newsmtsc_train.jsonl",
    "ibm_claims_train.jsonl",
    "gwsd_train.jsonl",
    "ibm_argq_train.jsonl",
)


def mix_examples(data_dir: str | os.PathLike[str], n: int, *, seed: int) -> list[Example]:
    """``n`` pairs drawn uniformly (seeded) from the :data:`MIX_FILES` present in
    ``data_dir``, so each file contributes in proportion to its size."""
    from stancekit.training.data import read_labelled_spans

    folder = Path(data_dir)
    present = [folder / f for f in MIX_FILES if (folder / f).is_file()]
    if not present:
        raise FileNotFoundError(
            f"mix_data={str(folder)!r} holds none of the recipe's training files "
            f"{list(MIX_FILES)}; point it at the shared data folder (e.g. ../shared/data)"
        )
    pool: list[Example] = []
    for p in present:
        pool.extend(read_labelled_spans(p, source=f"mix:{p.stem}"))
    rng = random.Random(seed)
    n = min(n, len(pool))
    return [pool[i] for i in sorted(rng.sample(range(len(pool)), n))]


def class_counts(examples: Iterable[Example]) -> dict[str, Counter[str]]:
    """Label counts per head: ``{"stance": Counter, "sentiment": Counter}``."""
    out: dict[str, Counter[str]] = {"stance": Counter(), "sentiment": Counter()}
    for e in examples:
        if e.stance is not None:
            out["stance"][STANCE_LABELS[e.stance]] += 1
        if e.sentiment is not None:
            out["sentiment"][SENTIMENT_LABELS[e.sentiment]] += 1
    return out
