"""``stancekit analyze``: the local engine (streamed to the output, or checkpointed per
document with ``--output FILE.jsonl``), or Ray's (Parquet shards)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stancekit.cli.inputs import expand_paths, read_items
from stancekit.cli.output import destination, failed, output_format, plural, records, write_results
from stancekit.results.judgements import DocumentResult

__all__ = ["analyze"]


def analyze(args: argparse.Namespace) -> int:
    """``stancekit analyze``: exit status 0, or 1 when some inputs were reported and skipped."""
    from stancekit.actors.targets import DEFAULT_TARGETS, Target, load_targets
    from stancekit.analyzer import StanceAnalyzer

    targets: list[Target] = []
    if args.targets_file:
        targets.extend(load_targets(args.targets_file))
    targets.extend(Target(name) for name in args.target or [])
    if args.engine == "ray":
        return analyze_ray(args, targets or list(DEFAULT_TARGETS))
    if args.address:
        raise ValueError("--address goes with --engine ray")
    fmt = output_format(args)
    analyzer = StanceAnalyzer(model=args.model, targets=targets or DEFAULT_TARGETS)
    sources = expand_paths(args.paths)
    failures: list[DocumentResult | str] = []
    items = read_items(sources, failures)
    options = {"progress": len(sources) > 1 and not args.quiet, "timeout_s": args.timeout_s}
    if args.output and fmt == "jsonl":
        n = analyze_resumable(analyzer, items, args, failures, options)
    else:
        with destination(args.output) as out:
            n = write_results(analyzer.analyze_many(items, **options), fmt, args, failures, out)
    if failures:
        print(f"stancekit: {len(failures)} of {n} inputs skipped (see above)", file=sys.stderr)
        return 1
    return 0


def analyze_resumable(
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
                f"{plural(journal.n_complete, 'document')} complete"
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
                journal.add(doc.id, text_sha256(doc.text), records(res, args.summary, args.level))
            else:
                failed(failures, res)
        journal.finish()
    if n_kept:
        print(
            f"stancekit: {plural(n_kept, 'document')} already complete; not analysed again",
            file=sys.stderr,
        )
    return n + n_kept + sum(isinstance(f, str) for f in failures[n_failed:])


def analyze_ray(args: argparse.Namespace, targets: list[Any]) -> int:
    """``analyze --engine ray``: Parquet shards of judgement rows in ``--output``."""
    from stancekit.engine.ray_files import analyze_files

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
