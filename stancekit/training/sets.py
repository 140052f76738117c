"""The recipe's example sets: the configured training files (weighted, capped, with
held-out slices) and development files, filtered to the pairs
:meth:`~stancekit.scoring.model.StanceModel.encode` can window, and tokenized into a
:class:`datasets.Dataset` exactly as inference would see them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, cast

from stancekit.scoring.model import PairInput, StanceModel
from stancekit.training.augment import reported_speech, role_holders, speaker_names
from stancekit.training.config import RecipeConfig
from stancekit.training.data import (
    Example,
    group_key,
    held_out,
    holdout_split,
    read_labelled_spans,
    read_nli_tsv,
    subsample,
    subsample_indices,
)
from stancekit.training.runtime import log
from stancekit.training.specs import DatasetSpec, EvalSpec
from stancekit.training.unlabelled import pipeline_examples

__all__ = [
    "build_dataset",
    "drop_unencodable",
    "encodable",
    "encode_examples",
    "load_dev_sets",
    "load_heldout_sets",
    "load_training_sets",
    "split_by_spec",
]

T = TypeVar("T")


def load_training_sets(
    config: RecipeConfig, data_dir: str | Path, *, limit: int | None = None
) -> tuple[list[tuple[Example, float]], dict[str, list[Example]], dict[str, int]]:
    """``(weighted training examples, held-out sets by name, counts by dataset)``."""
    data_dir = Path(data_dir)
    train_rows: list[tuple[Example, float]] = []
    held: dict[str, list[Example]] = {}
    counts: dict[str, int] = {}
    for spec in config.datasets:
        tr, ho = _read_split(config, spec, data_dir, limit)
        cap = spec.cap if limit is None else min(spec.cap or limit, limit)
        tr = subsample(tr, cap, seed=config.seed)
        if ho:
            held[f"{spec.name}_heldout"] = ho
        train_rows.extend((e, float(spec.weight)) for e in tr)
        counts[spec.name] = len(tr)
    no_aug = {d.name for d in config.datasets if not d.augment or d.format == "pipeline"}
    train_rows.extend(
        _augmented(config, [r for r in train_rows if r[0].source not in no_aug], counts)
    )
    return _repeated(config, train_rows), held, counts


def load_heldout_sets(
    config: RecipeConfig, data_dir: str | Path, *, limit: int | None = None
) -> dict[str, list[Example]]:
    """The held-out slices of the training files (``<name>_heldout``), as
    :func:`load_training_sets` returns them, without building the training rows."""
    held: dict[str, list[Example]] = {}
    for spec in config.datasets:
        if spec.holdout_fraction and spec.format != "pipeline":
            _, ho = _read_split(config, spec, Path(data_dir), limit)
            if ho:
                held[f"{spec.name}_heldout"] = ho
    return held


def _read_split(
    config: RecipeConfig, spec: DatasetSpec, data_dir: Path, limit: int | None
) -> tuple[list[Example], list[Example]]:
    """``(train, held_out)`` of one training file, the held-out slice capped at
    ``holdout_cap`` (or ``limit``) with the recipe's seed."""
    if spec.format == "pipeline":  # unlabelled: the held-out documents are not even read

        def keep(doc_id: str) -> bool:
            key = group_key(doc_id, spec.holdout_key)
            return not held_out(key, spec.holdout_fraction, seed=config.seed)

        return pipeline_examples(data_dir / spec.file, source=spec.name, keep=keep, limit=limit), []
    read = read_nli_tsv if spec.format == "nli_tsv" else read_labelled_spans
    tr, ho = split_by_spec(read(data_dir / spec.file, source=spec.name), spec, seed=config.seed)
    hcap = spec.holdout_cap if limit is None else min(spec.holdout_cap or limit, limit)
    return tr, subsample(ho, hcap, seed=config.seed)


def _repeated(
    config: RecipeConfig, rows: list[tuple[Example, float]]
) -> list[tuple[Example, float]]:
    """``rows`` with each dataset's rows ``repeat`` times, its augmentations (sourced
    ``<name>+role`` / ``<name>+speech``) included; the counts stay distinct examples."""
    times = {d.name: d.repeat for d in config.datasets}
    if all(t == 1 for t in times.values()):
        return rows

    def repeat(source: str) -> int:
        return times.get(source) or times.get(source.rsplit("+", 1)[0], 1)

    return [row for row in rows for _ in range(repeat(row[0].source))]


def split_by_spec(
    exs: Sequence[Example], spec: DatasetSpec, *, seed: int
) -> tuple[list[Example], list[Example]]:
    """``(train, held_out)`` of ``exs`` as the recipe splits dataset ``spec``."""
    return holdout_split(
        exs,
        spec.holdout_fraction,
        group=spec.holdout_group,
        seed=seed,
        key_pattern=spec.holdout_key,
    )


def _augmented(
    config: RecipeConfig, rows: list[tuple[Example, float]], counts: dict[str, int]
) -> list[tuple[Example, float]]:
    """The configured augmentations of ``rows`` (see :mod:`.augment`), each copy with its
    source dataset's weight; adds their counts to ``counts`` as ``<name>+role`` /
    ``<name>+speech``."""
    by_source: dict[str, tuple[list[Example], float]] = {}
    for e, w in rows:
        by_source.setdefault(e.source, ([], w))[0].append(e)
    names = speaker_names([e for e, _ in rows])
    out: list[tuple[Example, float]] = []
    for k, (exs, w) in enumerate(by_source.values()):
        copies: list[Example] = []
        if config.augment_role_holders:
            copies += role_holders(exs, config.augment_role_holders, seed=config.seed + k)
        if config.augment_reported_speech and names:
            copies += reported_speech(
                exs, config.augment_reported_speech, names=names, seed=config.seed + k
            )
        for c in copies:
            counts[c.source] = counts.get(c.source, 0) + 1
        out.extend((c, w) for c in copies)
    return out


def load_dev_sets(
    config: RecipeConfig, data_dir: str | Path, *, limit: int | None = None
) -> dict[str, list[Example]]:
    """The development sets by name (each capped at ``cap``, or ``limit``, examples)."""
    out: dict[str, list[Example]] = {}
    for spec in config.dev:
        if spec.unused_of is not None:
            exs = _unused_training_rows(config, spec, Path(data_dir), limit)
        else:
            read = read_nli_tsv if spec.format == "nli_tsv" else read_labelled_spans
            exs = read(Path(data_dir) / spec.file, source=spec.name)
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


def drop_unencodable(
    sm: StanceModel, name: str, items: list[T], key: Callable[[T], Example] | None = None
) -> list[T]:
    """``items`` without those whose example (``key(item)``, default the item itself)
    :func:`encodable` rejects; logs how many were dropped."""
    exs = [key(x) for x in items] if key else cast(list[Example], items)
    mask, dropped = encodable(sm, exs)
    if dropped:
        log(f"{name}: dropped {dropped} pairs whose holder/target names are too long to window")
    return [x for x, ok in zip(items, mask, strict=True) if ok]


def encode_examples(
    sm: StanceModel, pairs: Sequence[PairInput], chunk: int = 2048
) -> list[dict[str, Any]]:
    """One tokenized window per pair, exactly as :meth:`StanceModel.encode` writes it and
    choosing the window :meth:`StanceModel.predict` would score first (the one holding the
    target and holder mentions when the pair is longer than ``max_length``). A model
    that pools marker tokens (:attr:`StanceModel.pooled`) also gets ``h_pos`` and
    ``t_pos``, the markers' token indices in that window."""
    from stancekit.scoring.pairmodel import marker_token_positions

    out: list[dict[str, Any]] = []
    keys = ("input_ids", "attention_mask", "token_type_ids")
    for b in range(0, len(pairs), chunk):
        part = list(pairs[b : b + chunk])
        enc = sm.encode(part)
        chosen, _ = sm._choose_windows(part, enc)
        pos = marker_token_positions(sm.config.template, part, enc) if sm.pooled else None
        for ws in chosen:
            w = ws[0]
            feat: dict[str, Any] = {k: list(enc[k][w]) for k in keys if k in enc}
            if pos is not None:
                feat["h_pos"], feat["t_pos"] = pos[w]
            out.append(feat)
    return out


def build_dataset(sm: StanceModel, rows: Sequence[tuple[Example, float]]) -> Any:
    """A :class:`datasets.Dataset` of the encoded ``(example, weight)`` rows with the label
    columns the loss reads (-100 where a head has no label), ``weight`` and ``length``."""
    from datasets import Dataset

    feats = encode_examples(sm, [e.pair for e, _ in rows])
    cols: dict[str, list[Any]] = {k: [f[k] for f in feats] for k in feats[0]}
    cols["stance_label"] = [-100 if e.stance is None else e.stance for e, _ in rows]
    cols["sentiment_label"] = [-100 if e.sentiment is None else e.sentiment for e, _ in rows]
    cols["weight"] = [w for _, w in rows]
    cols["length"] = [len(f["input_ids"]) for f in feats]
    return Dataset.from_dict(cols)


def _unused_training_rows(
    config: RecipeConfig, spec: EvalSpec, data_dir: Path, limit: int | None
) -> list[Example]:
    """The examples of training dataset ``spec.unused_of`` that :func:`load_training_sets`
    does not draw (its cap, with the recipe's seed), renamed to the dev set's source."""
    ds = next(d for d in config.datasets if d.name == spec.unused_of)
    tr, _ = _read_split(config, ds, data_dir, limit)
    cap = ds.cap if limit is None else min(ds.cap or limit, limit)
    used = set(subsample_indices(len(tr), cap, seed=config.seed))
    return [replace(e, source=spec.name) for i, e in enumerate(tr) if i not in used]
