"""What ``stancekit analyze`` writes: the output format, the destination (standard output or
a file written atomically), and the rows in each format (table, CSV, JSON Lines, JSON)."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from stancekit.results.judgements import AUTHOR, DocumentResult, json_line

__all__ = [
    "OUTPUT_FORMATS",
    "destination",
    "failed",
    "output_format",
    "plural",
    "print_table",
    "records",
    "write_results",
]

#: ``--output`` file suffix -> format, when ``--format`` is not given.
OUTPUT_FORMATS = {".jsonl": "jsonl", ".csv": "csv", ".json": "json", ".txt": "table"}


def output_format(args: argparse.Namespace) -> str:
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
def destination(output: str | None) -> Iterator[IO[str]]:
    """Standard output, or ``output`` written atomically (absent until complete)."""
    if output is None:
        yield sys.stdout
        return
    from stancekit.atomic import atomic_open

    with atomic_open(output) as f:
        yield f


def failed(failures: list[DocumentResult | str], res: DocumentResult) -> None:
    """Record a document that could not be analysed and say so on stderr."""
    failures.append(res)
    print(f"stancekit: skipped {res.document.id}: {res.error}", file=sys.stderr)


def write_results(
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
            failed(failures, res)
            continue
        if fmt == "table" or fmt == "json":
            results.append(res)
        elif fmt == "jsonl":
            for rec in records(res, args.summary, args.level):
                out.write(json_line(rec) + "\n")
        else:  # csv
            frame = (res.summary(level=args.level) if args.summary else res).to_dataframe()
            frame.to_csv(out, index=False, header=not header_written)
            header_written = True
    if fmt == "table":
        print_table(results, args.summary, out, args.level)
    elif fmt == "json":
        payload = [
            res.summary(level=args.level).to_dict() if args.summary else res.to_dict()
            for res in results
        ]
        json.dump(payload, out, ensure_ascii=False, indent=2)
        out.write("\n")
    return n + sum(isinstance(f, str) for f in failures[n_failed:])


def records(res: DocumentResult, summary_only: bool, level: str = "actor") -> list[dict[str, Any]]:
    """The rows of one result: its judgements, or its summary at ``level``."""
    return res.summary(level=level).to_records() if summary_only else res.to_records()


def _fmt_p(probs: dict[str, float], label: str) -> str:
    return f"{label} {probs[label]:.2f}"


def print_table(
    results: list[DocumentResult], summary_only: bool, out: IO[str], level: str = "actor"
) -> None:
    """The judgements (unless ``summary_only``) and the summary of each result, as rich
    tables on ``out``."""
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


def plural(n: int, word: str) -> str:
    """``1 document``, ``2 documents``."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def _fmt_evidence(label: str, first: float, second: float) -> str:
    """A summary label with its evidence: the expected number of sentences that express
    the winning stance (or, for none/neutral, the larger of the two)."""
    value = {"favor": first, "positive": first, "against": second, "negative": second}
    return f"{label} ({value.get(label, max(first, second)):.2f} sent.)"
