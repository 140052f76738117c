"""Dynamic int8 quantisation (``StanceAnalyzer(quantize=True)``): its speed gain and its
accuracy change on the dev sets, both measured in this one process.

    PYTHONPATH=. python benchmarks/quantize.py [--data ../shared/data] [--runs 3]

For each dev set (``dsa_valid`` stance, ``ibm_argq_val`` stance on a seeded 1,500,
NewsMTSC's 10% hold-out of the default recipe, by story/article, for sentiment) it prints the
macro-F1 of the float32 model and the int8 model and the change in points; then the
scoring speed (pairs per second, median of ``--runs`` after a warm-up) of both on the
``dsa_valid`` pairs and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

from stancekit.scoring.model import StanceModel, default_model_path
from stancekit.training.config import RecipeConfig
from stancekit.training.data import Example, read_labelled_spans, subsample
from stancekit.training.sets import split_by_spec

RECIPE = Path(__file__).resolve().parents[1] / "configs" / "default-model.json"


def dev_sets(data: Path) -> dict[str, tuple[list[Example], str]]:
    cfg = RecipeConfig.from_json(RECIPE)
    spec = next(d for d in cfg.datasets if d.name == "newsmtsc")
    news = read_labelled_spans(data / spec.file, source="newsmtsc")
    _, held = split_by_spec(news, spec, seed=cfg.seed)
    argq = read_labelled_spans(data / "ibm_argq_val.jsonl", source="argq")
    return {
        "dsa_valid": (read_labelled_spans(data / "dsa_valid.jsonl"), "stance"),
        "ibm_argq_val (1500)": (subsample(argq, 1500, seed=13), "stance"),
        "newsmtsc_heldout": (held, "sentiment"),
    }


def macro_f1(model: StanceModel, exs: list[Example], head: str) -> float:
    scores = model.predict([e.pair for e in exs])
    probs = scores.stance if head == "stance" else scores.sentiment
    y = np.array([getattr(e, head) for e in exs])
    return float(f1_score(y, probs.argmax(1), average="macro", labels=sorted(set(y.tolist()))))


def speed(model: StanceModel, exs: list[Example], runs: int) -> float:
    pairs = [e.pair for e in exs]
    model.predict(pairs[:64])
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        model.predict(pairs)
        times.append(time.perf_counter() - t0)
    return len(pairs) / statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="../shared/data", type=Path)
    p.add_argument("--model", default=str(default_model_path()))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--speed-pairs", type=int, default=1000)
    a = p.parse_args()
    fp32 = StanceModel.load(a.model, device="cpu")
    int8 = StanceModel.load(a.model, device="cpu", quantize=True)
    sets = dev_sets(a.data)
    print("| dev set | head | n | macro-F1 fp32 | macro-F1 int8 | change (points) |")
    print("|---|---|---|---|---|---|")
    for name, (exs, head) in sets.items():
        f, q = macro_f1(fp32, exs, head), macro_f1(int8, exs, head)
        print(f"| {name} | {head} | {len(exs)} | {f:.4f} | {q:.4f} | {100 * (q - f):+.2f} |")
    exs = subsample(sets["dsa_valid"][0], a.speed_pairs, seed=0)
    s32, s8 = speed(fp32, exs, a.runs), speed(int8, exs, a.runs)
    print(f"\nscoring speed on {len(exs)} dsa_valid pairs, median of {a.runs}:")
    print(f"  float32 {s32:.1f} pairs/s, int8 {s8:.1f} pairs/s, ratio {s8 / s32:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
