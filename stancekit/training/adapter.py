"""The recipe's adapter stage: a LoRA adapter and a marker-pooling head trained over a
frozen pretrained base (``RecipeConfig.adapter``, :class:`~.config.AdapterSpec`).

1. The base (``RecipeConfig.encoder``, a key of :data:`stancekit.scoring.bases.BASES`) is
   assembled from its pinned PyPI packages (:func:`stancekit.scoring.bases.resolve_base`).
2. The training pairs are encoded exactly as :meth:`StanceModel.encode` writes them,
   with the marker positions the head pools
   (:func:`~stancekit.scoring.pairmodel.marker_token_positions`).
3. The states entering layer ``frozen_layers`` are computed once and cached on disk
   (:mod:`.layercache`); training reads them and runs only the layers above.
4. LoRA (PEFT) on those layers' attention projections and feed-forward layers, plus the
   head, trained with AdamW, a linear warm-up and decay, length-grouped batches, the
   masked two-head loss of :func:`~.trainer.masked_two_head_loss` and bfloat16 autocast.
   A checkpoint (trainable weights, optimizer, scheduler, step) is written every
   ``save_steps`` steps to ``<work_dir>/adapter-checkpoint``; a rerun resumes from it.
5. The trained parts go to ``<work_dir>/final`` (``adapter_config.json``,
   ``adapter_model.safetensors``, ``head.safetensors``, ``train_info.json``); the
   recipe's ``finalize`` phase assembles, calibrates and measures the model folder.
"""

from __future__ import annotations

import json
import math
import os
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stancekit.errors import RecipeError
from stancekit.scoring.bases import BASES, base_weights_sha256, resolve_base
from stancekit.scoring.model import ModelConfig, StanceModel
from stancekit.scoring.modelconfig import ADAPTER_FILES
from stancekit.scoring.pairmodel import (
    ADAPTER_CONFIG,
    ADAPTER_WEIGHTS,
    HEAD_WEIGHTS,
    MarkerPairClassifier,
    PairHead,
    load_base_encoder,
)
from stancekit.training.config import RecipeConfig
from stancekit.training.distill import attach_teacher
from stancekit.training.layercache import build_cache
from stancekit.training.loop import StepClock, after_step, load_checkpoint, trainable
from stancekit.training.runtime import log, seed_everything, warmup_linear_decay
from stancekit.training.specs import AdapterSpec
from stancekit.training.stages import distillation_facts
from stancekit.training.trainer import masked_two_head_loss

__all__ = [
    "batches_for_epoch",
    "init_from_adapter_model",
    "lora_target_regex",
    "new_pair_model",
    "train_adapter",
]


def native_bf16() -> bool:
    """True when this CPU computes bfloat16 matmuls natively (AVX-512 BF16 or AMX, as
    oneDNN reports it). Elsewhere bfloat16 is emulated: measured on an AMD EPYC with AVX2
    only, a 2048x768 @ 768x3072 matmul ran at 1.0 GFLOP/s in bfloat16 against 78.6 in
    float32, so a recipe's ``bf16`` is then ignored (see :func:`compute_in_bf16`)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a torch build without oneDNN
        return False


def compute_in_bf16(spec: AdapterSpec, *, native: bool | None = None) -> bool:
    """Whether to run the layer cache and training under bfloat16: the recipe asks for it
    (``spec.bf16``) and the CPU has it natively (``native``, default
    :func:`native_bf16`). When the recipe asks and the CPU lacks it, a message says so and
    float32 is used (the cache still stores bfloat16)."""
    native = native_bf16() if native is None else native
    if spec.bf16 and not native:
        log(
            "bf16: this CPU has no native bfloat16 matmuls (AVX-512 BF16 or AMX); emulated "
            "they are about 80x slower than float32, so the layer cache and training compute "
            "in float32 (the cache still stores bfloat16)"
        )
    return spec.bf16 and native


def lora_target_regex(first_layer: int, n_layers: int) -> str:
    """PEFT ``target_modules`` (a full-match regex) for the attention projections and the
    feed-forward layers of MPNet layers ``first_layer .. n_layers - 1``.

    >>> lora_target_regex(10, 12)
    '.*encoder\\\\.layer\\\\.(10|11)\\\\.(attention\\\\.attn\\\\.(q|k|v|o)|intermediate\\\\.dense|output\\\\.dense)'
    """
    layers = "|".join(str(i) for i in range(first_layer, n_layers))
    return (
        rf".*encoder\.layer\.({layers})\."
        r"(attention\.attn\.(q|k|v|o)|intermediate\.dense|output\.dense)"
    )


def new_pair_model(
    config: RecipeConfig, spec: AdapterSpec, *, with_lora: bool = True
) -> tuple[StanceModel, Any]:
    """A fresh pair model over the configured base: ``(StanceModel, peft-wrapped
    encoder)``; the encoder is plain (no LoRA) when ``with_lora`` is False."""
    from transformers import AutoTokenizer

    if config.encoder not in BASES:
        raise RecipeError(
            f"recipe: adapter training needs encoder to be one of {sorted(BASES)}, got "
            f"{config.encoder!r}"
        )
    encoder = load_base_encoder(config.encoder)
    tokenizer = AutoTokenizer.from_pretrained(resolve_base(config.encoder), local_files_only=True)
    n_layers = int(encoder.config.num_hidden_layers)
    if spec.frozen_layers >= n_layers:
        raise RecipeError(
            f"adapter: frozen_layers={spec.frozen_layers} leaves none of the base's "
            f"{n_layers} layers to adapt; use at most {n_layers - 1}"
        )
    peft_encoder = None
    if with_lora:
        from peft import LoraConfig, get_peft_model

        lcfg = LoraConfig(
            r=spec.lora_r,
            lora_alpha=spec.lora_alpha,  # type: ignore[arg-type]  # peft takes a float
            lora_dropout=spec.lora_dropout,
            target_modules=lora_target_regex(spec.frozen_layers, n_layers),
            bias="none",
        )
        peft_encoder = get_peft_model(encoder, lcfg)
        encoder = peft_encoder
    mcfg = ModelConfig(
        name=config.name,
        version=config.version,
        max_length=config.max_length,
        window_stride=config.window_stride,
    )
    head = PairHead(int(encoder.config.hidden_size), mcfg.num_labels, pooling=spec.pooling)
    model = MarkerPairClassifier(encoder, head)
    return StanceModel(model, tokenizer, mcfg, device="cpu"), peft_encoder


def batches_for_epoch(
    lengths: np.ndarray, batch_size: int, *, seed: int, epoch: int, group: int = 50
) -> list[np.ndarray]:
    """The batches of one epoch: a seeded shuffle, sorted by length within groups of
    ``group`` batches (less padding), then the batches shuffled. The same seed and epoch
    always give the same batches, so a resumed run continues the same order.

    >>> b = batches_for_epoch(np.array([5, 1, 3, 2]), 2, seed=0, epoch=0)
    >>> sorted(int(i) for x in b for i in x)
    [0, 1, 2, 3]
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    out: list[np.ndarray] = []
    span = batch_size * group
    for g in range(0, len(order), span):
        part = order[g : g + span]
        part = part[np.argsort(lengths[part], kind="stable")]
        out.extend(part[b : b + batch_size] for b in range(0, len(part), batch_size))
    perm = rng.permutation(len(out))
    return [out[i] for i in perm]


def train_adapter(
    config: RecipeConfig,
    sm: StanceModel,
    peft_encoder: Any,
    ds: Any,
    *,
    max_steps: int,
) -> dict[str, Any]:
    """Train the LoRA adapter and head of ``sm`` on the encoded dataset ``ds`` (with
    ``h_pos``/``t_pos``), resuming from ``<work_dir>/adapter-checkpoint``; write the trained
    parts to ``<work_dir>/final`` and return the run's facts."""
    spec = config.adapter
    assert spec is not None
    work = Path(config.work_dir)
    model = sm.model
    assert isinstance(model, MarkerPairClassifier)
    enc = peft_encoder.base_model.model
    bf16 = compute_in_bf16(spec)
    t0 = time.monotonic()
    cache = build_cache(
        enc,
        ds["input_ids"],
        Path(spec.layer_cache) if spec.layer_cache else work / "layer-cache",
        layer=spec.frozen_layers,
        base_sha256=base_weights_sha256(config.encoder),
        pad_id=int(sm.tokenizer.pad_token_id),
        batch_size=config.eval_batch_size,
        bf16=bf16,
        log=log,
    )
    cache_seconds = time.monotonic() - t0
    lengths = np.asarray(ds["length"])
    h_pos = torch.tensor(ds["h_pos"])
    t_pos = torch.tensor(ds["t_pos"])
    st = torch.tensor(ds["stance_label"])
    se = torch.tensor(ds["sentiment_label"])
    wt = torch.tensor(ds["weight"], dtype=torch.float32)
    tch = (
        torch.tensor(np.asarray(ds["teacher"], dtype=np.float32))
        if "teacher" in ds.column_names
        else None
    )

    lora = [p for n, p in trainable(model).items() if "lora_" in n]
    head = [p for n, p in trainable(model).items() if "lora_" not in n]
    opt = torch.optim.AdamW(
        [
            {"params": lora, "lr": config.learning_rate},
            {"params": head, "lr": spec.head_learning_rate or config.learning_rate},
        ],
        weight_decay=config.weight_decay,
    )
    sched = warmup_linear_decay(
        opt, warmup_steps=int(config.warmup_ratio * max_steps), total_steps=max_steps
    )
    ckpt = work / "adapter-checkpoint"
    step, loss_sum, seconds_before = 0, 0.0, 0.0
    if (ckpt / "step.json").is_file():
        step, loss_sum, seconds_before = load_checkpoint(ckpt, model, opt, sched)
        log(f"resuming the adapter from step {step} of {max_steps}")
    steps_per_epoch = math.ceil(len(lengths) / config.batch_size)
    log(
        f"adapter: {sum(p.numel() for p in lora)} LoRA + {sum(p.numel() for p in head)} head "
        f"parameters; {max_steps} steps ({steps_per_epoch} per epoch), layers "
        f"{spec.frozen_layers}+ trained from the cache"
    )
    model.train()
    peft_encoder.base_model.model.eval()  # no dropout in the frozen part (cached anyway)
    for layer in enc.encoder.layer[spec.frozen_layers :]:
        layer.train()
    t_run = time.monotonic()
    step0 = step
    clock = StepClock(t_run, step0, seconds_before)  # this run's start, for after_step
    seen = 0
    epoch_batches: tuple[int, list[np.ndarray]] | None = None
    while step < max_steps:
        epoch, b = divmod(step, steps_per_epoch)
        # dropout draws from a per-step seed, so a resumed run equals an uninterrupted one
        torch.manual_seed(config.seed * 1_000_003 + step)
        if epoch_batches is None or epoch_batches[0] != epoch:
            epoch_batches = (
                epoch,
                batches_for_epoch(lengths, config.batch_size, seed=config.seed, epoch=epoch),
            )
        ids = epoch_batches[1][b]
        states, mask = cache.batch(ids.tolist())
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = model.forward_from_layer(
                states if bf16 else states.float(),
                mask,
                spec.frozen_layers,
                h_pos[ids],
                t_pos[ids],
            )
        loss = masked_two_head_loss(
            logits.float(),
            st[ids],
            se[ids],
            wt[ids],
            teacher=None if tch is None else tch[ids],
            alpha=config.distill_alphas,
        )
        loss.backward()  # type: ignore[no-untyped-call]
        torch.nn.utils.clip_grad_norm_(lora + head, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        step += 1
        loss_sum += float(loss.detach())
        seen += len(ids)
        if after_step(
            config, clock, ckpt, model, opt, sched, step, max_steps, epoch, loss_sum, seen
        ):
            break
    model.eval()
    run = {
        "global_step": step,
        "planned_steps": max_steps,
        "stopped_early": step < max_steps,
        "train_seconds_this_run": round(time.monotonic() - t_run, 1),
        "train_seconds_total": round(seconds_before + time.monotonic() - t_run, 1),
        "layer_cache_seconds_this_run": round(cache_seconds, 1),
        "layer_cache_seconds_total": cache.meta.get("seconds"),
        "train_loss": loss_sum / max(1, step),
        "bf16_compute": bf16,
    }
    return run


def save_parts(folder: Path, peft_encoder: Any, head: PairHead, info: dict[str, Any]) -> Path:
    """Write the adapter (PEFT format), the head and ``train_info.json`` atomically."""
    from safetensors.torch import save_file

    tmp = folder.with_name(folder.name + ".tmp")
    if tmp.exists():
        for f in tmp.iterdir():
            f.unlink()
    peft_encoder.save_pretrained(str(tmp), safe_serialization=True)
    cfg = json.loads((tmp / ADAPTER_CONFIG).read_text())
    cfg["base_model_name_or_path"] = None  # a cache path of this machine; the base is pinned
    (tmp / ADAPTER_CONFIG).write_text(json.dumps(cfg, indent=2) + "\n")
    save_file(
        {k: v.detach().contiguous() for k, v in head.state_dict().items()},
        str(tmp / HEAD_WEIGHTS),
    )
    (tmp / "train_info.json").write_text(json.dumps(info, indent=2) + "\n")
    assert (tmp / ADAPTER_WEIGHTS).is_file()
    if folder.exists():
        old = folder.with_name(folder.name + ".old")
        folder.rename(old)
        tmp.rename(folder)
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    else:
        tmp.rename(folder)
    return folder


def init_from_adapter_model(
    folder: Path, config: RecipeConfig, peft_encoder: Any, head: PairHead
) -> dict[str, Any]:
    """Load the LoRA adapter and head of the trained adapter model in ``folder`` into a
    fresh pair model (``init_from``), so that training continues from them; the optimizer
    and schedule start anew. The folder must be an adapter model over the same pinned base
    (weights' SHA-256), with the same pooling, LoRA rank, alpha and adapted modules, and
    its files must match the SHA-256 its ``stancekit.json`` records. Returns what the
    card records: ``{"model", "weights_sha256"}`` (the adapter file's)."""
    from safetensors.torch import load_file

    from stancekit.errors import ModelConfigError, ModelNotFoundError
    from stancekit.scoring.bases import sha256_file
    from stancekit.scoring.pairmodel import (
        check_adapter_files,
        load_lora_weights,
        read_adapter_config,
    )
    from stancekit.training.stages import portable_path

    spec = config.adapter
    assert spec is not None
    where = f"recipe: init_from={str(folder)!r}"
    try:
        meta = json.loads((folder / "stancekit.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecipeError(f"{where}: cannot read its stancekit.json ({exc})") from exc
    adapter = meta.get("adapter") if isinstance(meta, dict) else None
    if not isinstance(adapter, dict):
        raise RecipeError(
            f"{where} is not an adapter model (its stancekit.json has no 'adapter'); an "
            "adapter recipe continues an adapter model of the same base"
        )
    base_sha = base_weights_sha256(config.encoder)
    if adapter.get("base") != config.encoder or adapter.get("base_weights_sha256") != base_sha:
        raise RecipeError(
            f"{where} adapts the base {adapter.get('base')!r} (weights SHA-256 "
            f"{str(adapter.get('base_weights_sha256'))[:12]}…), but this recipe's encoder is "
            f"{config.encoder!r} ({base_sha[:12]}…); use a model of the same base"
        )
    if adapter.get("pooling") != spec.pooling:
        raise RecipeError(
            f"{where} pools {adapter.get('pooling')!r}, but adapter.pooling={spec.pooling!r}; "
            "set the same pooling"
        )
    try:
        check_adapter_files(folder, adapter)
    except (ModelNotFoundError, ModelConfigError) as exc:
        raise RecipeError(f"{where}: {exc}") from exc
    have = read_adapter_config(folder)
    mine = peft_encoder.peft_config["default"]
    for key, want in (
        ("r", spec.lora_r),
        ("lora_alpha", spec.lora_alpha),
        ("target_modules", mine.target_modules),
    ):
        if have.get(key) != want:
            raise RecipeError(
                f"{where}: its adapter has {key}={have.get(key)!r}, this recipe's "
                f"{want!r} (adapter.frozen_layers sets the adapted modules); set the same"
            )
    misfit = load_lora_weights(peft_encoder, load_file(str(folder / ADAPTER_WEIGHTS)))
    if misfit:
        raise RecipeError(f"{where}: its adapter does not fit this recipe's ({misfit})")
    head_sd = load_file(str(folder / HEAD_WEIGHTS))
    try:
        head.load_state_dict({k: v.float() for k, v in head_sd.items()})
    except RuntimeError as exc:
        raise RecipeError(f"{where}: its head does not fit this recipe's ({exc})") from exc
    log(f"the adapter and head start from {folder}")
    return {
        "model": portable_path(config.init_from or str(folder)),
        "weights_sha256": sha256_file(folder / ADAPTER_WEIGHTS),
    }


def train_adapter_recipe(
    config: RecipeConfig,
    rows: list[tuple[Any, float]],
    counts: dict[str, int],
    weighted_dataset: Any,
    *,
    init: Path | None = None,
    teacher: Path | None = None,
) -> Path:
    """The recipe's train phase for an adapter model; returns ``<work_dir>/final``.
    ``init``: a trained adapter model folder to continue (``init_from``); ``teacher``: a
    model of the same base and template whose probabilities soften the labels
    (``distill_from``; e.g. the ``init_from`` model itself, so that continued training
    on new data keeps its answers on the replayed sets)."""
    spec = config.adapter
    assert spec is not None
    seed_everything(config.seed)
    sm, peft_encoder = new_pair_model(config, spec)
    assert isinstance(sm.model, MarkerPairClassifier)
    started = None
    if init is not None:
        started = init_from_adapter_model(init, config, peft_encoder, sm.model.head)
    ds, cw, sources = weighted_dataset(config, sm, rows)
    if teacher is not None:
        ds = attach_teacher(ds, sources, teacher=teacher, student=sm, config=config)
    steps_per_epoch = math.ceil(len(ds) / config.batch_size)
    max_steps = config.max_steps or math.ceil(steps_per_epoch * config.epochs)
    run = train_adapter(config, sm, peft_encoder, ds, max_steps=max_steps)
    info = {
        "trained_examples_seen": run["global_step"] * config.batch_size,
        "train_set_size": len(ds),
        "train_set_counts": counts,
        "stance_class_weights": [round(x, 4) for x in cw],
        **run,
        "base": {
            "name": config.encoder,
            "version": BASES[config.encoder].version,
            "weights_sha256": base_weights_sha256(config.encoder),
        },
        "adapter": {k: v for k, v in vars(spec).items()},
        **({"initialized_from": started} if started else {}),
        **({"distilled_from": distillation_facts(config)} if teacher is not None else {}),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    assert isinstance(sm.model, MarkerPairClassifier)
    out = save_parts(Path(config.work_dir) / "final", peft_encoder, sm.model.head, info)
    log(f"saved the adapter and head to {out}: {info}")
    return out


def model_from_parts(folder: Path, config: RecipeConfig) -> StanceModel:
    """The :class:`StanceModel` of the train phase's parts folder (``<work_dir>/final``),
    its config carrying the base, the pooling and ``extra.training``."""
    from transformers import AutoTokenizer

    from stancekit.scoring.bases import sha256_file
    from stancekit.scoring.pairmodel import load_pair_model

    spec = config.adapter
    assert spec is not None
    info = json.loads((folder / "train_info.json").read_text())
    adapter = {
        "base": config.encoder,
        "base_version": BASES[config.encoder].version,
        "base_weights_sha256": base_weights_sha256(config.encoder),
        "pooling": spec.pooling,
        "files_sha256": {n: sha256_file(folder / n) for n in ADAPTER_FILES},
    }
    model = load_pair_model(folder, adapter)
    tokenizer = AutoTokenizer.from_pretrained(resolve_base(config.encoder), local_files_only=True)
    mcfg = ModelConfig(
        name=config.name,
        version=config.version,
        max_length=config.max_length,
        window_stride=config.window_stride,
        extra={"training": info},
        adapter=adapter,
    )
    return StanceModel(model, tokenizer, mcfg, device="cpu")
