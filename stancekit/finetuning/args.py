"""The settings of a fine-tuning run: :class:`FineTuneArgs`, validated on construction and
saved with the model (``finetune_args.json``).

>>> FineTuneArgs(epochs=3, learning_rate=2e-5).epochs
3
>>> FineTuneArgs(epochs=0)
Traceback (most recent call last):
...
stancekit.finetuning.args.FineTuneArgsError: epochs=0 must be a positive number, e.g. epochs=5
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from stancekit.errors import StancekitError

__all__ = ["CLASS_WEIGHTING", "FineTuneArgs", "FineTuneArgsError"]

#: Ways to counter class imbalance in the loss: per-class weights ``(N / (K n_c)) ** p``
#: with p = 1 (``balanced``), p = 0.5 (``sqrt``) or no weighting (``none``).
CLASS_WEIGHTING: dict[str, float] = {"balanced": 1.0, "sqrt": 0.5, "none": 0.0}


class FineTuneArgsError(StancekitError, ValueError):
    """A fine-tuning setting is out of range (the message names it and the fix)."""


@dataclass(frozen=True)
class FineTuneArgs:
    """Hyperparameters of :func:`stancekit.finetune`.

    Attributes:
        epochs: passes over the training spans (early stopping may end sooner).
        learning_rate: peak AdamW learning rate (linear warm-up and decay).
        batch_size: training pairs per step.
        seed: seed of the dev split, the mixing draw, shuffling and initialisation.
        dev_fraction: share of training *documents* moved to dev when no dev set is given.
        early_stopping_patience: evaluations (one per epoch) without a better dev score
            before training stops; the best checkpoint is kept.
        class_weighting: ``balanced``, ``sqrt`` or ``none`` (see :data:`CLASS_WEIGHTING`).
        freeze_layers: lower encoder layers (and the embeddings) kept frozen; helps with
            very small data.
        mix_data: a folder with the default recipe's training files (``../shared/data``);
            with ``mix_fraction`` > 0, that share of original pairs is mixed in against
            forgetting.
        mix_fraction: original pairs mixed in, as a multiple of the number of training
            spans (0.5: one original pair for every two new ones).
        min_per_class: fewest training spans a label used in the data may have.
        warmup_ratio, weight_decay: optimiser schedule and regularisation.
        calibrate: refit the temperatures on the dev set after training.
        n_bootstrap: resamples of the 95% intervals and of the paired comparison.
        max_minutes: stop training (with a checkpoint) after this many minutes.
    """

    epochs: float = 5.0
    learning_rate: float = 3e-5
    batch_size: int = 16
    seed: int = 13
    dev_fraction: float = 0.2
    early_stopping_patience: int = 2
    class_weighting: str = "sqrt"
    freeze_layers: int = 0
    mix_data: str | None = None
    mix_fraction: float = 0.0
    min_per_class: int = 5
    warmup_ratio: float = 0.1
    weight_decay: float = 0.01
    calibrate: bool = True
    n_bootstrap: int = 1000
    max_minutes: float | None = None

    def __post_init__(self) -> None:
        def num(key: str, example: str, *, integer: bool = False, zero: bool = False) -> None:
            v = getattr(self, key)
            kinds = (int,) if integer else (int, float)
            ok = not isinstance(v, bool) and isinstance(v, kinds) and (v >= 0 if zero else v > 0)
            if not ok:
                sign = "non-negative" if zero else "positive"
                kind = "int" if integer else "number"
                raise FineTuneArgsError(
                    f"{key}={v!r} must be a {sign} {kind}, e.g. {key}={example}"
                )

        num("epochs", "5")
        num("learning_rate", "3e-5")
        num("batch_size", "16", integer=True)
        num("seed", "13", integer=True, zero=True)
        num("early_stopping_patience", "2", integer=True)
        num("freeze_layers", "0", integer=True, zero=True)
        num("min_per_class", "5", integer=True)
        num("n_bootstrap", "1000", integer=True)
        num("weight_decay", "0.01", zero=True)
        num("mix_fraction", "0.5", zero=True)
        if self.max_minutes is not None:
            num("max_minutes", "15")
        for key in ("dev_fraction", "warmup_ratio"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v < 1:
                raise FineTuneArgsError(f"{key}={v!r} must be in [0, 1), e.g. {key}=0.2")
        if self.dev_fraction == 0:
            raise FineTuneArgsError(
                "dev_fraction=0 leaves no dev set for early stopping and calibration; "
                "use e.g. dev_fraction=0.2 or pass a dev set"
            )
        if self.class_weighting not in CLASS_WEIGHTING:
            raise FineTuneArgsError(
                f"class_weighting={self.class_weighting!r} must be one of {sorted(CLASS_WEIGHTING)}"
            )
        if self.mix_fraction > 0 and not self.mix_data:
            raise FineTuneArgsError(
                f"mix_fraction={self.mix_fraction} needs mix_data, the folder of the default "
                "recipe's training files (e.g. mix_data='../shared/data')"
            )
        if not isinstance(self.calibrate, bool):
            raise FineTuneArgsError(f"calibrate={self.calibrate!r} must be True or False")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], *, source: str = "arguments") -> FineTuneArgs:
        """Build from a mapping; unknown keys are errors that list the known ones."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise FineTuneArgsError(f"{source}: unknown settings {unknown}; known: {sorted(known)}")
        return cls(**d)

    @classmethod
    def from_json(cls, path: str | os.PathLike[str]) -> FineTuneArgs:
        """Read a JSON object of settings (``--config FILE``)."""
        p = Path(path)
        try:
            raw = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise FineTuneArgsError(f"{p}: cannot read the fine-tuning config ({exc})") from exc
        if not isinstance(raw, dict):
            raise FineTuneArgsError(f"{p}: the config must be a JSON object of settings")
        return cls.from_dict(raw, source=str(p))
