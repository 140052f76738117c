"""Few-shot learning curve of ``stancekit.finetune`` on a target family the default model
never saw.

The family is the default recipe's zero-shot hold-out: the VAST topics that
``configs/default-model.json`` keeps out of training (``vast_dev.jsonl``, half of the
topics by a seeded hash, ``seed`` 13). VAST pairs one comment with several topics, so the
comments are grouped into documents by text (one document, several spans). The documents
are split once, seeded, into a training pool and an evaluation set; fine-tunes on 50,
100, 200 and 500 spans draw nested document subsets from the pool, and every model,
including the zero-shot default, is scored on the same evaluation set with the
evaluation harness (stance macro-F1, 95% bootstrap CI) and compared with the default by
a paired bootstrap.

Run (about 15 minutes on 2 CPU cores)::

    PYTHONPATH=. python benchmarks/finetune_few_shot.py --data ../shared/data

It prints the learning-curve table and the wall time of each fine-tune; ``--json F``
also writes the figures.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from stancekit.spans import GoldDocument, GoldSpan, read_spans
from stancekit.training.config import RecipeConfig
from stancekit.training.data import _bucket

SIZES = (50, 100, 200, 500)


def vast_family(data: Path, config: Path) -> list[GoldDocument]:
    """The held-out VAST topics of the recipe, one document per distinct comment."""
    cfg = RecipeConfig.from_json(config)
    spec = next(d for d in cfg.datasets if d.name == "vast")
    gold = read_spans(data / spec.file)
    by_text: dict[str, list[GoldSpan]] = defaultdict(list)
    ids: dict[str, str] = {}
    for doc in gold.documents:
        for s in doc.spans:
            if _bucket(s.target.lower(), cfg.seed) < spec.holdout_fraction:
                by_text[doc.text].append(s)
                ids.setdefault(doc.text, doc.id)
    return [GoldDocument(ids[t], t, tuple(spans)) for t, spans in by_text.items()]


def take_spans(docs: list[GoldDocument], n: int) -> list[GoldDocument]:
    """The first documents of ``docs`` holding ``n`` spans (the last one trimmed)."""
    out: list[GoldDocument] = []
    left = n
    for d in docs:
        if left <= 0:
            break
        spans = d.spans[:left]
        out.append(GoldDocument(d.id, d.text, spans))
        left -= len(spans)
    return out


def fmt(x: float, ci: list[float] | None) -> str:
    return f"{x:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else f"{x:.3f}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="../shared/data", type=Path)
    p.add_argument("--config", default="configs/default-model.json", type=Path)
    p.add_argument("--model", help="base model folder (default: the shipped model)")
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    p.add_argument("--pool", type=int, default=500, help="spans in the training pool")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--epochs", type=float, default=5.0)
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--json", type=Path, help="write the figures here")
    a = p.parse_args(argv)

    from stancekit.analyzer import StanceAnalyzer
    from stancekit.evaluation import compare, evaluate
    from stancekit.finetuning import finetune

    docs = vast_family(a.data, a.config)
    random.Random(a.seed).shuffle(docs)
    pool, n = [], 0
    while n < max(a.pool, *a.sizes):
        d = docs.pop(0)
        pool.append(d)
        n += len(d.spans)
    evalset = docs
    n_eval = sum(len(d.spans) for d in evalset)
    print(
        f"family: VAST held-out topics; pool {n} spans in {len(pool)} comments, "
        f"evaluation {n_eval} spans in {len(evalset)} comments",
        flush=True,
    )
    base = StanceAnalyzer(model=a.model)
    zero = evaluate(base, evalset, n_bootstrap=a.bootstrap, seed=a.seed).stance
    assert zero is not None
    rows: list[dict[str, Any]] = [
        {
            "spans": 0,
            "macro_f1": zero["macro_f1"],
            "ci95": zero["ci95"]["macro_f1"],
            "accuracy": zero["accuracy"],
            "minutes": 0.0,
        }
    ]
    print(f"zero-shot default: macro-F1 {fmt(zero['macro_f1'], zero['ci95']['macro_f1'])}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in a.sizes:
            train = take_spans(pool, size)
            t = time.monotonic()
            res = finetune(
                train,
                base=a.model,
                out=Path(tmp) / f"ft-{size}",
                epochs=a.epochs,
                seed=a.seed,
                n_bootstrap=200,
                min_per_class=3,
                quiet=True,
            )
            minutes = (time.monotonic() - t) / 60
            tuned = StanceAnalyzer(model=res.path)
            rep = evaluate(tuned, evalset, n_bootstrap=a.bootstrap, seed=a.seed).stance
            cmp = compare(base, tuned, evalset, n_bootstrap=a.bootstrap, seed=a.seed)["stance"]
            assert rep is not None and cmp is not None
            diff = cmp["macro_f1"]
            rows.append(
                {
                    "spans": size,
                    "macro_f1": rep["macro_f1"],
                    "ci95": rep["ci95"]["macro_f1"],
                    "accuracy": rep["accuracy"],
                    "gain": diff["difference"],
                    "gain_ci95": diff["ci95"],
                    "minutes": round(minutes, 2),
                    "best_step": res.best_step,
                    "steps": res.steps,
                }
            )
            print(
                f"{size} spans: macro-F1 {fmt(rep['macro_f1'], rep['ci95']['macro_f1'])}, "
                f"gain {fmt(diff['difference'], diff['ci95'])}, {minutes:.1f} min",
                flush=True,
            )
    print()
    print(
        "| training spans | stance macro-F1 [95% CI] | gain over zero-shot [95% CI] | "
        "accuracy | fine-tune wall time |"
    )
    print("|---|---|---|---|---|")
    for r in rows:
        gain = fmt(r["gain"], r["gain_ci95"]) if "gain" in r else "–"
        when = f"{r['minutes']:.1f} min" if r["spans"] else "–"
        label = r["spans"] or "0 (default model)"
        print(
            f"| {label} | {fmt(r['macro_f1'], r['ci95'])} | {gain} | {r['accuracy']:.3f} | {when} |"
        )
    if a.json:
        a.json.write_text(json.dumps({"n_eval": n_eval, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
