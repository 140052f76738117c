"""Checks of fine-tuning data, run before any training starts.

Errors (:class:`FineTuneInputError`) stop the run with counts and the fix; warnings are
returned as strings, logged, and stored in the result and the model card.

>>> from stancekit.spans import GoldDocument, GoldSpan
>>> span = GoldSpan(0, 21, "Zas", "NATO", stance="favor")
>>> absent_targets([GoldDocument("a", "Zas praised the CSTO.", (span,))])[0][:30]
'1 of 1 spans name a target tha'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stancekit.errors import StancekitError
from stancekit.spans import GoldDocument, SpanSet
from stancekit.training.data import Example

__all__ = [
    "FineTuneInputError",
    "absent_targets",
    "check_class_counts",
    "check_problems",
    "duplicated_documents",
]


class FineTuneInputError(StancekitError, ValueError):
    """The fine-tuning data cannot train a model as given (the message says why and how
    to fix it)."""


def check_problems(spans: SpanSet | None, *, name: str, limit: int = 5) -> list[str]:
    """Raise on the span set's errors (unknown labels, bad offsets, ...); return its notes
    as warnings."""
    if spans is None:
        return []
    errors = [p for p in spans.problems if p.kind == "error"]
    if errors:
        shown = "\n  ".join(str(p) for p in errors[:limit])
        more = f"\n  ... and {len(errors) - limit} more" if len(errors) > limit else ""
        raise FineTuneInputError(
            f"{name}: {len(errors)} problem(s) in the labelled spans; fix them (labels are "
            f"stance favor|against|none and sentiment positive|neutral|negative):\n  "
            f"{shown}{more}"
        )
    return [f"{name}: {p}" for p in spans.problems]


def check_class_counts(
    train: Sequence[Example], dev: Sequence[Example], *, min_per_class: int
) -> None:
    """Every label used in train or dev needs ``min_per_class`` training spans, and a head
    with labels needs two labels at least; else :class:`FineTuneInputError` with counts."""
    from stancekit.finetuning.data import class_counts

    tr, dv = class_counts(train), class_counts(dev)
    if not sum(tr["stance"].values()) and not sum(tr["sentiment"].values()):
        raise FineTuneInputError("train: no span has a stance or sentiment label")
    for head in ("stance", "sentiment"):
        used = set(tr[head]) | set(dv[head])
        if not used:
            continue
        counts = {lab: tr[head].get(lab, 0) for lab in sorted(used)}
        few = {lab: n for lab, n in counts.items() if n < min_per_class}
        if few:
            raise FineTuneInputError(
                f"train: too few {head} examples of {sorted(few)} (training counts {counts}, "
                f"min_per_class={min_per_class}); label more spans of those classes, drop "
                f"them from the data, or lower min_per_class"
            )
        if len(tr[head]) == 1:
            raise FineTuneInputError(
                f"train: every {head} label is {next(iter(tr[head]))!r} ({counts}); a "
                "classifier needs at least two labels to learn from"
            )


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def duplicated_documents(train: Sequence[GoldDocument], dev: Sequence[GoldDocument]) -> None:
    """Raise when a document (same id or same text) sits in both train and dev."""
    ids = {d.id for d in train}
    texts = {_norm(d.text): d.id for d in train}
    dup = [
        (d.id, texts.get(_norm(d.text), d.id)) for d in dev if d.id in ids or _norm(d.text) in texts
    ]
    if dup:
        shown = ", ".join(f"dev {a!r} = train {b!r}" for a, b in dup[:5])
        raise FineTuneInputError(
            f"{len(dup)} document(s) are in both train and dev ({shown}); the dev figures "
            "would be inflated. Remove them from one side, or give no dev set to split "
            "by document automatically"
        )


def absent_targets(docs: Sequence[GoldDocument], *, limit: int = 3) -> list[str]:
    """A warning when spans name a target that occurs nowhere in their unit (case-
    insensitive, and with no target mention): the model then sees it only by name."""
    missing: list[str] = []
    total = 0
    for d in docs:
        for s in d.spans:
            total += 1
            unit = d.text[s.start : s.end].lower()
            if s.target_mention is None and s.target.lower() not in unit:
                missing.append(f"{s.target!r} in {d.id!r}")
    if not missing:
        return []
    return [
        f"{len(missing)} of {total} spans name a target that does not occur in their unit "
        f"(e.g. {', '.join(missing[:limit])}); fine for topic stance, else check the "
        "target names or add target_mention offsets"
    ]
