"""The recipe's ``finalize`` phase: the trained weights cast to their stored dtype and read
back through :meth:`StanceModel.load` (the real inference path), one softmax temperature
per head fitted on the calibration sets, the dev metrics (:mod:`.dev_metrics`), and the
model folder with ``metrics.json`` and its card (:mod:`.card`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from stancekit.scoring.model import ModelConfig, PairInput, StanceModel
from stancekit.training.calibration import (
    apply_temperature,
    fit_temperature,
    head_labels,
    predict_sets,
)
from stancekit.training.card import RECIPE_FILES, write_card
from stancekit.training.card_notes import read_card_notes
from stancekit.training.config import RecipeConfig
from stancekit.training.dev_metrics import build_metrics
from stancekit.training.runtime import log, seed_everything
from stancekit.training.sets import drop_unencodable, load_dev_sets, load_heldout_sets

__all__ = ["finalize", "stage_weights"]


def stage_weights(
    trained: StanceModel, config: ModelConfig, store_dtype: torch.dtype, work: Path
) -> tuple[StanceModel, str]:
    """Save the trained weights cast to ``store_dtype`` with ``config`` as
    ``<work_dir>/uncalibrated`` and load them back through :meth:`StanceModel.load`, the
    real inference path. Returns that model and the dtype's description."""
    # StanceModel() upcasts fp16 weights to float32 on a CPU, so cast right before saving
    stage = StanceModel(trained.model, trained.tokenizer, config, device="cpu")
    stage.model.to(store_dtype)
    staged = stage.save(work / "uncalibrated")
    sm = StanceModel.load(staged, device="cpu")
    run_dtype = next(sm.model.parameters()).dtype
    dtype = str(store_dtype).removeprefix("torch.")
    if run_dtype != store_dtype:
        dtype += f" (run as {str(run_dtype).removeprefix('torch.')} by StanceModel on CPU)"
    log(f"reloaded {staged}: weights {dtype}")
    return sm, dtype


def finalize(
    config: RecipeConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    limit: int | None = None,
) -> Path:
    """fp16 cast, temperature scaling, dev metrics, model folder + metrics + card."""
    torch.set_num_threads(config.num_threads)
    seed_everything(config.seed)
    if config.card_notes:  # a missing or malformed notes file fails now, not after scoring
        read_card_notes(config.card_notes, config)
    work = Path(config.work_dir)
    if config.adapter is not None:  # the train phase wrote the adapter and head only
        from stancekit.training.adapter import model_from_parts

        trained = model_from_parts(work / "final", config)
    else:
        trained = StanceModel.load(work / "final", device="cpu")
    info = dict(trained.config.extra.get("training", {}))
    base_cfg = replace(  # the recipe names the model it ships
        trained.config,
        name=config.name,
        version=config.version,
        weights_sha256=None,
        temperature_stance=1.0,
        temperature_sentiment=1.0,
    )
    store_dtype = torch.float16 if config.fp16_weights else torch.float32
    sm, dtype = stage_weights(trained, base_cfg, store_dtype, work)

    held = load_heldout_sets(config, data_dir, limit=limit)
    sets = {**load_dev_sets(config, data_dir, limit=limit), **held}
    sets = {k: drop_unencodable(sm, k, v) for k, v in sets.items()}
    raw = predict_sets(sm, sets, config.eval_batch_size)

    temps = {"stance": 1.0, "sentiment": 1.0}
    for head, src in (
        ("stance", config.calibrate_stance_on),
        ("sentiment", config.calibrate_sentiment_on),
    ):
        if src not in sets:
            log(f"no calibration set {src!r} for {head}; temperature stays 1.0")
            continue
        y, m = head_labels(sets[src], head)
        if len(y) == 0:
            log(f"{src!r} has no {head} labels; temperature stays 1.0")
            continue
        temps[head] = fit_temperature(getattr(raw[src], head)[m], y)
        log(f"temperature_{head} = {temps[head]:.3f} (fitted on {src}, n={len(y)})")

    cal_cfg = replace(
        base_cfg,
        temperature_stance=round(temps["stance"], 4),
        temperature_sentiment=round(temps["sentiment"], 4),
    )
    cal = StanceModel(sm.model, sm.tokenizer, cal_cfg, device="cpu")
    calibrated = {k: apply_temperature(cal, sets[k], v) for k, v in raw.items()}
    metrics = build_metrics(
        config,
        weights_dtype=dtype,
        temperatures=(cal_cfg.temperature_stance, cal_cfg.temperature_sentiment),
        training=info,
        sets=sets,
        raw=raw,
        calibrated=calibrated,
    )

    final_cfg = replace(
        cal_cfg,
        extra={
            "training": info,
            "recipe": "stancekit.training.recipe "
            f"({RECIPE_FILES.get(config.name, 'a recipe of ' + config.name)})",
            "trained_on": [d.name for d in config.datasets],
        },
    )
    final_sm = StanceModel(sm.model, sm.tokenizer, final_cfg, device="cpu")
    final_sm.model.to(store_dtype)  # exact: the scored weights were read from store_dtype
    out = final_sm.save(out_dir)
    write_card(out, config, metrics)
    check = StanceModel.load(out, device="cpu")
    s = check.predict([PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20))])
    check_probs = dict(zip(s.stance_labels, s.stance[0].round(3).tolist(), strict=True))
    log(f"saved {out}; check: stance {check_probs}")
    return out
