"""The models a recipe starts from or learns from: ``init_from`` and ``distill_from`` each
name a model folder or a recipe JSON, which is trained and finalized once into
``<work_dir>/init`` or ``<work_dir>/teacher`` (a finished one is kept); the ``init_from``
model is checked against the model being trained."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from stancekit.errors import RecipeError
from stancekit.scoring.model import StanceModel
from stancekit.training.config import RecipeConfig
from stancekit.training.distill import check_compatible
from stancekit.training.runtime import log

__all__ = [
    "check_init",
    "distillation_facts",
    "init_folder",
    "model_folder",
    "portable_path",
    "teacher_folder",
]


def check_init(init: Path, sm: StanceModel) -> str | None:
    """The weights' SHA-256 of the ``init_from`` model ``init``, after checking that it fits
    ``sm`` (same design, template, labels and vocabulary)."""
    init_model = StanceModel.load(init, device="cpu")
    check_compatible(init_model, sm, param="init_from", folder=init)
    if init_model.config.design != sm.config.design:
        raise RecipeError(
            f"recipe: init_from={str(init)!r} is a {init_model.config.design!r} model, but this "
            f"recipe trains design={sm.config.design!r}; start from a model of the same design"
        )
    log(f"the main stage starts from the weights of {init}")
    return init_model.config.weights_sha256


def portable_path(path: str | None) -> str | None:
    """``path`` as a shipped model may record it: relative to the working folder when it
    lies below it (``models/stancekit-mpnet``), else its last part; never an absolute path
    of the machine that trained it.

    >>> import os
    >>> portable_path(os.path.join(os.getcwd(), "models", "m")), portable_path("/elsewhere/m")
    ('models/m', 'm')
    """
    if path is None:
        return None
    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return p.name


def teacher_folder(config: RecipeConfig, data_dir: str | Path, *, limit: int | None) -> Path | None:
    """The teacher of ``distill_from``: that model folder, or, when it names a recipe JSON,
    the model that recipe trains and finalizes (once, into ``<work_dir>/teacher/model``;
    a finished teacher is kept). None without distillation."""
    if not config.distill_from:
        return None
    return model_folder(config, config.distill_from, "teacher", data_dir, limit=limit)


def init_folder(config: RecipeConfig, data_dir: str | Path, *, limit: int | None) -> Path | None:
    """The model of ``init_from``, as :func:`teacher_folder` (a recipe JSON is trained
    into ``<work_dir>/init/model``, or shares the teacher's when it is ``distill_from``)."""
    if not config.init_from:
        return None
    stage = "teacher" if config.init_from == config.distill_from else "init"
    return model_folder(config, config.init_from, stage, data_dir, limit=limit)


def model_folder(
    config: RecipeConfig, spec: str, stage_name: str, data_dir: str | Path, *, limit: int | None
) -> Path:
    """``spec`` itself when it is a model folder; for a recipe JSON, the model that recipe
    trains and finalizes into ``<work_dir>/<stage_name>/model`` (once; a finished one is
    kept)."""
    src = Path(spec)
    if src.suffix != ".json":
        return src
    stage = Path(config.work_dir) / stage_name
    out = stage / "model"
    if (out / "stancekit.json").is_file():
        log(f"{stage_name} model is done: {out}")
        return out
    tcfg = replace(RecipeConfig.from_json(src), work_dir=str(stage))
    log(f"training the {stage_name} model of {src} into {stage} (then this recipe's)")
    from stancekit.training.recipe import train_default  # the recipe runs its stages

    return train_default(data_dir, out, tcfg, limit=limit)


def distillation_facts(config: RecipeConfig) -> dict[str, Any]:
    """What a distilled model's card and ``train_info.json`` record of its teacher: the
    teacher (a portable path), the alphas, and the sets that learnt from the pipeline's
    unlabelled pairs or from their labels alone."""
    st_a, se_a = config.distill_alphas
    out: dict[str, Any] = {"teacher": portable_path(config.distill_from), "alpha": st_a}
    unlabelled = [d.name for d in config.datasets if d.format == "pipeline"]
    if unlabelled:
        out["unlabelled_sets"] = unlabelled
    labels_only = [d.name for d in config.datasets if not d.distill]
    if labels_only:
        out["labels_only_sets"] = labels_only
    if se_a != st_a:
        out["alpha_sentiment"] = se_a
    return out
