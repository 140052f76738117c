"""Stage 5: judgements and their summaries.

A :class:`Judgement` is one (sentence, holder, target) decision with its probabilities and
the offsets of its evidence. A :class:`DocumentResult` holds a document's judgements and
sums them up per holder x target (:meth:`DocumentResult.summary`). Every object has
``to_dict()``; tables come from ``to_dataframe()``.

Example:
    >>> from stancekit import StanceAnalyzer          # doctest: +SKIP
    >>> result = StanceAnalyzer().analyze("Zas praised the CSTO.")  # doctest: +SKIP
    >>> result.to_dataframe()[["holder", "target", "stance"]]       # doctest: +SKIP
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stancekit.document import Document, Mention, Sentence
from stancekit.targets import Target

if TYPE_CHECKING:
    import pandas as pd

    from stancekit.actors import Actor

__all__ = ["AUTHOR", "DocumentResult", "Judgement", "Summary", "SummaryRow"]

#: How the text's own voice is shown where a holder name is needed.
AUTHOR = "(author)"


@dataclass(frozen=True)
class Judgement:
    """The stance of one holder toward one target in one sentence.

    Attributes:
        document_id: id of the document.
        sentence: the sentence judged (offsets into the document text).
        holder: the actor holding the stance, or None for the text's own voice.
        target: the target.
        stance, stance_probs: predicted label and probabilities over favor/against/none.
        sentiment, sentiment_probs: label and probabilities over positive/neutral/negative
            (how the sentence portrays the target).
        holder_mention, target_mention: the evidence in the sentence (None when the holder
            is attributed from outside the sentence, or is the author).
        attribution: how the holder was found: ``speaker``, ``agent`` or ``author``.
        flags: notes on the input, e.g. ``windowed`` (sentence longer than the model window).
    """

    document_id: str
    sentence: Sentence
    holder: Actor | None
    target: Target
    stance: str
    stance_probs: Mapping[str, float]
    sentiment: str
    sentiment_probs: Mapping[str, float]
    holder_mention: Mention | None = None
    target_mention: Mention | None = None
    attribution: str = "author"
    flags: tuple[str, ...] = ()

    @property
    def holder_name(self) -> str:
        """The holder's canonical name, or ``(author)``."""
        return self.holder.name if self.holder is not None else AUTHOR

    def to_dict(self) -> dict[str, Any]:
        """A flat record: one row of :meth:`DocumentResult.to_dataframe`."""
        hm, tm = self.holder_mention, self.target_mention
        row: dict[str, Any] = {
            "document_id": self.document_id,
            "sentence_index": self.sentence.index,
            "sentence_start": self.sentence.start,
            "sentence_end": self.sentence.end,
            "sentence": self.sentence.text,
            "holder": None if self.holder is None else self.holder.name,
            "holder_kind": None if self.holder is None else self.holder.kind,
            "attribution": self.attribution,
            "target": self.target.name,
            "stance": self.stance,
        }
        row.update({f"p_{k}": float(v) for k, v in self.stance_probs.items()})
        row["sentiment"] = self.sentiment
        row.update({f"p_{k}": float(v) for k, v in self.sentiment_probs.items()})
        row.update(
            holder_start=None if hm is None else hm.start,
            holder_end=None if hm is None else hm.end,
            holder_text=None if hm is None else hm.text,
            target_start=None if tm is None else tm.start,
            target_end=None if tm is None else tm.end,
            target_text=None if tm is None else tm.text,
            flags=",".join(self.flags),
        )
        return row


@dataclass(frozen=True)
class SummaryRow:
    """A holder's stance toward a target over one document.

    Probabilities are means over the sentences judged; ``stance`` is the label with the
    highest mean probability; ``evidence`` is the sentence with the most confident
    favor/against judgement.
    """

    document_id: str
    holder: str | None
    target: str
    n_sentences: int
    stance: str
    stance_probs: Mapping[str, float]
    sentiment: str
    sentiment_probs: Mapping[str, float]
    evidence: Sentence

    def to_dict(self) -> dict[str, Any]:
        """A flat record: one row of :meth:`Summary.to_dataframe`."""
        row: dict[str, Any] = {
            "document_id": self.document_id,
            "holder": self.holder,
            "target": self.target,
            "n_sentences": self.n_sentences,
            "stance": self.stance,
        }
        row.update({f"p_{k}": v for k, v in self.stance_probs.items()})
        row["sentiment"] = self.sentiment
        row.update({f"p_{k}": v for k, v in self.sentiment_probs.items()})
        row.update(
            evidence_index=self.evidence.index,
            evidence_start=self.evidence.start,
            evidence_end=self.evidence.end,
            evidence=self.evidence.text,
        )
        return row


@dataclass(frozen=True)
class Summary:
    """Holder x target rows for one document (see :class:`SummaryRow`)."""

    rows: tuple[SummaryRow, ...]

    def to_dict(self) -> dict[str, Any]:
        """``{"rows": [...]}``."""
        return {"rows": [r.to_dict() for r in self.rows]}

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per row."""
        return [r.to_dict() for r in self.rows]

    def to_dataframe(self) -> pd.DataFrame:
        """The rows as a pandas DataFrame."""
        return _frame(self.to_records(), _SUMMARY_COLUMNS)


@dataclass(frozen=True)
class DocumentResult:
    """Everything stancekit found in one document.

    ``error`` is set (and ``judgements`` empty) when the document could not be analysed;
    ``analyze_many`` yields such results instead of stopping the batch.
    """

    document: Document
    targets: tuple[Target, ...]
    actors: tuple[Actor, ...] = ()
    judgements: tuple[Judgement, ...] = ()
    error: str | None = None
    flags: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the document was analysed without error."""
        return self.error is None

    def summary(self) -> Summary:
        """Holder x target summary: mean probabilities, label, sentences, strongest evidence."""
        groups: dict[tuple[str | None, str], list[Judgement]] = defaultdict(list)
        for j in self.judgements:
            groups[(None if j.holder is None else j.holder.name, j.target.name)].append(j)
        rows = []
        for (holder, target), js in groups.items():
            st = _mean([j.stance_probs for j in js])
            se = _mean([j.sentiment_probs for j in js])
            best = max(
                js,
                key=lambda j: max(
                    (p for k, p in j.stance_probs.items() if k != "none"), default=0.0
                ),
            )
            rows.append(
                SummaryRow(
                    document_id=self.document.id,
                    holder=holder,
                    target=target,
                    n_sentences=len({j.sentence.index for j in js}),
                    stance=max(st, key=st.__getitem__),
                    stance_probs=st,
                    sentiment=max(se, key=se.__getitem__),
                    sentiment_probs=se,
                    evidence=best.sentence,
                )
            )
        return Summary(tuple(rows))

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per judgement (see :meth:`Judgement.to_dict`)."""
        return [j.to_dict() for j in self.judgements]

    def to_dataframe(self) -> pd.DataFrame:
        """The judgements as a pandas DataFrame, one row per (sentence, holder, target)."""
        return _frame(self.to_records(), _JUDGEMENT_COLUMNS)

    def to_dict(self) -> dict[str, Any]:
        """The whole result: document (with sentences), targets, actors, judgements."""
        return {
            "document": self.document.to_dict(),
            "targets": [t.to_dict() for t in self.targets],
            "actors": [a.to_dict() for a in self.actors],
            "judgements": self.to_records(),
            "error": self.error,
            "flags": list(self.flags),
        }


#: The label columns shared by judgement and summary tables (default model's labels).
_LABEL_COLUMNS = [
    *("stance", "p_favor", "p_against", "p_none"),
    *("sentiment", "p_positive", "p_neutral", "p_negative"),
]
_JUDGEMENT_COLUMNS = [
    *("document_id", "sentence_index", "sentence_start", "sentence_end", "sentence"),
    *("holder", "holder_kind", "attribution", "target"),
    *_LABEL_COLUMNS,
    *("holder_start", "holder_end", "holder_text", "target_start", "target_end"),
    *("target_text", "flags"),
]
_SUMMARY_COLUMNS = [
    *("document_id", "holder", "target", "n_sentences"),
    *_LABEL_COLUMNS,
    *("evidence_index", "evidence_start", "evidence_end", "evidence"),
]


def _frame(records: list[dict[str, Any]], default_columns: list[str]) -> pd.DataFrame:
    """A DataFrame of ``records``; with no records, empty with the usual columns."""
    import pandas as pd

    return pd.DataFrame.from_records(
        records, columns=list(records[0]) if records else default_columns
    )


def _mean(dists: list[Mapping[str, float]]) -> dict[str, float]:
    keys = list(dists[0])
    return {k: sum(d[k] for d in dists) / len(dists) for k in keys}
