"""The summary rule: one holder's stance toward one target over many sentences.

Every summary stancekit prints uses this rule and only this rule:
:meth:`DocumentResult.summary` (``stancekit analyze --summary``), the corpus tables
(:meth:`Corpus.actor_target`, ``over_time``, ``by_outlet``), the signed network's edges and
``stancekit report``. So an article read alone and a one-article corpus give the same cells.

1. **One vote per sentence.** A holder's judgements of a target within one sentence (two
   mentions, two windows) are averaged first.
2. **The text's own voice counts only the narrator's sentences.** A sentence attributed to
   an actor, as its *speaker* (reported speech: "Pashinian said the CSTO had failed") or
   its *agent* ("Pashinian vetoed the CSTO declaration", "The lawmaker would not be drawn
   on ..."), is left out of the text's own row (:data:`AUTHOR`), which counts such
   sentences in ``n_attributed`` instead: what a quoted or reported official says or does
   is the official's stance, not the outlet's. The per-sentence rows keep both, with their
   ``attribution``. When every sentence that names the target is attributed, the text's
   own row is left out of the summary.
3. **Evidence, not the mean.** ``favor_evidence`` / ``against_evidence`` are the sums of
   p(favor) / p(against) over the sentences counted: the expected number of sentences
   expressing each stance. The label is the stance with more evidence when it reaches
   ``min_evidence`` sentences (:data:`SUMMARY_MIN_EVIDENCE`, 0.75), else ``none``;
   sentiment likewise with positive / negative, else ``neutral``. An actor usually states
   a position in one or two of the sentences naming them, so the label of the mean
   probabilities is nearly always ``none``. 0.75 was chosen by
   ``benchmarks/summary_rule.py`` on groups of labelled sentences standing in for articles
   (DSA validation pairs, NewsMTSC hold-out articles: macro-F1 0.86 against 0.68 for the
   label of the mean on DSA); the seed article was not used.

Over a corpus (many documents, a period, an outlet) the same sums run over every sentence
of the group, and ``documents_favor`` / ``documents_against`` count the documents whose own
cell says so.

Example:
    >>> evidence_label(1.2, 0.3, min_evidence=0.75)
    'favor'
    >>> evidence_label(0.5, 0.3, min_evidence=0.75)
    'none'
    >>> evidence_label(0.1, 0.9, labels=SENTIMENT_LABELS, min_evidence=0.75)
    'negative'
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

__all__ = [
    "ATTRIBUTED",
    "AUTHOR",
    "SENTIMENT_LABELS",
    "STANCE_LABELS",
    "SUMMARY_LEVELS",
    "SUMMARY_MIN_EVIDENCE",
    "check_min_evidence",
    "evidence_label",
    "is_attributed",
    "is_own_state",
]

#: How the text's own voice is shown where a holder name is needed.
AUTHOR = "(author)"
#: Expected sentences of a stance an article needs before its summary shows that stance.
SUMMARY_MIN_EVIDENCE = 0.75
#: ``summary(level=...)``: per actor, or actors rolled up to the country they speak for.
SUMMARY_LEVELS = ("actor", "state")
#: ``(first, second, neither)``: the labels :func:`evidence_label` chooses among.
STANCE_LABELS = ("favor", "against", "none")
SENTIMENT_LABELS = ("positive", "negative", "neutral")
#: Holder attributions that make a sentence an actor's, left out of the text's own row.
ATTRIBUTED = frozenset({"speaker", "agent"})


def check_min_evidence(value: object, where: str = "summary") -> float:
    """``value`` as a float, or a ValueError naming the parameter and the fix."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(
            f"The 'min_evidence' parameter of {where} must be a positive number of sentences "
            f"(default {SUMMARY_MIN_EVIDENCE}). Got {value!r} instead."
        )
    return float(value)


def evidence_label(
    first: float,
    second: float,
    *,
    min_evidence: float = SUMMARY_MIN_EVIDENCE,
    labels: tuple[str, str, str] = STANCE_LABELS,
) -> str:
    """``labels[0]`` or ``labels[1]``, whichever has more evidence (``first`` on a tie), if
    that evidence reaches ``min_evidence``; else ``labels[2]``."""
    if max(first, second) < min_evidence:
        return labels[2]
    return labels[0] if first >= second else labels[1]


def is_own_state(state: str, target_names: Iterable[str]) -> bool:
    """Whether the country ``state`` is the target named ``target_names`` (a name, an
    alias, or the country a name points to): a state is not judged toward itself."""
    return _own_state(state, tuple(target_names))


@lru_cache(maxsize=4096)
def _own_state(state: str, names: tuple[str, ...]) -> bool:
    """:func:`is_own_state`, cached: it runs once per judgement or corpus row."""
    from stancekit.actors.gazetteer import country_of

    return state.casefold() in {n.casefold() for n in names} or any(
        country_of(n) == state for n in names
    )


def is_attributed(attributions: Iterable[object]) -> bool:
    """True when a sentence whose holders have these ``attributions`` is an actor's
    (speaker or agent), so it does not count toward the text's own row."""
    return any(a in ATTRIBUTED for a in attributions)
