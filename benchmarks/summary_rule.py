"""Which rule should turn sentence judgements into one article-level stance?

    PYTHONPATH=. python benchmarks/summary_rule.py [--data ../shared/data] [--model DIR]

An article names an actor in several sentences and most of them carry no stance toward a
given target, so the mean of the sentence probabilities is dominated by ``none`` even when
one sentence states the actor's position plainly. This script scores candidate rules on
groups of labelled sentences that stand in for articles, none of them from the seed:

``dsa_valid``
    stance: all sentences of the DSA validation split with the same (holder, target)
    names (lower-cased) form a group.
``newsmtsc_heldout``
    sentiment (positive/negative play favor/against): the sentences of one article about
    one person in the default recipe's NewsMTSC hold-out (held out by story or article).

A group's gold label is what a reader would say: ``none`` (``neutral``) when every
sentence is ``none``, otherwise the majority of its non-none labels (ties are left out).
Groups of one sentence are left out too: they do not test aggregation.

Rules, over the group's calibrated sentence probabilities ``p``:

``mean``
    the label with the highest mean probability (stancekit 0.2's summary);
``evidence >= t``
    ``E_favor = sum(p_favor)`` and ``E_against = sum(p_against)`` are the expected numbers
    of sentences that express each stance; the larger wins if it is at least ``t``,
    otherwise ``none``.

It prints macro-F1 with a 95% bootstrap CI (over groups) per rule and data set; the seed
article is not used, so its summary stays an out-of-sample check.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stancekit.evaluation.metrics import bootstrap_ci, f1_per_class
from stancekit.scoring.model import StanceModel, default_model_path
from stancekit.training.config import RecipeConfig
from stancekit.training.data import Example, read_labelled_spans
from stancekit.training.sets import load_heldout_sets

THRESHOLDS = (0.25, 0.5, 0.75, 1.0)
LABELS = ("favor", "against", "none")


def groups_of(
    exs: Sequence[Example], probs: np.ndarray, head: str, key: str
) -> list[tuple[int, np.ndarray]]:
    """``(gold, probs)`` per group of two or more sentences, favor/against/none order
    (sentiment positive/negative/neutral is reordered to match)."""
    by: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, e in enumerate(exs):
        if key == "pair":
            k = ((e.pair.holder or "").lower(), e.pair.target.lower())
        else:
            m = re.match(r"(allsides_\d+|polusa_v1_\d+)", e.doc_id)
            k = (m.group(1) if m else e.doc_id, e.pair.target.lower())
        by[k].append(i)
    order = [0, 1, 2] if head == "stance" else [0, 2, 1]  # pos, neg, neutral
    out = []
    for idx in by.values():
        if len(idx) < 2:
            continue
        gold = [order.index(getattr(exs[i], head)) for i in idx]
        stanced = Counter(g for g in gold if g != 2).most_common()
        if not stanced:
            label = 2
        elif len(stanced) > 1 and stanced[0][1] == stanced[1][1]:
            continue
        else:
            label = stanced[0][0]
        out.append((label, probs[idx][:, order]))
    return out


def rule_mean(p: np.ndarray) -> int:
    return int(p.mean(0).argmax())


def rule_evidence(t: float):  # type: ignore[no-untyped-def]
    def rule(p: np.ndarray) -> int:
        e = p[:, :2].sum(0)
        return int(e.argmax()) if e.max() >= t else 2

    return rule


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="../shared/data", type=Path)
    ap.add_argument("--model", default=str(default_model_path()))
    ap.add_argument("--config", default="configs/default-model.json")
    ap.add_argument("--bootstrap", type=int, default=1000)
    a = ap.parse_args(argv)
    model = StanceModel.load(a.model)
    held = load_heldout_sets(RecipeConfig.from_json(a.config), a.data)
    sets = {
        "dsa_valid": (read_labelled_spans(a.data / "dsa_valid.jsonl"), "stance", "pair"),
        "newsmtsc_heldout": (held["newsmtsc_heldout"], "sentiment", "article"),
    }
    rules = {"mean": rule_mean} | {f"evidence >= {t}": rule_evidence(t) for t in THRESHOLDS}
    print(f"model {a.model}")
    for name, (exs, head, key) in sets.items():
        scores = model.predict([e.pair for e in exs])
        groups = groups_of(exs, getattr(scores, head), head, key)
        y = np.array([g for g, _ in groups])
        print(f"\n{name}: {len(groups)} groups of 2+ sentences, gold {dict(Counter(y.tolist()))}")
        for rname, rule in rules.items():
            pred = np.array([rule(p) for _, p in groups])
            present = sorted(set(y.tolist()))

            def mf1(t: np.ndarray, p: np.ndarray, cols: list[int] = present) -> float:
                return float(f1_per_class(t, p, 3)[cols].mean())

            est = mf1(y, pred)
            lo, hi = bootstrap_ci(mf1, y, pred, n_bootstrap=a.bootstrap, seed=13)
            print(f"  {rname:16s} macro-F1 {est:.3f} [{lo:.3f}, {hi:.3f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
