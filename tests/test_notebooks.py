"""The notebooks in notebooks/ run top to bottom without error, and are committed clean.

Each notebook is executed with nbclient on the ``python3`` kernel of the interpreter running
the tests (ipykernel from the dev extra), from the repository root; a cell error fails the
test. The time each notebook takes is printed (``pytest -s``) and recorded as the
``seconds`` property (``--junitxml``).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 600


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_there_are_notebooks() -> None:
    assert {p.name for p in NOTEBOOKS} >= {"quickstart.ipynb", "corpus.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    book = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        i
        for i, cell in enumerate(book["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs; clear them before committing, e.g. "
        f"jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)}"
    )


def _guard_cell(nbformat: Any) -> Any:
    """A first cell that fails unless the kernel runs this interpreter's environment."""
    return nbformat.v4.new_code_cell(
        "import sys\n"
        f"assert sys.prefix == {sys.prefix!r}, "
        f"f'kernel runs {{sys.executable}}, not {sys.executable}'"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs(path: Path, record_property: Any) -> None:
    nbformat = pytest.importorskip("nbformat", reason="needs the dev extra (nbformat)")
    nbclient = pytest.importorskip("nbclient", reason="needs the dev extra (nbclient)")
    pytest.importorskip("ipykernel", reason="needs the dev extra (ipykernel)")

    book = nbformat.read(path, as_version=4)
    n_cells = len(book.cells)
    book.cells.insert(0, _guard_cell(nbformat))
    client = nbclient.NotebookClient(
        book,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_S,
        startup_timeout=120,
        allow_errors=False,
        resources={"metadata": {"path": str(ROOT)}},  # the kernel's working directory
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - start
    record_property("seconds", round(seconds, 1))
    print(f"\n{path.name}: {n_cells} cells in {seconds:.1f} s")

    # every cell that ends by drawing a figure shows it as a PNG
    for cell in book.cells[1:]:
        last = cell.source.strip().splitlines()[-1] if cell.source.strip() else ""
        if cell.cell_type == "code" and last.startswith("plot_"):
            kinds = {k for out in cell.outputs for k in out.get("data", {})}
            assert "image/png" in kinds, f"{path.name}: no figure shown by {last!r}"
