"""The recipe's finalize phase (:mod:`stancekit.training.finalize`); the whole phase runs end
to end on tiny models in ``tests/test_recipe.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from stancekit.errors import RecipeError
from stancekit.training.config import RecipeConfig
from stancekit.training.finalize import finalize
from stancekit.training.specs import DatasetSpec


def test_finalize_refuses_a_missing_card_notes_file_before_scoring(tmp_path: Path) -> None:
    cfg = RecipeConfig(
        datasets=(DatasetSpec("d", "d.jsonl"),),
        card_notes=str(tmp_path / "gone.md"),
        work_dir=str(tmp_path / "work"),
    )
    out = tmp_path / "out"
    # no data and no trained model in work_dir either: the notes are checked first
    with pytest.raises(RecipeError, match=r"card_notes=.*gone\.md.* cannot be read"):
        finalize(cfg, tmp_path, out)
    assert not out.exists()
