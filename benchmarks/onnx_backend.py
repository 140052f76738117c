"""The ONNX Runtime backend (``StanceModel.load(..., backend="onnx")``) against PyTorch
float32: its accuracy change on the dev sets and its scoring speed, in one process.

    PYTHONPATH=. python benchmarks/onnx_backend.py [--data ../shared/data] [--runs 5]
        [--speed-pairs 1000] [--threads N] [--no-int8] [--torch-int8] [--quick]

Engines: PyTorch float32 (the reference), ONNX Runtime float32 and ONNX Runtime dynamic
int8 (``--no-int8`` leaves it out); ``--torch-int8`` adds PyTorch's own dynamic int8 (as
in ``quantize.py``). All use ``--threads`` intra-op threads (default: torch's default).

For each dev set of ``quantize.py`` (``dsa_valid`` stance, ``ibm_argq_val`` stance on a
seeded 1,500, NewsMTSC's document-level 10% hold-out of the default recipe for
sentiment) it prints each engine's macro-F1 and its change in points from PyTorch
float32; then the largest probability difference from PyTorch float32 over the speed
pairs; then the scoring speed (pairs per second, median of ``--runs`` after a warm-up)
of each engine on ``--speed-pairs`` seeded ``dsa_valid`` pairs and its ratio to PyTorch
float32. The ONNX export (once per model, cached) is timed apart. ``--quick`` is a smoke
run: 40 examples per dev set, 64 speed pairs, 1 run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from quantize import dev_sets, macro_f1, speed  # type: ignore[import-not-found]

from stancekit.scoring.model import StanceModel, default_model_path
from stancekit.training.data import subsample


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="../shared/data", type=Path)
    p.add_argument("--model", default=str(default_model_path()))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--speed-pairs", type=int, default=1000)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-int8", action="store_true", help="leave out ONNX int8")
    p.add_argument("--torch-int8", action="store_true", help="add PyTorch dynamic int8")
    p.add_argument("--quick", action="store_true", help="smoke run: tiny sets, 1 run")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    threads = torch.get_num_threads()
    per_set = 40 if a.quick else None
    if a.quick:
        a.speed_pairs, a.runs = 64, 1

    engines: dict[str, StanceModel] = {"torch fp32": StanceModel.load(a.model, device="cpu")}
    t0 = time.perf_counter()
    engines["onnx fp32"] = StanceModel.load(a.model, device="cpu").use_onnx(threads=threads)
    export_s = time.perf_counter() - t0
    if not a.no_int8:
        engines["onnx int8"] = StanceModel.load(a.model, device="cpu").use_onnx(
            quantize=True, threads=threads
        )
    if a.torch_int8:
        engines["torch int8"] = StanceModel.load(a.model, device="cpu", quantize=True)
    print(f"threads {threads}; torch {torch.__version__}; model {Path(a.model).name}")
    print(f"ONNX load (export on first use, then cached): {export_s:.1f} s\n")

    sets = dev_sets(a.data)
    names = list(engines)
    head = " | ".join(f"{n} | change" for n in names[1:])
    print(f"| dev set | head | n | {names[0]} | {head} |")
    print("|---|---|---|---|" + "---|---|" * (len(names) - 1))
    for name, (exs, task) in sets.items():
        if per_set is not None:
            exs = subsample(exs, per_set, seed=13)
        ref = macro_f1(engines[names[0]], exs, task)
        cells = []
        for n in names[1:]:
            f = macro_f1(engines[n], exs, task)
            cells.append(f"{f:.4f} | {100 * (f - ref):+.2f}")
        print(f"| {name} | {task} | {len(exs)} | {ref:.4f} | {' | '.join(cells)} |")

    exs = subsample(sets["dsa_valid"][0], a.speed_pairs, seed=0)
    pairs = [e.pair for e in exs]
    base = engines[names[0]].predict(pairs)
    print(f"\nlargest |probability difference| from {names[0]} on {len(pairs)} pairs:")
    for n in names[1:]:
        s = engines[n].predict(pairs)
        d_st = float(np.abs(s.stance - base.stance).max())
        d_se = float(np.abs(s.sentiment - base.sentiment).max())
        agree = float((s.stance.argmax(1) == base.stance.argmax(1)).mean())
        print(f"  {n}: stance {d_st:.2e}, sentiment {d_se:.2e}; same stance label {agree:.1%}")

    print(f"\nscoring speed on {len(pairs)} dsa_valid pairs, median of {a.runs}:")
    rates = {n: speed(m, exs, a.runs) for n, m in engines.items()}
    for n, r in rates.items():
        print(f"  {n:<11} {r:8.1f} pairs/s  ({r / rates[names[0]]:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
