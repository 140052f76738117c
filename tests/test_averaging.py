"""Checkpoint weight averaging (stancekit.training.averaging)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from stancekit.errors import RecipeError
from stancekit.training.averaging import (
    AveragingError,
    average_checkpoints,
    average_weight_files,
    checkpoint_steps,
)
from stancekit.training.config import RecipeConfig


class _Tiny(torch.nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        torch.nn.init.constant_(self.lin.weight, value)
        torch.nn.init.constant_(self.lin.bias, value)
        self.position_ids: torch.Tensor
        self.register_buffer("position_ids", torch.arange(4))


def _save(ckpt_dir: Path, step: int, value: float) -> None:
    d = ckpt_dir / f"checkpoint-{step}"
    d.mkdir(parents=True)
    m = _Tiny(value)
    sd = {k: v.contiguous() for k, v in m.state_dict().items()}
    sd["position_ids"] = torch.zeros(4, dtype=torch.long)  # must not be averaged in
    save_file(sd, str(d / "model.safetensors"))


def test_final_weights_are_the_mean_of_the_newest_checkpoints_and_the_last_step(
    tmp_path: Path,
) -> None:
    for step, value in ((100, 100.0), (200, 1.0), (300, 2.0), (400, 999.0)):
        _save(tmp_path, step, value)
    model = _Tiny(6.0)
    used = average_checkpoints(model, tmp_path, last_n=3, step=400)
    # checkpoint-400 is the in-memory step itself; 100 is too old
    assert used == ["checkpoint-200", "checkpoint-300", "step 400 (in memory)"]
    assert torch.allclose(model.lin.weight, torch.full((2, 3), 3.0))
    assert torch.allclose(model.lin.bias, torch.full((2,), 3.0))
    assert model.state_dict()["position_ids"].tolist() == [0, 1, 2, 3]


def test_last_n_of_one_leaves_the_weights_unchanged(tmp_path: Path) -> None:
    _save(tmp_path, 100, 1.0)
    model = _Tiny(6.0)
    assert average_checkpoints(model, tmp_path, last_n=1, step=200) == ["step 200 (in memory)"]
    assert torch.all(model.lin.weight == 6.0)


def test_too_few_checkpoints_is_an_error_that_says_what_to_change(tmp_path: Path) -> None:
    _save(tmp_path, 100, 1.0)
    with pytest.raises(AveragingError, match=r"last_n=3 needs 2 checkpoints.*found 1"):
        average_checkpoints(_Tiny(0.0), tmp_path, last_n=3, step=200)


def test_a_checkpoint_of_another_shape_is_refused(tmp_path: Path) -> None:
    d = tmp_path / "checkpoint-100"
    d.mkdir()
    m = _Tiny(1.0)
    sd = {k: v.contiguous() for k, v in m.state_dict().items()}
    sd["lin.weight"] = torch.zeros(5, 3)
    save_file(sd, str(d / "model.safetensors"))
    with pytest.raises(AveragingError, match=r"lin\.weight.*shape \(5, 3\)"):
        average_checkpoints(_Tiny(0.0), tmp_path, last_n=2, step=200)


def test_checkpoint_steps_sorts_numerically_and_skips_folders_without_weights(
    tmp_path: Path,
) -> None:
    _save(tmp_path, 1000, 1.0)
    _save(tmp_path, 200, 1.0)
    (tmp_path / "checkpoint-300").mkdir()
    (tmp_path / "other").mkdir()
    assert [s for s, _ in checkpoint_steps(tmp_path)] == [200, 1000]


def test_recipe_refuses_averaging_more_weights_than_it_keeps() -> None:
    base = {"datasets": [{"name": "a", "file": "a.jsonl"}], "save_total_limit": 2}
    assert RecipeConfig.from_dict({**base, "average_last_checkpoints": 3})
    with pytest.raises(RecipeError, match=r"average_last_checkpoints=4 .*save_total_limit=2"):
        RecipeConfig.from_dict({**base, "average_last_checkpoints": 4})
    with pytest.raises(RecipeError, match="average_last_checkpoints"):
        RecipeConfig.from_dict({**base, "average_last_checkpoints": 0})


def _weights_file(path: Path, value: float) -> Path:
    m = _Tiny(value)
    sd = {k: v.contiguous() for k, v in m.state_dict().items()}
    sd["position_ids"] = torch.zeros(4, dtype=torch.long)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(sd, str(path))
    return path


def test_weight_files_average_to_their_mean_without_the_models_own_weights(
    tmp_path: Path,
) -> None:
    files = [_weights_file(tmp_path / f"seed-{v}" / "member.safetensors", v) for v in (1, 2, 6)]
    m = _Tiny(100.0)
    assert average_weight_files(m, files) == 3
    assert torch.allclose(m.lin.weight, torch.full((2, 3), 3.0))
    assert torch.allclose(m.lin.bias, torch.full((2,), 3.0))
    assert m.position_ids.tolist() == [0, 1, 2, 3]  # integer buffers are the model's


def test_weight_files_that_are_missing_empty_or_of_another_shape_are_refused(
    tmp_path: Path,
) -> None:
    m = _Tiny(0.0)
    with pytest.raises(AveragingError, match=r"files=\[\]"):
        average_weight_files(m, [])
    with pytest.raises(AveragingError, match="no such weights file"):
        average_weight_files(m, [tmp_path / "nope.safetensors"])
    other = tmp_path / "other.safetensors"
    save_file({"lin.weight": torch.ones(5, 3), "lin.bias": torch.ones(5)}, str(other))
    with pytest.raises(AveragingError, match=r"'lin.weight' has shape \(5, 3\)"):
        average_weight_files(m, [other])
    assert torch.equal(m.lin.weight, torch.zeros(2, 3))  # left as it was


def test_recipe_train_seeds_must_be_distinct_non_negative_ints() -> None:
    base = {"datasets": [{"name": "a", "file": "a.jsonl"}]}
    assert RecipeConfig.from_dict({**base, "train_seeds": [13, 29]}).train_seeds == (13, 29)
    assert RecipeConfig.from_dict(base).train_seeds == ()
    with pytest.raises(RecipeError, match=r"train_seeds=\[13, 13\] repeats a seed"):
        RecipeConfig.from_dict({**base, "train_seeds": [13, 13]})
    for bad in ([-1], [True], ["13"]):
        with pytest.raises(RecipeError, match=r"train_seeds=.*non-negative ints"):
            RecipeConfig.from_dict({**base, "train_seeds": bad})
