"""The parts of a recipe (:class:`stancekit.training.config.RecipeConfig`): its training
files (:class:`DatasetSpec`), its development files (:class:`EvalSpec`) and its adapter
section (:class:`AdapterSpec`), each validated on construction; and the rule that no recipe
reads a test split (:func:`names_test_split`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stancekit.errors import RecipeError

__all__ = ["AdapterSpec", "DatasetSpec", "EvalSpec", "names_test_split"]


@dataclass(frozen=True)
class DatasetSpec:
    """One training file: ``cap`` examples at most (drawn with the seed), loss ``weight``,
    and an optional held-out slice (``holdout_fraction`` of the groups named by
    ``holdout_group``: ``doc`` or ``target``) that is evaluated as ``<name>_heldout``;
    ``holdout_key`` is a regular expression that picks the document (or story) out of ids
    that name single sentences (see :func:`stancekit.training.data.group_key`).

    ``format`` is ``spans`` (labelled-spans JSONL) or ``nli_tsv`` (a premise / hypothesis /
    label TSV such as SNLI, read as stance of the text's voice toward the hypothesis:
    entailment = favor, contradiction = against, neutral = none) or ``pipeline``: the
    unlabelled pairs stancekit's pipeline builds in a labelled-spans file's texts
    (:mod:`stancekit.training.unlabelled`; a packed recipe with ``distill_from`` only, as
    they are learnt from the teacher alone; ``holdout_*`` as for the labelled set of the
    same file keeps its held-out documents out). ``augment=False`` keeps
    the set out of the role-holder and reported-speech augmentations. ``repeat`` (a
    positive int) puts that many copies of the set's training rows, augmentations
    included, in each epoch: with ``epochs: 1`` it sets how many passes the run makes over
    each set, so a small set can get fewer passes than the rest. ``distill=False`` (packed
    recipes with ``distill_from``) keeps the set's rows, augmentations included, off the
    teacher: they learn their labels alone, and the teacher is not run on them (for sets
    where the teacher is no better than the labels, to save its scoring time)."""

    name: str
    file: str
    cap: int | None = None
    weight: float = 1.0
    holdout_fraction: float = 0.0
    holdout_group: str = "doc"
    holdout_cap: int | None = None
    holdout_key: str | None = None
    format: str = "spans"
    augment: bool = True
    repeat: int = 1
    distill: bool = True

    def __post_init__(self) -> None:
        if self.format not in ("spans", "nli_tsv", "pipeline"):
            raise RecipeError(
                f"dataset {self.name!r}: format={self.format!r} must be 'spans', 'nli_tsv' "
                "or 'pipeline'"
            )
        if self.format == "pipeline" and self.holdout_group != "doc":
            raise RecipeError(
                f"dataset {self.name!r}: format='pipeline' reads whole texts, so it can only "
                f"hold out documents; holdout_group={self.holdout_group!r} must be 'doc' "
                "(or leave the file out)"
            )
        if not self.name or not self.file:
            raise RecipeError(f"dataset {self!r}: 'name' and 'file' are required")
        if self.format == "pipeline" and not self.distill:
            raise RecipeError(
                f"dataset {self.name!r}: format='pipeline' pairs have no labels and learn "
                "the teacher alone, so distill=False would leave them nothing to learn; "
                "remove distill or the set"
            )
        if self.holdout_key is not None:
            try:
                re.compile(self.holdout_key)
            except re.error as exc:
                raise RecipeError(
                    f"dataset {self.name!r}: holdout_key={self.holdout_key!r} is not a "
                    f"regular expression ({exc})"
                ) from exc
        if self.cap is not None and (not isinstance(self.cap, int) or self.cap <= 0):
            raise RecipeError(f"dataset {self.name!r}: cap={self.cap!r} must be a positive int")
        if isinstance(self.repeat, bool) or not isinstance(self.repeat, int) or self.repeat < 1:
            raise RecipeError(
                f"dataset {self.name!r}: repeat={self.repeat!r} must be a positive int "
                "(copies of the set per epoch)"
            )
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
    """A development file never trained on (``cap`` examples at most).

    ``unused_of`` names a capped training set whose ``file`` this is: the dev set is then
    drawn from that file's examples the training cap did not draw (and outside its
    held-out slice), so a large training file can give a development set without reading
    the benchmark's test split."""

    name: str
    file: str
    cap: int | None = None
    note: str = ""
    format: str = "spans"
    unused_of: str | None = None

    def __post_init__(self) -> None:
        if self.format not in ("spans", "nli_tsv"):
            raise RecipeError(
                f"dev set {self.name!r}: format={self.format!r} must be 'spans' or 'nli_tsv'"
            )
        if self.cap is not None and (
            isinstance(self.cap, bool) or not isinstance(self.cap, int) or self.cap <= 0
        ):
            raise RecipeError(f"dev set {self.name!r}: cap={self.cap!r} must be a positive int")


_TEST_SPLIT = re.compile(r"(?:^|[/_.\-])(?:dev)?test(?:[/_.\-]|$)", re.IGNORECASE)


def names_test_split(file: str) -> bool:
    """True when a data file's path names a test split (``snli/test.tsv``,
    ``vast_test.jsonl``, ``newsmtsc-devtest.jsonl``): recipes never read those.

    >>> names_test_split("snli/test.tsv"), names_test_split("dsa_valid.jsonl")
    (True, False)
    """
    return bool(_TEST_SPLIT.search(file))


@dataclass(frozen=True)
class AdapterSpec:
    """Train a LoRA adapter and a marker-pooling head instead of the whole encoder.

    The lower ``frozen_layers`` layers are not trained: their outputs are computed once
    (bfloat16 when ``bf16``) and cached in ``<work_dir>/layer-cache``
    (:mod:`stancekit.training.layercache`). LoRA of rank ``lora_r`` (scale
    ``lora_alpha / lora_r``, dropout ``lora_dropout``) adapts the attention projections
    and both feed-forward layers of every layer above; the head pools ``pooling``
    (``markers``: first token + holder marker + target marker; ``cls``: first token only,
    see :mod:`stancekit.scoring.pairmodel`) and learns at ``head_learning_rate`` (default: the
    recipe's ``learning_rate``). Only the adapter and the head are saved; the base is
    named by the recipe's ``encoder`` (a key of :data:`stancekit.scoring.bases.BASES`).
    ``layer_cache`` puts the cache elsewhere (default ``<work_dir>/layer-cache``): variants
    that freeze the same layers over the same training pairs (a pooling ablation) share
    one; a cache made for other inputs is refused, never mixed."""

    frozen_layers: int = 8
    lora_r: int = 16
    lora_alpha: float = 32.0
    lora_dropout: float = 0.05
    pooling: str = "markers"
    head_learning_rate: float | None = None
    bf16: bool = True
    layer_cache: str | None = None

    def __post_init__(self) -> None:
        from stancekit.scoring.modelconfig import POOLINGS

        if self.pooling not in POOLINGS:
            raise RecipeError(f"adapter: pooling={self.pooling!r} must be one of {POOLINGS}")
        for key, low, kind in (("frozen_layers", 0, "non-negative"), ("lora_r", 1, "positive")):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise RecipeError(f"adapter: {key}={v!r} must be a {kind} int")
        if not isinstance(self.lora_alpha, (int, float)) or self.lora_alpha <= 0:
            raise RecipeError(f"adapter: lora_alpha={self.lora_alpha!r} must be > 0")
        if not 0.0 <= self.lora_dropout < 1.0:
            raise RecipeError(f"adapter: lora_dropout={self.lora_dropout!r} must be in [0, 1)")
        hlr = self.head_learning_rate
        if hlr is not None and (not isinstance(hlr, (int, float)) or hlr <= 0):
            raise RecipeError(f"adapter: head_learning_rate={hlr!r} must be > 0 or null")
