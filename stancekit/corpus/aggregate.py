"""Corpus tables: actor x target, over time, by outlet, and the top evidence sentences.

Every function takes the corpus's judgement rows (:meth:`Corpus.to_dataframe`) and returns
a DataFrame. Rows are first reduced to one per (document, sentence, holder, target), and the
text's own rows (``(author)``) lose the sentences attributed to an actor, by the summary
rule of :mod:`stancekit.results.summarize` (the one :meth:`DocumentResult.summary` uses), so
means, shares, evidence and bootstrap intervals are over *sentences*:

- ``p_favor`` ... ``p_negative``: mean probabilities over the sentences;
- ``share_favor`` / ``share_against``: the share of sentences whose label is favor/against;
- ``favor_evidence`` / ``against_evidence`` (``positive_evidence`` / ``negative_evidence``):
  the sums of the probabilities, the expected number of sentences expressing each;
- ``stance`` / ``sentiment``: the summary rule's label: the stance with more evidence if it
  reaches ``min_evidence`` (0.75) sentences, else ``none`` (``neutral``); for the sentences
  of one document it is that document's :meth:`~stancekit.DocumentResult.summary` label;
- ``documents_favor`` / ``documents_against``: documents whose own cell is favor/against;
- ``n_attributed``: sentences attributed to an actor (speaker or agent), left out of the
  text's own row;
- ``net``: ``p_favor - p_against`` (from -1, all against, to +1, all favor);
- with ``level="state"`` holders are rolled up to ``holder_state`` first (the country an
  actor is or speaks for; actors of no known country stay as they are) and a state judged
  toward itself is left out, as in ``DocumentResult.summary(level="state")``;
- ``favor_ci_low`` ... ``net_ci_high``: 95% percentile bootstrap intervals of the means,
  resampling sentences (:func:`stancekit.evaluation.metrics.bootstrap_ci`); each contains
  its estimate. With ``n_bootstrap=0`` they are NaN.

Example:
    >>> import pandas as pd
    >>> rows = pd.DataFrame({"document_id": ["d", "d"], "sentence_index": [0, 1],
    ...     "holder": ["Zas", "Zas"], "target": ["CSTO", "CSTO"],
    ...     "p_favor": [0.8, 0.6], "p_against": [0.1, 0.2], "p_none": [0.1, 0.2]})
    >>> table = actor_target(rows, n_bootstrap=50)
    >>> cols = ["holder", "n_sentences", "p_favor", "favor_evidence", "stance"]
    >>> table[cols].round(2).to_dict("records")
    [{'holder': 'Zas', 'n_sentences': 2, 'p_favor': 0.7, 'favor_evidence': 1.4, 'stance': 'favor'}]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from stancekit.evaluation.metrics import bootstrap_ci
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

__all__ = [
    "FREQUENCIES",
    "SENTIMENT_COLUMNS",
    "STANCE_COLUMNS",
    "actor_target",
    "by_outlet",
    "evidence",
    "narrator_rows",
    "over_time",
    "sentence_rows",
    "state_rows",
]

STANCE_COLUMNS = ("p_favor", "p_against", "p_none")
SENTIMENT_COLUMNS = ("p_positive", "p_neutral", "p_negative")
#: ``over_time`` frequencies: day, week (Monday to Sunday), calendar month.
FREQUENCIES = {"D": "D", "W": "W-SUN", "M": "M"}
_KEYS = ["document_id", "sentence_index", "holder", "target"]
_STAT_COLUMNS = [
    *("n_sentences", "n_documents", "n_attributed", *STANCE_COLUMNS, *SENTIMENT_COLUMNS),
    *("share_favor", "share_against", "favor_evidence", "against_evidence"),
    *("positive_evidence", "negative_evidence", "stance", "sentiment"),
    *("documents_favor", "documents_against", "net"),
    *("favor_ci_low", "favor_ci_high", "against_ci_low", "against_ci_high"),
    *("net_ci_low", "net_ci_high"),
]


def sentence_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (document, sentence, holder, target): probabilities averaged, the other
    columns taken from the first judgement."""
    probs = [c for c in (*STANCE_COLUMNS, *SENTIMENT_COLUMNS) if c in rows.columns]
    if rows.empty or not rows.duplicated(_KEYS).any():
        return rows.reset_index(drop=True)
    others = [c for c in rows.columns if c not in probs and c not in _KEYS]
    agg: dict[str, Any] = {c: "mean" for c in probs}
    agg.update(dict.fromkeys(others, "first"))
    out = rows.groupby(_KEYS, sort=False, dropna=False).agg(agg).reset_index()
    return out[list(rows.columns)]


def state_rows(rows: pd.DataFrame, level: str = "state") -> pd.DataFrame:
    """``rows`` at ``level``: ``"actor"`` as they are; ``"state"`` with each holder that has
    a ``holder_state`` replaced by it, less the rows of a state toward itself."""
    if level not in SUMMARY_LEVELS:
        raise ValueError(
            f"The 'level' parameter must be one of {list(SUMMARY_LEVELS)} (per actor, or "
            f"actors rolled up to their country). Got {level!r} instead."
        )
    if level == "actor" or rows.empty:
        return rows
    if "holder_state" not in rows.columns:
        raise ValueError(
            "level='state' needs the holder_state column, which results written by "
            "stancekit before 1.0 lack: analyse the articles again"
        )
    state = rows["holder_state"]
    known = state.notna()
    own = [
        bool(k) and is_own_state(s, (str(t),))
        for k, s, t in zip(known, state, rows["target"], strict=True)
    ]
    return rows.assign(holder=state.where(known, rows["holder"]))[~pd.Series(own, rows.index)]


def narrator_rows(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``rows`` split into those the summary rule counts and the text's own rows
    (``holder == "(author)"``) that it leaves out because their sentence is attributed to an actor
    (:func:`~stancekit.results.summarize.is_attributed`). Without an ``attribution``
    column nothing is
    left out."""
    if rows.empty or "attribution" not in rows.columns:
        return rows, rows.iloc[:0]
    keys = ["document_id", "sentence_index"]
    flags = rows.groupby(keys, sort=False, dropna=False)["attribution"].agg(is_attributed)
    attributed = pd.MultiIndex.from_frame(rows[keys]).isin(flags[flags].index)
    out = attributed & (rows["holder"] == AUTHOR).to_numpy()
    return rows[~out], rows[out]


def _ci(values: np.ndarray, estimate: float, n_bootstrap: int, seed: int) -> tuple[float, float]:
    """Bootstrap interval of the mean of ``values``, widened to contain ``estimate``."""
    if n_bootstrap == 0 or math.isnan(estimate):
        return math.nan, math.nan
    if np.ptp(values) == 0:  # one sentence, or all alike: every resample gives the same
        return estimate, estimate
    lo, hi = bootstrap_ci(
        lambda t, _p: float(t.mean()), values, values, n_bootstrap=n_bootstrap, seed=seed
    )
    return min(lo, estimate), max(hi, estimate)


def _stats(group: pd.DataFrame, n_bootstrap: int, seed: int, floor: float) -> dict[str, Any]:
    means = {
        c: float(group[c].mean()) if c in group.columns else math.nan
        for c in (*STANCE_COLUMNS, *SENTIMENT_COLUMNS)
    }
    sums = {c: float(group[c].sum()) if c in group.columns else math.nan for c in means}
    stance = group[list(STANCE_COLUMNS)].to_numpy(dtype=float)
    labels = stance.argmax(axis=1)
    favor, against = stance[:, 0], stance[:, 1]
    net = favor - against
    per_doc = group.groupby("document_id", sort=False)[["p_favor", "p_against"]].sum()
    cells = [evidence_label(f, a, min_evidence=floor) for f, a in per_doc.to_numpy()]
    row: dict[str, Any] = {
        "n_sentences": len(group),
        "n_documents": group["document_id"].nunique(),
        **means,
        "share_favor": float(np.mean(labels == 0)),
        "share_against": float(np.mean(labels == 1)),
        "favor_evidence": sums["p_favor"],
        "against_evidence": sums["p_against"],
        "positive_evidence": sums["p_positive"],
        "negative_evidence": sums["p_negative"],
        "stance": evidence_label(sums["p_favor"], sums["p_against"], min_evidence=floor),
        "sentiment": None
        if math.isnan(sums["p_positive"])
        else evidence_label(
            sums["p_positive"], sums["p_negative"], min_evidence=floor, labels=SENTIMENT_LABELS
        ),
        "documents_favor": cells.count(STANCE_LABELS[0]),
        "documents_against": cells.count(STANCE_LABELS[1]),
        "net": means["p_favor"] - means["p_against"],
    }
    for name, values in (("favor", favor), ("against", against), ("net", net)):
        estimate = row["net"] if name == "net" else means[f"p_{name}"]
        row[f"{name}_ci_low"], row[f"{name}_ci_high"] = _ci(values, estimate, n_bootstrap, seed)
    return row


def _check_bootstrap(func: str, n_bootstrap: int) -> None:
    if not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise ValueError(
            f"The 'n_bootstrap' parameter of {func} must be an int >= 0 (0: no intervals). "
            f"Got {n_bootstrap!r} instead."
        )


def _summarise(
    rows: pd.DataFrame,
    keys: list[str],
    n_bootstrap: int,
    seed: int,
    min_sentences: int,
    min_evidence: float,
    level: str = "actor",
) -> pd.DataFrame:
    rows, left_out = narrator_rows(sentence_rows(state_rows(rows, level)))
    n_attributed = left_out.groupby(keys, sort=False, dropna=False).size()
    records = []
    if not rows.empty:
        for values, group in rows.groupby(keys, sort=True, dropna=False):
            if len(group) >= min_sentences:
                record = dict(zip(keys, values, strict=True))
                record.update(_stats(group, n_bootstrap, seed, min_evidence))
                record["n_attributed"] = int(n_attributed.get(values, 0))
                records.append(record)
    return pd.DataFrame.from_records(records, columns=[*keys, *_STAT_COLUMNS])


def actor_target(
    rows: pd.DataFrame,
    *,
    n_bootstrap: int = 1000,
    seed: int = 0,
    min_sentences: int = 1,
    min_evidence: float = SUMMARY_MIN_EVIDENCE,
    level: str = "actor",
) -> pd.DataFrame:
    """Holder x target table (see the module docstring for the columns), most sentences
    first. ``min_sentences`` drops pairs seen in fewer sentences; ``min_evidence`` is the
    summary rule's threshold; ``level="state"`` rolls actors up to their country."""
    _check_bootstrap("actor_target", n_bootstrap)
    floor = check_min_evidence(min_evidence, "actor_target")
    table = _summarise(rows, ["holder", "target"], n_bootstrap, seed, min_sentences, floor, level)
    return table.sort_values(
        ["n_sentences", "holder", "target"], ascending=[False, True, True], ignore_index=True
    )


def _filter(rows: pd.DataFrame, actor: str | None, target: str | None) -> pd.DataFrame:
    if actor is not None:
        rows = rows[rows["holder"] == actor]
    if target is not None:
        rows = rows[rows["target"] == target]
    return rows


def over_time(
    rows: pd.DataFrame,
    freq: str = "M",
    *,
    actor: str | None = None,
    target: str | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    min_evidence: float = SUMMARY_MIN_EVIDENCE,
    level: str = "actor",
) -> pd.DataFrame:
    """Holder x target per period: ``period`` is the first day of the day, week (Monday)
    or month (``freq`` ``"D"``, ``"W"``, ``"M"``). Rows without a date are left out;
    ``actor`` and ``target`` keep only that holder (canonical name) and target."""
    if freq not in FREQUENCIES:
        raise ValueError(
            f"The 'freq' parameter of over_time must be one of {sorted(FREQUENCIES)} "
            f"(day, week, month). Got {freq!r} instead."
        )
    _check_bootstrap("over_time", n_bootstrap)
    floor = check_min_evidence(min_evidence, "over_time")
    rows = _filter(rows, actor, target)
    rows = rows[rows["date"].notna()].copy()
    rows["period"] = rows["date"].dt.to_period(FREQUENCIES[freq]).dt.start_time
    return _summarise(rows, ["period", "holder", "target"], n_bootstrap, seed, 1, floor, level)


def by_outlet(
    rows: pd.DataFrame,
    *,
    field: str = "outlet",
    actor: str | None = None,
    target: str | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    min_evidence: float = SUMMARY_MIN_EVIDENCE,
    level: str = "actor",
) -> pd.DataFrame:
    """Outlet x holder x target; documents without the ``field`` value count as
    ``(unknown)``. The holder ``(author)`` is the outlet's own voice."""
    if field not in rows.columns:
        raise ValueError(
            f"The 'field' parameter of by_outlet must name a column of document metadata. "
            f"Got {field!r}, which the corpus lacks (columns: {', '.join(map(str, rows.columns))})"
            ". Add it with Corpus.with_metadata(csv) or pass another field."
        )
    _check_bootstrap("by_outlet", n_bootstrap)
    floor = check_min_evidence(min_evidence, "by_outlet")
    rows = _filter(rows, actor, target).copy()
    rows[field] = rows[field].astype("object").where(rows[field].notna(), "(unknown)")
    return _summarise(rows, [field, "holder", "target"], n_bootstrap, seed, 1, floor, level)


def evidence(rows: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
    """The ``top`` sentences of each holder x target with the most favor/against evidence
    (ranked by ``strength``; a pair whose sentences all read ``none`` still shows its best).
    The text's own voice shows only the sentences the summary rule counts for it.

    Columns: ``holder``, ``target``, ``rank`` (1 = strongest), ``stance`` (the sentence's
    label), ``strength`` (the larger of p_favor and p_against: sentences are ranked by it),
    ``p_favor``, ``p_against``, ``document_id``,
    ``sentence_index``, ``sentence_start``, ``sentence_end``, ``sentence``.
    """
    if not isinstance(top, int) or top < 1:
        raise ValueError(f"The 'top' parameter of evidence must be an int >= 1. Got {top!r}.")
    columns = [
        *("holder", "target", "rank", "stance", "strength", "p_favor", "p_against"),
        *("document_id", "sentence_index", "sentence_start", "sentence_end", "sentence"),
    ]
    rows = narrator_rows(sentence_rows(rows))[0]  # the text's own voice: its own sentences
    if rows.empty:
        return pd.DataFrame(columns=columns)
    rows = rows.assign(
        strength=rows[["p_favor", "p_against"]].max(axis=1),
        stance=[STANCE_COLUMNS[i][2:] for i in rows[list(STANCE_COLUMNS)].to_numpy().argmax(1)],
    )
    rows = rows.sort_values(
        ["holder", "target", "strength", "document_id", "sentence_index"],
        ascending=[True, True, False, True, True],
    )
    rows["rank"] = rows.groupby(["holder", "target"]).cumcount() + 1
    return rows[rows["rank"] <= top][columns].reset_index(drop=True)
