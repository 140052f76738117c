"""Do the models fit DSA's training pairs? Issue 19 asks that at most 20% of the dsa_valid
pairs whose gold stance is favor or against be called ``none``. If a model calls as many of
its own *training* pairs ``none``, it underfits DSA (more DSA training may help); if it fits
them and misses on dev, it does not generalise (more training would not).

    PYTHONPATH=. python benchmarks/dsa_fit.py [MODEL ...] [--train-cap 3000] [--data ../shared/data]

For each model (default: 0.3.0's folder, fast, accurate), a random sample of
``dsa_train.jsonl`` (``--train-cap`` pairs, the recipe's seed) and all of dsa_valid are
scored at the model's own temperature (argmax is unchanged by it); printed are, per set,
the share of favor/against pairs called ``none``, the share of pairs called favor or against
against the gold share, the 3-class stance macro-F1 and, on dsa_valid, Park et al.'s
5-class macro / micro-F1 (A = the entity mentioned first). Only DSA's train and validation
files are read; its test split is not.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from stancekit.scoring.model import StanceModel, model_path
from stancekit.training.calibration import head_labels, predict_sets
from stancekit.training.config import RecipeConfig
from stancekit.training.dev_metrics import directed_view
from stancekit.training.sets import drop_unencodable, load_dev_sets


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "models", nargs="*", default=["runs/base030/models/stancekit-minilm", "fast", "accurate"]
    )
    ap.add_argument("--data", type=Path, default=Path("../shared/data"))
    ap.add_argument("--train-cap", type=int, default=3000, help="dsa_train pairs to score")
    ap.add_argument("--seed", type=int, default=13, help="seed of the training sample")
    args = ap.parse_args()
    cfg = RecipeConfig.from_dict(
        {
            "datasets": [{"name": "dsa", "file": "dsa_train.jsonl"}],
            "dev": [
                {"name": "dsa_train_sample", "file": "dsa_train.jsonl", "cap": args.train_cap},
                {"name": "dsa_valid", "file": "dsa_valid.jsonl"},
            ],
            "seed": args.seed,
        }
    )
    sets_all = load_dev_sets(cfg, args.data)
    print(
        f"{'model':<28} {'set':<17} {'pairs':>6} {'fav/ag -> none':>15} "
        f"{'pred / gold polar':>18} {'stance F1m':>10} {'5-class macro / micro':>22}"
    )
    for name in args.models:
        sm = StanceModel.load(model_path(name), device="cpu")
        label = f"{sm.config.name} {sm.config.version}"
        for set_name, exs_all in sets_all.items():
            exs = drop_unencodable(sm, set_name, exs_all)
            scores = predict_sets(sm, {set_name: exs}, 64)[set_name]
            y, mask = head_labels(exs, "stance")
            assert mask.all(), f"every {set_name} pair has a stance label"
            pred = scores.stance.argmax(axis=1)
            polar = np.isin(y, [0, 1])  # favor, against
            five = ""
            if set_name == "dsa_valid":
                view = directed_view(exs, scores)
                assert view is not None
                five = f"{view['macro_f1']:.3f} / {view['micro_f1']:.3f}"
            print(
                f"{label:<28} {set_name:<17} {len(exs):>6} {(pred[polar] == 2).mean():>15.1%} "
                f"{f'{(pred != 2).mean():.1%} / {polar.mean():.1%}':>18} "
                f"{f1_score(y, pred, average='macro'):>10.3f} {five:>22}",
                flush=True,
            )


if __name__ == "__main__":
    main()
