"""Bounded fuzzing of the spans readers and the command line (``benchmarks/fuzz.py`` holds
the targets and runs them for a fixed time). Each test runs one target for a fixed number
of hypothesis examples; ``STANCEKIT_FUZZ_EXAMPLES=N`` overrides them all. The property:
nothing raises except the documented errors, and the CLI exits 0/1/2 with a message.
Executions per target are printed at the end of the module (``-s``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import fuzz

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # lenient readers warn
_OVERRIDE = int(os.environ.get("STANCEKIT_FUZZ_EXAMPLES", "0"))


@pytest.fixture(scope="module", autouse=True)
def _report_runs() -> Iterator[None]:
    yield
    print(f"\nfuzz executions: {sum(fuzz.RUNS.values())} {dict(sorted(fuzz.RUNS.items()))}")


def _run(name: str, model: Path, n: int) -> None:
    func, strategy = fuzz.strategies(model)[name]
    fuzz.run(name, func, strategy, _OVERRIDE or n)


def test_any_bytes_as_a_spans_jsonl_file_give_spans_or_a_spans_format_error(
    tmp_path: Path,
) -> None:
    _run("spans_jsonl", tmp_path, 500)


def test_any_csv_as_a_spans_file_gives_spans_or_a_spans_format_error(tmp_path: Path) -> None:
    _run("spans_csv", tmp_path, 300)


@pytest.mark.slow
def test_cli_analyze_on_any_files_exits_0_or_1_and_resume_is_idempotent(
    tiny_model_dir: Path,
) -> None:
    _run("cli_analyze", tiny_model_dir, 40)


@pytest.mark.slow
def test_cli_evaluate_on_any_spans_file_exits_cleanly_with_a_message(
    tiny_model_dir: Path,
) -> None:
    _run("cli_evaluate", tiny_model_dir, 50)


@pytest.mark.slow
def test_cli_report_on_any_jsonl_exits_cleanly_with_a_message(tiny_model_dir: Path) -> None:
    _run("cli_report", tiny_model_dir, 25)
