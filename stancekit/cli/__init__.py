"""The ``stancekit`` command line.

    stancekit analyze seeds/csto-armenia-2022-11-28.txt
    stancekit analyze articles/ --target NATO --format csv > judgements.csv
    stancekit analyze articles/ --output judgements.jsonl --resume --timeout-s 60
    cat article.txt | stancekit analyze - --summary

Exit status: 0 when every document was analysed, 1 when some were reported and skipped,
2 for a usage or setup error (bad option, missing model, bad targets file).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from stancekit.cli.parser import build_parser
from stancekit.errors import StancekitError

__all__ = ["build_parser", "main"]


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
