"""Stage 5: judgements and their summaries.

A :class:`Judgement` is one (sentence, holder, target) decision with its probabilities and
the offsets of its evidence. A :class:`DocumentResult` holds a document's judgements and
sums them up per holder x target (:meth:`DocumentResult.summary`). Every object has
``to_dict()``; tables come from ``to_dataframe()``; :func:`json_line` writes one record as
a line of JSON Lines. :class:`BatchSummary` counts what a batch analysed, skipped and flagged.

Probabilities in records (``to_dict``, ``to_records``, ``to_dataframe``) are rounded to
:data:`PROB_DECIMALS` decimals. The model's float32 arithmetic depends on how pairs are
batched (padding and matrix shapes change the order of sums), so probabilities differ by up
to about 1e-6 between batch sizes; rounding to 4 decimals hides that: on the seed article
the default model gives byte-identical JSON Lines with ``StanceAnalyzer(batch_size=1 / 7 /
64)`` (at 6 decimals, 18 of 29 lines differed). It is not a proof: a probability within
1e-6 of a rounding boundary can still round both ways. Summaries are computed from the
rounded probabilities of their judgements, so a summary is identical whenever its rows are
(summing the raw probabilities let a sum land on either side of a boundary: seen with model
0.3.0 on the seed). Runs with the same input, model, version and batch sizes are identical.
The ``stance_probs`` / ``sentiment_probs`` mappings of judgements keep full precision.

Example:
    >>> from stancekit import StanceAnalyzer          # doctest: +SKIP
    >>> result = StanceAnalyzer().analyze("Zas praised the CSTO.")  # doctest: +SKIP
    >>> result.to_dataframe()[["holder", "target", "stance"]]       # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from stancekit.actors.targets import Target
from stancekit.results.summarize import (
    AUTHOR,
    SENTIMENT_LABELS,
    STANCE_LABELS,
    SUMMARY_LEVELS,
    SUMMARY_MIN_EVIDENCE,
    check_min_evidence,
    evidence_label,
    is_attributed,
    is_own_state,
)
from stancekit.text.document import Document, Mention, Sentence

if TYPE_CHECKING:
    import pandas as pd

    from stancekit.actors import Actor

__all__ = [
    "AUTHOR",
    "PROB_DECIMALS",
    "SUMMARY_LEVELS",
    "SUMMARY_MIN_EVIDENCE",
    "BatchSummary",
    "DocumentResult",
    "Judgement",
    "Summary",
    "SummaryRow",
    "json_line",
]

#: Decimals kept for probabilities in records and JSON output (see the module docstring).
PROB_DECIMALS = 4
_SURROGATE = re.compile("[\ud800-\udfff]")


def _rounded(probs: Mapping[str, float]) -> dict[str, float]:
    """``probs`` rounded to :data:`PROB_DECIMALS` (the one place that rounds)."""
    return {k: round(float(v), PROB_DECIMALS) for k, v in probs.items()}


def _probs(probs: Mapping[str, float]) -> dict[str, float]:
    """``p_<label>`` columns, rounded (see :func:`_rounded`)."""
    return {f"p_{k}": v for k, v in _rounded(probs).items()}


def json_line(record: Mapping[str, Any]) -> str:
    """``record`` as one line of JSON (no trailing newline): UTF-8 characters as they are,
    keys in record order, no NaN. Surrogate code points (from lone ``\\ud800`` escapes in
    the input) are written as ``\\uXXXX`` escapes, so the line can be encoded as UTF-8 and
    reads back to the same string."""
    line = json.dumps(record, ensure_ascii=False, allow_nan=False)
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", line)


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
        flags: notes on the input: ``windowed`` (sentence longer than the model window),
            ``no_target_mention`` (the target is not mentioned in the judged unit); see
            ``stancekit.text.screening.FLAGS`` and ``docs/bad-input.md``.
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
            "holder_state": None if self.holder is None else self.holder.state,
            "attribution": self.attribution,
            "target": self.target.name,
            "stance": self.stance,
        }
        row.update(_probs(self.stance_probs))
        row["sentiment"] = self.sentiment
        row.update(_probs(self.sentiment_probs))
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
    """A holder's stance toward a target over one document, by the summary rule of
    :mod:`stancekit.results.summarize` (the same rule as the corpus tables and the report).

    Probabilities are means over the sentences counted (``n_sentences``). ``favor_evidence``
    and ``against_evidence`` are sums over them: the expected number of sentences that
    express each stance (likewise ``positive_evidence`` / ``negative_evidence``).
    ``stance`` is the stance with more evidence when it reaches ``min_evidence`` sentences
    (:data:`SUMMARY_MIN_EVIDENCE`), else ``none``; ``sentiment`` likewise (else
    ``neutral``). ``n_attributed`` (text's own row only) counts the sentences left out
    because an actor speaks or acts in them. ``evidence`` is the counted sentence with the most
    confident favor/against judgement.
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
    favor_evidence: float = 0.0
    against_evidence: float = 0.0
    positive_evidence: float = 0.0
    negative_evidence: float = 0.0
    n_attributed: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A flat record: one row of :meth:`Summary.to_dataframe`."""
        row: dict[str, Any] = {
            "document_id": self.document_id,
            "holder": self.holder,
            "target": self.target,
            "n_sentences": self.n_sentences,
            "n_attributed": self.n_attributed,
            "stance": self.stance,
        }
        row.update(_probs(self.stance_probs))
        row["favor_evidence"] = round(self.favor_evidence, PROB_DECIMALS)
        row["against_evidence"] = round(self.against_evidence, PROB_DECIMALS)
        row["sentiment"] = self.sentiment
        row.update(_probs(self.sentiment_probs))
        row["positive_evidence"] = round(self.positive_evidence, PROB_DECIMALS)
        row["negative_evidence"] = round(self.negative_evidence, PROB_DECIMALS)
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

    ``error`` is set (``"<ErrorClass>: <message>"``, and ``judgements`` empty) when the
    document could not be analysed; ``analyze_many`` yields such results instead of
    stopping the batch. ``flags`` note what screening and analysis found (``empty``,
    ``html``, ``non_english``, ``duplicate_id``...; see ``stancekit.text.screening.FLAGS`` and
    ``docs/bad-input.md``).
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

    def summary(
        self, *, min_evidence: float = SUMMARY_MIN_EVIDENCE, level: str = "actor"
    ) -> Summary:
        """Holder x target summary by the rule of :mod:`stancekit.results.summarize`: one vote per
        sentence; the text's own row counts only the narrator's sentences (a sentence
        attributed to a speaker or agent is counted in ``n_attributed`` instead); the label
        is the stance (sentiment) whose expected number of sentences, the sum of its
        probability, is larger, provided it reaches ``min_evidence`` (0.75); otherwise
        ``none`` (``neutral``).

        ``level="state"`` rolls each actor up to the country it is or speaks for
        (:attr:`~stancekit.actors.Actor.state`: "Armenian Foreign Minister Ararat Mirzoyan"
        and "Pashinian, Armenia's prime minister" are both ``Armenia``; one vote per
        sentence still), keeps actors of no known country as they are, and leaves out a
        state judged toward itself (Azerbaijan's president toward Azerbaijan).
        """
        floor = check_min_evidence(min_evidence, "summary")
        if level not in SUMMARY_LEVELS:
            raise ValueError(
                f"The 'level' parameter of summary must be one of {list(SUMMARY_LEVELS)} "
                f"(per actor, or actors rolled up to their country). Got {level!r} instead."
            )
        attributed = _attributed_sentences(self.judgements)
        groups: dict[tuple[str | None, str], list[Judgement]] = defaultdict(list)
        for j in self.judgements:
            holder = None if j.holder is None else j.holder.name
            if level == "state" and j.holder is not None and j.holder.state:
                holder = j.holder.state
                if is_own_state(holder, j.target.names):
                    continue
            groups[(holder, j.target.name)].append(j)
        rows = []
        for (holder, target), every in groups.items():
            js, n_attributed = every, 0
            if holder is None:  # the text's own voice: the narrator's sentences only
                js = [j for j in every if j.sentence.index not in attributed]
                n_attributed = len({j.sentence.index for j in every} & attributed)
            if not js:
                continue
            # from the rounded probabilities the records show: a summary is then identical
            # whenever its rows are (float sums of the raw ones vary with batching)
            st_r = [_rounded(j.stance_probs) for j in js]
            se_r = [_rounded(j.sentiment_probs) for j in js]
            by_sentence: dict[int, list[int]] = defaultdict(list)
            for i, j in enumerate(js):
                by_sentence[j.sentence.index].append(i)
            st_s = [_mean([st_r[i] for i in g]) for g in by_sentence.values()]
            se_s = [_mean([se_r[i] for i in g]) for g in by_sentence.values()]
            st, se = _mean(st_s), _mean(se_s)
            fav, ag = sum(d["favor"] for d in st_s), sum(d["against"] for d in st_s)
            pos, neg = sum(d["positive"] for d in se_s), sum(d["negative"] for d in se_s)
            best = js[
                max(
                    range(len(js)),
                    key=lambda i: max((p for k, p in st_r[i].items() if k != "none"), default=0.0),
                )
            ]
            rows.append(
                SummaryRow(
                    document_id=self.document.id,
                    holder=holder,
                    target=target,
                    n_sentences=len(by_sentence),
                    stance=evidence_label(fav, ag, min_evidence=floor, labels=STANCE_LABELS),
                    stance_probs=st,
                    sentiment=evidence_label(pos, neg, min_evidence=floor, labels=SENTIMENT_LABELS),
                    sentiment_probs=se,
                    evidence=best.sentence,
                    favor_evidence=fav,
                    against_evidence=ag,
                    positive_evidence=pos,
                    negative_evidence=neg,
                    n_attributed=n_attributed,
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


@dataclass
class BatchSummary:
    """Running counts over the results of a batch: pass one to
    ``StanceAnalyzer.analyze_many(..., summary=...)``, or call :meth:`add` on each result.

    Attributes:
        n_documents: results seen.
        n_analysed: results without error.
        n_judgements: judgements in all results.
        skipped: why documents were skipped: the error's class (``TypeError``,
            ``DocumentTooLargeError``...) -> documents.
        flagged: document flag -> documents carrying it (see ``stancekit.text.screening.FLAGS``).
        judged_targets: target name -> documents in which it was judged at least once.
    """

    n_documents: int = 0
    n_analysed: int = 0
    n_judgements: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    flagged: Counter[str] = field(default_factory=Counter)
    judged_targets: Counter[str] = field(default_factory=Counter)
    _targets: dict[str, None] = field(default_factory=dict, repr=False)

    def add(self, result: DocumentResult) -> None:
        """Count one result."""
        self.n_documents += 1
        self._targets.update(dict.fromkeys(t.name for t in result.targets))
        self.flagged.update(result.flags)
        if result.error is not None:
            self.skipped[result.error.split(":", 1)[0]] += 1
            return
        self.n_analysed += 1
        self.n_judgements += len(result.judgements)
        self.judged_targets.update({j.target.name for j in result.judgements})

    @property
    def n_skipped(self) -> int:
        """Documents that could not be analysed (their results have ``error`` set)."""
        return self.n_documents - self.n_analysed

    @property
    def unmentioned_targets(self) -> tuple[str, ...]:
        """Targets judged in no analysed document: check their spelling and aliases."""
        return tuple(t for t in self._targets if t not in self.judged_targets)

    def to_dict(self) -> dict[str, Any]:
        """The counts as a plain dict."""
        return {
            "n_documents": self.n_documents,
            "n_analysed": self.n_analysed,
            "n_skipped": self.n_skipped,
            "n_judgements": self.n_judgements,
            "skipped": dict(sorted(self.skipped.items())),
            "flagged": dict(sorted(self.flagged.items())),
            "judged_targets": dict(self.judged_targets),
            "unmentioned_targets": list(self.unmentioned_targets),
        }

    def __str__(self) -> str:
        def counts(c: Counter[str]) -> str:
            return ", ".join(f"{k} {v}" for k, v in sorted(c.items()))

        out = f"{self.n_documents} documents: {self.n_analysed} analysed"
        if self.skipped:
            out += f", {self.n_skipped} skipped ({counts(self.skipped)})"
        if self.flagged:
            out += f"; flagged: {counts(self.flagged)}"
        if self.n_analysed and self.unmentioned_targets:
            out += f"; never mentioned: {', '.join(self.unmentioned_targets)}"
        return out


#: The label columns shared by judgement and summary tables (default model's labels).
_LABEL_COLUMNS = [
    *("stance", "p_favor", "p_against", "p_none"),
    *("sentiment", "p_positive", "p_neutral", "p_negative"),
]
_JUDGEMENT_COLUMNS = [
    *("document_id", "sentence_index", "sentence_start", "sentence_end", "sentence"),
    *("holder", "holder_kind", "holder_state", "attribution", "target"),
    *_LABEL_COLUMNS,
    *("holder_start", "holder_end", "holder_text", "target_start", "target_end"),
    *("target_text", "flags"),
]
_SUMMARY_COLUMNS = [
    *("document_id", "holder", "target", "n_sentences", "n_attributed"),
    *("stance", "p_favor", "p_against", "p_none", "favor_evidence", "against_evidence"),
    *("sentiment", "p_positive", "p_neutral", "p_negative"),
    *("positive_evidence", "negative_evidence"),
    *("evidence_index", "evidence_start", "evidence_end", "evidence"),
]


#: Character offsets and indices that may be missing (the author has no mention): nullable
#: integers in tables, so a CSV says ``9``, not ``9.0``.
_OPTIONAL_INT_COLUMNS = (
    *("holder_start", "holder_end", "target_start", "target_end"),
    *("evidence_index", "evidence_start", "evidence_end"),
)


def _frame(records: list[dict[str, Any]], default_columns: list[str]) -> pd.DataFrame:
    """A DataFrame of ``records``; with no records, empty with the usual columns. Offsets
    that may be missing are nullable integers (``Int64``)."""
    import pandas as pd

    frame = pd.DataFrame.from_records(
        records, columns=list(records[0]) if records else default_columns
    )
    for col in _OPTIONAL_INT_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].astype("Int64")
    return frame


def _attributed_sentences(judgements: Sequence[Judgement]) -> set[int]:
    """Indices of the sentences attributed to an actor (see :func:`is_attributed`)."""
    by_sentence: dict[int, list[str]] = defaultdict(list)
    for j in judgements:
        by_sentence[j.sentence.index].append(j.attribution)
    return {i for i, atts in by_sentence.items() if is_attributed(atts)}


def _mean(dists: Sequence[Mapping[str, float]]) -> dict[str, float]:
    keys = list(dists[0])
    return {k: sum(d[k] for d in dists) / len(dists) for k in keys}
