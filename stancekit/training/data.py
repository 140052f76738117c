"""Read labelled-spans JSONL files into training examples.

A labelled-spans file holds one JSON document per line::

    {"id": "...", "text": "...", "spans": [{"start": 0, "end": 40, "holder": "Trump",
      "target": "China", "stance": "against", "holder_mention": [4, 9],
      "target_mention": [17, 22]}], "meta": {}}

Each span becomes one :class:`Example`: a :class:`~stancekit.scoring.model.PairInput` over the
unit ``text[start:end]`` (mention offsets converted from document to unit offsets; a
mention outside the unit is dropped) and label ids for the stance and sentiment heads
(``None`` where the span has no label for that head, so the loss masks it).

Problems are reported as :class:`LabelledSpansError` naming the file, line and field.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stancekit.errors import StancekitError
from stancekit.scoring.model import PairInput

__all__ = [
    "NLI_TO_STANCE",
    "SENTIMENT_LABELS",
    "STANCE_LABELS",
    "Example",
    "LabelledSpansError",
    "group_key",
    "held_out",
    "holdout_split",
    "read_labelled_spans",
    "read_nli_tsv",
    "subsample",
    "subsample_indices",
]

STANCE_LABELS: tuple[str, ...] = ("favor", "against", "none")
SENTIMENT_LABELS: tuple[str, ...] = ("positive", "neutral", "negative")


class LabelledSpansError(StancekitError, ValueError):
    """A labelled-spans file is unreadable or has a malformed document or span."""


@dataclass(frozen=True)
class Example:
    """One training / evaluation pair with its (optional) labels.

    ``stance`` indexes ``STANCE_LABELS`` and ``sentiment`` indexes ``SENTIMENT_LABELS``;
    ``None`` means "no label for this head". ``source`` names the dataset, ``doc_id`` the
    document the span comes from.
    """

    pair: PairInput
    stance: int | None
    sentiment: int | None
    source: str
    doc_id: str


def _rel_mention(
    value: Any, start: int, end: int, text_len: int, where: str, key: str
) -> tuple[int, int] | None:
    if value is None:
        return None
    if (
        not isinstance(value, (list, tuple))
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise LabelledSpansError(f"{where}: {key}={value!r} must be a [start, end] pair of ints")
    s, e = value
    if not 0 <= s <= e <= text_len:
        raise LabelledSpansError(
            f"{where}: {key}={value!r} is outside the text of length {text_len}"
        )
    if s < start or e > end:
        return None  # a mention outside the judged unit is dropped
    return (s - start, e - start)


def _label(value: Any, labels: Sequence[str], where: str, key: str) -> int | None:
    if value is None:
        return None
    if value not in labels:
        raise LabelledSpansError(f"{where}: {key}={value!r} is not one of {list(labels)}")
    return labels.index(value)


def iter_documents(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line_number, document)`` for each non-blank line of a JSONL file."""
    p = Path(path)
    if not p.is_file():
        raise LabelledSpansError(f"{str(p)!r} does not exist or is not a file")
    with p.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                raise LabelledSpansError(f"{p}:{lineno}: not valid JSON ({exc})") from exc
            if not isinstance(doc, dict):
                raise LabelledSpansError(f"{p}:{lineno}: a document must be a JSON object")
            yield lineno, doc


def read_labelled_spans(path: str | Path, *, source: str | None = None) -> list[Example]:
    """All spans of a labelled-spans JSONL file as :class:`Example` objects."""
    p = Path(path)
    source = source or p.stem
    out: list[Example] = []
    for lineno, doc in iter_documents(p):
        where = f"{p}:{lineno}"
        text = doc.get("text")
        if not isinstance(text, str):
            raise LabelledSpansError(f"{where}: 'text' must be a string")
        doc_id = str(doc.get("id", f"{source}-{lineno}"))
        spans = doc.get("spans")
        if not isinstance(spans, list):
            raise LabelledSpansError(f"{where}: 'spans' must be a list")
        for k, span in enumerate(spans):
            w = f"{where} span {k}"
            if not isinstance(span, dict):
                raise LabelledSpansError(f"{w}: a span must be a JSON object")
            start, end = span.get("start"), span.get("end")
            if not (isinstance(start, int) and isinstance(end, int)) or not (
                0 <= start < end <= len(text)
            ):
                raise LabelledSpansError(
                    f"{w}: start={start!r}, end={end!r} must satisfy 0 <= start < end <= "
                    f"{len(text)} (the text length)"
                )
            holder = span.get("holder")
            target = span.get("target")
            if holder is not None and (not isinstance(holder, str) or not holder.strip()):
                raise LabelledSpansError(f"{w}: holder={holder!r} must be a name or null")
            if not isinstance(target, str) or not target.strip():
                raise LabelledSpansError(f"{w}: target={target!r} must be a non-empty string")
            stance = _label(span.get("stance"), STANCE_LABELS, w, "stance")
            sentiment = _label(span.get("sentiment"), SENTIMENT_LABELS, w, "sentiment")
            if stance is None and sentiment is None:
                raise LabelledSpansError(f"{w}: a span needs a 'stance' or a 'sentiment' label")
            pair = PairInput(
                sentence=text[start:end],
                holder=holder,
                target=target,
                holder_span=_rel_mention(
                    span.get("holder_mention"), start, end, len(text), w, "holder_mention"
                ),
                target_span=_rel_mention(
                    span.get("target_mention"), start, end, len(text), w, "target_mention"
                ),
            )
            out.append(Example(pair, stance, sentiment, source, doc_id))
    return out


NLI_TO_STANCE: dict[str, int] = {"entailment": 0, "contradiction": 1, "neutral": 2}


def read_nli_tsv(path: str | Path, *, source: str | None = None) -> list[Example]:
    """An NLI file (tab-separated ``premise``, ``hypothesis``, ``label`` with a header) as
    stance examples: the text's voice (holder None) toward the hypothesis as a free-text
    target, entailment = favor, contradiction = against, neutral = none. Rows with another
    label (SNLI's ``-``) are skipped; ``doc_id`` is the premise, so a hold-out keeps a
    premise's hypotheses together."""
    p = Path(path)
    if not p.is_file():
        raise LabelledSpansError(f"{str(p)!r} does not exist or is not a file")
    source = source or p.stem
    out: list[Example] = []
    with p.open(encoding="utf-8", newline="") as f:
        header = f.readline().rstrip("\r\n").split("\t")
        want = ["premise", "hypothesis", "label"]
        if header[:3] != want:
            raise LabelledSpansError(f"{p}:1: the header {header!r} must start with {want}")
        for lineno, line in enumerate(f, 2):
            cols = line.rstrip("\r\n").split("\t")
            if len(cols) < 3:
                if line.strip():
                    raise LabelledSpansError(f"{p}:{lineno}: expected 3 tab-separated columns")
                continue
            premise, hypothesis, label = (c.strip() for c in cols[:3])
            if label not in NLI_TO_STANCE or not premise or not hypothesis:
                continue
            pair = PairInput(sentence=premise, holder=None, target=hypothesis)
            out.append(Example(pair, NLI_TO_STANCE[label], None, source, premise))
    return out


def _bucket(key: str, seed: int) -> float:
    """A stable number in [0, 1) for ``key`` (independent of PYTHONHASHSEED)."""
    h = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


def group_key(doc_id: str, pattern: str | None) -> str:
    """The hold-out group of ``doc_id``: the captured groups (or the whole match) of the
    regular expression ``pattern`` searched in it, or ``doc_id`` itself when ``pattern``
    is None or does not match. NewsMTSC ids, for instance, name one sentence
    (``allsides_1018_408_1_Hillary Clinton_2_17``: article 1018 of story 408, sentence 1);
    ``^allsides_\\d+_(\\d+)|^(polusa_v1_\\d+)`` groups them by story or article."""
    if pattern is None:
        return doc_id
    m = re.search(pattern, doc_id)
    if m is None:
        return doc_id
    caught = [g for g in m.groups() if g is not None]
    return "|".join(caught) if caught else m.group(0)


def holdout_split(
    examples: Iterable[Example],
    fraction: float,
    *,
    group: str = "doc",
    seed: int = 0,
    key_pattern: str | None = None,
) -> tuple[list[Example], list[Example]]:
    """``(train, held_out)``: whole groups (``"doc"`` = document id, or the part of it
    ``key_pattern`` picks out, see :func:`group_key`; ``"target"`` = target text, for
    zero-shot topics) go to the held-out part with probability ``fraction``."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"holdout fraction={fraction!r} must be in [0, 1)")
    if group not in ("doc", "target"):
        raise ValueError(f"holdout group={group!r} must be 'doc' or 'target'")
    train: list[Example] = []
    held: list[Example] = []
    for ex in examples:
        key = group_key(ex.doc_id, key_pattern) if group == "doc" else ex.pair.target.lower()
        (held if held_out(key, fraction, seed=seed) else train).append(ex)
    return train, held


def held_out(key: str, fraction: float, *, seed: int = 0) -> bool:
    """Whether :func:`holdout_split` puts the group ``key`` in the held-out part."""
    return _bucket(key, seed) < fraction


def subsample_indices(n: int, cap: int | None, *, seed: int = 0) -> list[int]:
    """The sorted indices :func:`subsample` keeps of ``n`` examples."""
    if cap is None or cap >= n:
        return list(range(n))
    return sorted(random.Random(seed).sample(range(n), cap))


def subsample(examples: Sequence[Example], cap: int | None, *, seed: int = 0) -> list[Example]:
    """At most ``cap`` examples, drawn reproducibly (all of them when ``cap`` is None)."""
    return [examples[i] for i in subsample_indices(len(examples), cap, seed=seed)]
