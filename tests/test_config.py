"""The recipe config (stancekit.training.config): validation of the distillation fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.training.config import RecipeConfig, RecipeError

BASE = {"datasets": [{"name": "st", "file": "st.jsonl"}]}


@pytest.mark.parametrize("alpha", [-0.1, 1.5, True, "0.5"])
def test_a_distill_alpha_outside_0_1_is_refused_with_its_value(alpha: object) -> None:
    with pytest.raises(RecipeError, match=r"distill_alpha=.* must be in \[0, 1\]"):
        RecipeConfig.from_dict({**BASE, "distill_alpha": alpha})


def test_a_relative_teacher_folder_is_read_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    path = tmp_path / "configs" / "r.json"
    path.write_text(json.dumps({**BASE, "distill_from": "../teacher"}), encoding="utf-8")
    cfg = RecipeConfig.from_json(path)
    assert cfg.distill_from == str((tmp_path / "teacher").resolve())
    assert RecipeConfig.from_dict(BASE).distill_from is None
