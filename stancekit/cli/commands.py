"""The other subcommands: ``evaluate``, ``compare``, ``report``, ``finetune`` and
``calibrate`` (``train-default`` has its own parser, in :mod:`stancekit.training.recipe`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["calibrate", "compare", "evaluate", "finetune", "report"]


def read_gold(path: str, lenient: bool) -> Any:
    """The labelled spans of ``path``; each problem found is printed (``--lenient``: the
    bad spans are skipped and reported, not fatal)."""
    from stancekit.spans import read_spans

    gold = read_spans(path, lenient=lenient)
    for problem in gold.problems:
        what = "skipped" if problem.kind == "error" else "note"
        print(f"stancekit: {what}: {problem}", file=sys.stderr)
    return gold


def evaluate(args: argparse.Namespace) -> int:
    """``stancekit evaluate``: metrics with CIs; exit status 1 when spans were skipped."""
    from stancekit.analyzer import StanceAnalyzer
    from stancekit.evaluation import evaluate

    gold = read_gold(args.gold, args.lenient)
    analyzer = StanceAnalyzer(model=args.model)
    report = evaluate(
        analyzer,
        gold,
        mode=args.mode,
        min_overlap=args.min_overlap,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        progress=not args.quiet,
    )
    if args.json:
        report.write_json(args.json)
    if args.predictions:
        report.write_predictions(args.predictions)
    if args.report:
        print(f"report: {report.write_report(args.report)}", file=sys.stderr)
    d = report.to_dict()
    summary = {k: d[k] for k in ("mode", "model", "n_documents", "n_spans")}
    for head in ("stance", "sentiment"):
        if d[head] is not None:
            summary[head] = {
                k: d[head][k] for k in ("n", "macro_f1", "f_avg", "accuracy", "ece") if k in d[head]
            }
    if d["extract"] is not None:
        summary["extract"] = d["extract"]
    print(json.dumps(summary, indent=2, ensure_ascii=False))
    return 1 if any(p.kind == "error" for p in gold.problems) else 0


def compare(args: argparse.Namespace) -> int:
    """``stancekit compare``: the paired bootstrap of two models on one gold file."""
    from stancekit.analyzer import StanceAnalyzer
    from stancekit.evaluation import compare

    if len(args.model) != 2:
        raise ValueError(f"compare needs exactly two --model options, got {len(args.model)}")
    gold = read_gold(args.gold, args.lenient)
    a, b = (StanceAnalyzer(model=m) for m in args.model)
    result = compare(a, b, gold, n_bootstrap=args.bootstrap, seed=args.seed)
    text = json.dumps(result, indent=2, ensure_ascii=False)
    if args.json:
        from stancekit.atomic import atomic_write

        atomic_write(args.json, text + "\n")
    print(text)
    return 1 if any(p.kind == "error" for p in gold.problems) else 0


def finetune(args: argparse.Namespace) -> int:
    """``stancekit finetune``: flags override ``--config``'s settings."""
    from stancekit.finetuning import FineTuneArgs, finetune

    base = FineTuneArgs.from_json(args.config).to_dict() if args.config else {}
    flags = {
        "epochs": args.epochs,
        "learning_rate": args.lr,
        "seed": args.seed,
        "freeze_layers": args.freeze_layers,
        "mix_data": args.mix_data,
        "mix_fraction": args.mix_fraction,
        "min_per_class": args.min_per_class,
        "max_minutes": args.max_minutes,
    }
    settings = FineTuneArgs.from_dict(
        {**base, **{k: v for k, v in flags.items() if v is not None}}, source="finetune"
    )
    res = finetune(
        args.train,
        args.dev,
        base=args.base,
        out=args.out,
        args=settings,
        resume=args.resume,
        quiet=args.quiet,
    )
    table = res.to_dataframe()
    if not table.empty:
        print(table.to_string(index=False))
    print(res.path)
    return 0


def calibrate(args: argparse.Namespace) -> int:
    """``stancekit calibrate``: refit the temperatures, print the ECE before and after."""
    from stancekit.finetuning.calibrate import recalibrate

    res = recalibrate(
        args.spans, model=args.model, out=args.out, folds=args.folds, min_spans=args.min_spans
    )
    print(res.to_dataframe().to_string(index=False))
    if res.model_dir:
        print(res.model_dir)
    return 0


def report(args: argparse.Namespace) -> int:
    """``stancekit report``: the HTML report of a corpus."""
    from stancekit.corpus import report_main

    return report_main(
        args.paths, args.out, aliases=args.aliases, metadata=args.metadata, model=args.model
    )
