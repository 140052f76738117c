"""Distillation targets for the recipe: a trained teacher model's probabilities on the
exact training inputs, cached in the run's work folder.

With ``distill_from`` set (see :class:`~stancekit.training.config.RecipeConfig`), every
labelled head of a training row learns from ``(1 - alpha) * one_hot(label) + alpha *
p_teacher`` instead of the label alone (:func:`~stancekit.training.trainer.masked_two_head_loss`).
The teacher scores the tokenized rows the student trains on (the same window, template
and tokenizer), with its own calibrated temperatures, so its targets are its calibrated
probabilities.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from stancekit.scoring.model import PairInput, StanceModel, _softmax
from stancekit.training.runtime import log

if TYPE_CHECKING:
    from stancekit.training.config import RecipeConfig

__all__ = [
    "DistillError",
    "add_teacher_column",
    "attach_teacher",
    "check_compatible",
    "distilled_rows",
    "label_agreement",
    "scatter_teacher",
    "teacher_pair_probabilities",
    "teacher_probabilities",
]


class DistillError(ValueError):
    """A trained model (a teacher, or ``init_from``) does not fit the recipe's inputs
    (another template, labels or tokenizer)."""


def _fingerprint(ds: Any, teacher_dir: Path, teacher_sha: str | None) -> str:
    """A key of the teacher's weights (``teacher_sha``: their SHA-256, or for an adapter
    model its files' hashes) and the inputs: the cache is only read back for both
    unchanged (a folder without either has its weights file hashed)."""
    if teacher_sha is None:
        teacher_sha = hashlib.sha256((teacher_dir / "model.safetensors").read_bytes()).hexdigest()
    h = hashlib.sha256(teacher_sha.encode())
    for ids in ds["input_ids"]:
        h.update(np.asarray(ids, dtype=np.int32).tobytes())
        h.update(b"|")
    return h.hexdigest()


def teacher_probabilities(
    teacher_dir: str | os.PathLike[str],
    ds: Any,
    *,
    student: StanceModel,
    cache_dir: Path,
    batch_size: int = 128,
) -> np.ndarray:
    """``(len(ds), 6)`` probabilities of the teacher in ``teacher_dir`` on the tokenized
    rows of ``ds`` (columns ``input_ids``, ``attention_mask``, optionally
    ``token_type_ids``): stance (3) then sentiment (3), each a softmax at the teacher's
    calibrated temperature. A teacher whose input template, labels or tokenizer vocabulary
    differ from the ``student``'s is refused (its probabilities would be of other inputs).
    The result is cached in ``cache_dir/teacher.npy``, keyed by the teacher's weights and
    the inputs, so a resumed run does not score again.

    >>> probs = teacher_probabilities(  # doctest: +SKIP
    ...     "models/stancekit-minilm", ds, student=sm, cache_dir=Path("runs/x")
    ... )
    >>> probs.shape  # doctest: +SKIP
    (69280, 6)
    """
    teacher = StanceModel.load(teacher_dir, device="cpu")
    check_compatible(teacher, student, param="distill_from", folder=teacher_dir)
    tc = teacher.config
    ident = tc.weights_sha256
    if ident is None and tc.adapter:  # an adapter model: its files' hashes name its weights
        ident = json.dumps(tc.adapter.get("files_sha256"), sort_keys=True)
    key = _fingerprint(ds, Path(teacher_dir), ident)
    cache, meta = cache_dir / "teacher.npy", cache_dir / "teacher.json"
    if cache.is_file() and meta.is_file() and json.loads(meta.read_text()).get("key") == key:
        log(f"teacher probabilities from the cache {cache}")
        cached: np.ndarray = np.load(cache)
        return cached
    n_st = len(tc.stance_labels)
    order = np.argsort([len(x) for x in ds["input_ids"]])
    out = np.zeros((len(ds), n_st + len(tc.sentiment_labels)), dtype=np.float32)
    names: tuple[str, ...] = ("input_ids", "attention_mask", "token_type_ids")
    if teacher.pooled:  # a marker-pooling (adapter) teacher reads the markers' positions too
        names += ("h_pos", "t_pos")
    cols = [c for c in names if c in ds.column_names]
    t0 = time.monotonic()
    with torch.inference_mode():
        for b in range(0, len(order), batch_size):
            idx = order[b : b + batch_size]
            rows = ds.select(idx.tolist())
            logits = teacher._forward([{c: r[c] for c in cols} for r in rows])  # as predict
            out[idx, :n_st] = _softmax(logits[:, :n_st] / tc.temperature_stance)
            out[idx, n_st:] = _softmax(logits[:, n_st:] / tc.temperature_sentiment)
            if (b // batch_size) % 50 == 0:
                log(f"teacher scored {b + len(idx)}/{len(order)} rows")
    log(f"teacher scored {len(order)} rows in {time.monotonic() - t0:.0f}s")
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = cache_dir / "teacher.tmp.npy"
    np.save(tmp, out)
    os.replace(tmp, cache)
    meta.write_text(json.dumps({"key": key, "teacher": str(teacher_dir)}) + "\n")
    return out


def check_compatible(
    model: StanceModel, student: StanceModel, *, param: str, folder: str | os.PathLike[str]
) -> None:
    """Refuse a trained ``model`` (named by the recipe's ``param``) whose input template,
    labels or tokenizer vocabulary differ from the ``student``'s: its probabilities or
    weights would be of other inputs."""
    mc, sc = model.config, student.config
    for what, a, b in (
        ("input template", mc.template, sc.template),
        ("labels", mc.stance_labels + mc.sentiment_labels, sc.stance_labels + sc.sentiment_labels),
        ("tokenizer vocabulary size", len(model.tokenizer), len(student.tokenizer)),
    ):
        if a != b:
            raise DistillError(
                f"{param}={str(folder)!r}: that model's {what} {a!r} differs from this "
                f"recipe's {b!r}; use a model trained with the same {what}"
            )


def add_teacher_column(ds: Any, probs: np.ndarray) -> Any:
    """``ds`` with a ``teacher`` column (one list of probabilities per row)."""
    if len(probs) != len(ds):
        raise DistillError(f"teacher probabilities: {len(probs)} rows for {len(ds)} inputs")
    return ds.add_column("teacher", probs.tolist())


def distilled_rows(sources: Sequence[str], config: RecipeConfig) -> tuple[list[int], set[str]]:
    """The indices of the rows the teacher scores (their set, ``sources``' entry before any
    ``+augmentation``, does not set ``distill: false``), and the sets that learn their
    labels alone.

    >>> from stancekit.training.config import RecipeConfig
    >>> from stancekit.training.specs import DatasetSpec
    >>> cfg = RecipeConfig(datasets=(DatasetSpec("a", "a.jsonl", distill=False),
    ...                              DatasetSpec("b", "b.jsonl")), distill_from="t")
    >>> distilled_rows(["a", "b", "a+role", "b+speech"], cfg)
    ([1, 3], {'a'})
    """
    labels_only = {d.name for d in config.datasets if not d.distill}
    keep = [i for i, s in enumerate(sources) if s.split("+")[0] not in labels_only]
    return keep, labels_only


def scatter_teacher(
    sources: Sequence[str],
    config: RecipeConfig,
    score: Callable[[list[int]], np.ndarray],
    *,
    unit: str = "rows",
) -> tuple[np.ndarray, list[int]]:
    """The teacher's probabilities for every training row (``sources``: each row's set):
    ``score(rows)`` scores the rows of :func:`distilled_rows`, the others are NaN (they
    learn their labels alone). Returns them and the scored rows' indices; logs the split
    (counting ``unit``)."""
    keep, labels_only = distilled_rows(sources, config)
    scored = score(keep)
    probs = np.full((len(sources), scored.shape[1]), np.nan, dtype=np.float32)
    probs[keep] = scored
    log(
        f"distilling from {config.distill_from} (alphas stance, sentiment "
        f"{config.distill_alphas}) on {len(keep)} of {len(sources)} {unit}"
        + (f" ({sorted(labels_only)} learn their labels alone)" if labels_only else "")
    )
    return probs, keep


def attach_teacher(
    ds: Any, sources: Sequence[str], *, teacher: Path, student: StanceModel, config: RecipeConfig
) -> Any:
    """``ds`` with a ``teacher`` column: the teacher's probabilities on each row
    (:func:`teacher_probabilities`, cached in the recipe's ``work_dir``), NaN on the rows
    of sets with ``distill: false`` (:func:`scatter_teacher`)."""

    def score(keep: list[int]) -> np.ndarray:
        part = ds if len(keep) == len(ds) else ds.select(keep)
        return teacher_probabilities(
            teacher,
            part,
            student=student,
            cache_dir=Path(config.work_dir),
            batch_size=config.eval_batch_size,
        )

    probs, keep = scatter_teacher(sources, config, score)
    rows = ds.select(keep)
    agree = label_agreement(rows, probs[keep], len(student.config.stance_labels))
    log(f"the teacher's argmax agrees with the training labels: {agree}")
    return add_teacher_column(ds, probs)


def label_agreement(ds: Any, probs: np.ndarray, n_stance: int) -> dict[str, float]:
    """How often the teacher's argmax is the training label, per head (over the rows that
    have one): ``{"stance": ..., "sentiment": ...}``, for the recipe's log.

    >>> from datasets import Dataset
    >>> ds = Dataset.from_dict({"stance_label": [0, -100], "sentiment_label": [-100, 2]})
    >>> p = np.array([[0.8, 0.1, 0.1, 0.3, 0.3, 0.4], [0.1, 0.1, 0.8, 0.6, 0.2, 0.2]])
    >>> label_agreement(ds, p, 3)
    {'stance': 1.0, 'sentiment': 0.0}
    """
    out = {}
    for head, cols in (("stance", slice(0, n_stance)), ("sentiment", slice(n_stance, None))):
        y = np.asarray(ds[f"{head}_label"])
        m = y >= 0
        out[head] = (
            round(float((probs[m][:, cols].argmax(1) == y[m]).mean()), 4) if m.any() else 0.0
        )
    return out


def teacher_pair_probabilities(
    teacher_dir: str | os.PathLike[str],
    pairs: Sequence[PairInput],
    *,
    cache_dir: Path,
    batch_size: int = 128,
    chunk: int = 4096,
) -> np.ndarray:
    """``(len(pairs), 6)`` calibrated probabilities (stance then sentiment) of the teacher
    in ``teacher_dir`` on ``pairs``, through its own :meth:`StanceModel.predict` (its own
    tokenizer, template and design: any teacher fits any student, as a packed student of
    an MPNet teacher needs). Cached in ``cache_dir/teacher-pairs.npy``, keyed by the
    teacher's ``stancekit.json`` (which holds its weights' SHA-256) and the pairs; filled
    chunk by chunk, so an interrupted run resumes scoring where it stopped."""
    teacher = StanceModel.load(teacher_dir, device="cpu")
    h = hashlib.sha256((Path(teacher_dir) / "stancekit.json").read_bytes())
    for p in pairs:
        h.update(repr((p.sentence, p.holder, p.target, p.holder_span, p.target_span)).encode())
    key = h.hexdigest()
    cache, meta = cache_dir / "teacher-pairs.npy", cache_dir / "teacher-pairs.json"
    n_out = teacher.config.num_labels
    done = 0
    if cache.is_file() and meta.is_file() and json.loads(meta.read_text()).get("key") == key:
        done = int(json.loads(meta.read_text())["done"])
        out: np.ndarray = np.load(cache)
    else:
        out = np.zeros((len(pairs), n_out), dtype=np.float32)
    t0 = time.monotonic()
    cache_dir.mkdir(parents=True, exist_ok=True)
    while done < len(pairs):
        part = list(pairs[done : done + chunk])
        s = teacher.predict(part, batch_size=batch_size)
        out[done : done + len(part)] = np.concatenate([s.stance, s.sentiment], axis=1)
        done += len(part)
        tmp = cache_dir / "teacher-pairs.tmp.npy"
        np.save(tmp, out)
        os.replace(tmp, cache)
        meta.write_text(json.dumps({"key": key, "teacher": str(teacher_dir), "done": done}))
        log(f"teacher scored {done}/{len(pairs)} pairs ({time.monotonic() - t0:.0f}s)")
    return out
