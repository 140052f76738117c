"""The recipe config (stancekit.training.config): validation of the distillation and
continued-training fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.errors import RecipeError
from stancekit.training.config import RecipeConfig

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


@pytest.mark.parametrize("alpha", [-0.1, 1.5, True, "1"])
def test_a_sentiment_distill_alpha_outside_0_1_is_refused_with_its_value(alpha: object) -> None:
    with pytest.raises(RecipeError, match=r"distill_alpha_sentiment=.* must be in \[0, 1\]"):
        RecipeConfig.from_dict({**BASE, "distill_alpha_sentiment": alpha})


def test_the_heads_share_distill_alpha_unless_the_sentiment_head_has_its_own() -> None:
    assert RecipeConfig.from_dict(BASE).distill_alphas == (0.0, 0.0)  # no teacher
    both = RecipeConfig.from_dict({**BASE, "distill_from": "t", "distill_alpha": 0.3})
    assert both.distill_alphas == (0.3, 0.3)
    own = RecipeConfig.from_dict(
        {**BASE, "distill_from": "t", "distill_alpha": 0.3, "distill_alpha_sentiment": 1.0}
    )
    assert own.distill_alphas == (0.3, 1.0)


def test_a_relative_init_from_is_read_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    path = tmp_path / "configs" / "r.json"
    path.write_text(json.dumps({**BASE, "init_from": "base.json"}), encoding="utf-8")
    assert RecipeConfig.from_json(path).init_from == str(
        (tmp_path / "configs" / "base.json").resolve()
    )


@pytest.mark.parametrize(
    "field, spec",
    [
        ("dev", {"name": "snli_test", "file": "snli/test.tsv", "format": "nli_tsv"}),
        ("dev", {"name": "v", "file": "vast_test.jsonl"}),
        ("datasets", {"name": "n", "file": "newsmtsc-devtest.jsonl"}),
    ],
)
def test_a_recipe_that_reads_a_test_split_is_refused_naming_the_file(
    field: str, spec: dict[str, str]
) -> None:
    cfg: dict[str, object] = {
        **BASE,
        field: [*BASE["datasets"], spec] if field == "datasets" else [spec],
    }
    with pytest.raises(RecipeError, match=f"file={spec['file']!r}, a test split"):
        RecipeConfig.from_dict(cfg)
