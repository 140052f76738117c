"""Two models of the default-model recipe, compared on its dev and held-out sets: argmax
figures at T = 1 for each, and paired bootstrap differences (B - A) with 95% intervals.

    PYTHONPATH=. python benchmarks/compare_models.py MODEL_A MODEL_B \\
        [--config configs/default-model.json] [--data ../shared/data] [--bootstrap 1000] [--seed 0]
        [--backend-b onnx] [--quantize-b]

``--backend-b`` / ``--quantize-b`` score B with that backend and dynamic int8: with the same
folder as A, that measures what int8 (or ONNX Runtime) costs on every set, with CIs.

The sets are the recipe's: its ``dev`` files plus the held-out slices of its training files
(drawn with the recipe's seed, so they are the slices the models were not trained on when
both come from this recipe). Per set and head: macro-F1 (accuracy for ``ibm_argq_val``,
which has favor/against only), and Park et al.'s 5-class directed macro/micro-F1 where the
set has both directions of entity pairs (DSA), with a paired bootstrap over entity pairs;
the share of pairs whose gold stance is favor or against that a model calls ``none``; and
each model's ECE after its own shipped temperatures. This is how the model card's "what
else was tried" figures are made, and how 0.3.0 and 1.0 are compared.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stancekit.evaluation.metrics import (
    FIVE_CLASS_LABELS,
    calibration_summary,
    paired_bootstrap,
)
from stancekit.scoring.model import StanceModel
from stancekit.training.calibration import (
    apply_temperature,
    head_labels,
    predict_sets,
    uncalibrated,
)
from stancekit.training.config import RecipeConfig
from stancekit.training.dev_metrics import directed_view
from stancekit.training.sets import drop_unencodable, load_dev_sets, load_heldout_sets

ACCURACY_SETS = {"ibm_argq_val"}


def _paired_entry(res: dict[str, Any]) -> dict[str, Any]:
    """The figures of one paired bootstrap, as printed and written to --json."""
    keys = ("a", "b", "difference", "n")
    return {**{k: res[k] for k in keys}, "ci95": [float(x) for x in res["ci95"]]}


def compare(
    a_dir: Path,
    b_dir: Path,
    config: RecipeConfig,
    data: Path,
    *,
    n_bootstrap: int,
    seed: int,
    backend_b: str = "torch",
    quantize_b: bool = False,
) -> dict[str, Any]:
    sets = {**load_dev_sets(config, data), **load_heldout_sets(config, data)}
    a_cal = StanceModel.load(a_dir, device="cpu")
    b_cal = StanceModel.load(b_dir, device="cpu", backend=backend_b, quantize=quantize_b)
    a, b = uncalibrated(a_cal), uncalibrated(b_cal)
    if backend_b == "onnx":  # the T=1 copy scores through its own runner (cached file)
        b = uncalibrated(StanceModel.load(b_dir, device="cpu")).use_onnx(quantize=quantize_b)
    sets = {k: drop_unencodable(a, k, v) for k, v in sets.items()}
    ra = predict_sets(a, sets, config.eval_batch_size)
    rb = predict_sets(b, sets, config.eval_batch_size)
    out: dict[str, Any] = {}
    for name, exs in sets.items():
        for head in ("stance", "sentiment"):
            y, mask = head_labels(exs, head)
            if len(y) == 0:
                continue
            labels = list(getattr(ra[name], f"{head}_labels"))
            gold = [labels[i] for i in y]
            pred_a = [labels[i] for i in getattr(ra[name], head)[mask].argmax(1)]
            pred_b = [labels[i] for i in getattr(rb[name], head)[mask].argmax(1)]
            metric = "accuracy" if name in ACCURACY_SETS else "macro_f1"
            res = paired_bootstrap(
                gold,
                pred_a,
                pred_b,
                metric=metric,
                labels=sorted({*gold, *pred_a, *pred_b}, key=labels.index),  # as sklearn
                n_bootstrap=n_bootstrap,
                seed=seed,
            )
            out[f"{name} {head} {metric}"] = _paired_entry(res)
            ece = []
            for cal, raw in ((a_cal, ra[name]), (b_cal, rb[name])):
                probs = getattr(apply_temperature(cal, exs, raw), head)[mask]
                ece.append(calibration_summary(probs, y, config.ece_bins)[1])
            out[f"{name} {head} ECE (own T)"] = {"a": ece[0], "b": ece[1]}
            if head == "stance":
                polar = np.isin(y, [labels.index("favor"), labels.index("against")])
                if polar.any():
                    none = labels.index("none")
                    share = [
                        float((getattr(r[name], head)[mask][polar].argmax(1) == none).mean())
                        for r in (ra, rb)
                    ]
                    out[f"{name} favor/against called none"] = {
                        "a": share[0],
                        "b": share[1],
                        "n": int(polar.sum()),
                    }
        va, vb = (directed_view(exs, r[name], with_pairs=True) for r in (ra, rb))
        if va and vb:
            out[f"{name} 5-class macro / micro"] = {
                "a": [va["macro_f1"], va["micro_f1"]],
                "b": [vb["macro_f1"], vb["micro_f1"]],
            }
            res = paired_bootstrap(
                va["gold"],
                va["pred"],
                vb["pred"],
                metric="macro_f1",
                labels=list(FIVE_CLASS_LABELS),
                n_bootstrap=n_bootstrap,
                seed=seed,
            )
            out[f"{name} 5-class macro_f1"] = _paired_entry(res)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("model_a", type=Path, help="model folder A (the baseline)")
    p.add_argument("model_b", type=Path, help="model folder B (the candidate)")
    p.add_argument("--config", type=Path, default=Path("configs/default-model.json"))
    p.add_argument("--data", type=Path, default=Path("../shared/data"))
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    p.add_argument("--json", type=Path, help="also write the figures as JSON")
    p.add_argument("--backend-b", choices=("torch", "onnx"), default="torch")
    p.add_argument("--quantize-b", action="store_true", help="score B with dynamic int8")
    args = p.parse_args()
    torch.set_num_threads(2)
    config = RecipeConfig.from_json(args.config)
    result = compare(
        args.model_a,
        args.model_b,
        config,
        args.data,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        backend_b=args.backend_b,
        quantize_b=args.quantize_b,
    )
    b_how = f" ({args.backend_b}{', int8' if args.quantize_b else ''})"
    print(f"A = {args.model_a}\nB = {args.model_b}{b_how}")
    for key, r in result.items():
        if "difference" in r:
            lo, hi = r["ci95"]
            print(
                f"{key:40s} A {r['a']:.3f}  B {r['b']:.3f}  B-A {r['difference']:+.3f} "
                f"[{lo:+.3f}, {hi:+.3f}]  n={r['n']}"
            )
        elif not isinstance(r["a"], list):
            print(f"{key:40s} A {r['a']:.3f}  B {r['b']:.3f}")
        else:
            (am, ai), (bm, bi) = r["a"], r["b"]
            print(f"{key:40s} A {am:.3f} / {ai:.3f}  B {bm:.3f} / {bi:.3f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
