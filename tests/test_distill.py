"""Distillation targets: a teacher's probabilities on the student's exact training inputs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from stancekit.scoring.model import PairInput, StanceModel
from stancekit.training.distill import DistillError, add_teacher_column, teacher_probabilities
from stancekit.training.sets import encode_examples

PAIRS = [
    PairInput("Alvarez praised Brenner for the budget.", "Alvarez", "Brenner"),
    PairInput("The Harlow council meets on Tuesday.", None, "Harlow"),
    PairInput("Corvin condemned Dalton for the raid; Dalton replied.", "Corvin", "Dalton"),
]


def _dataset(model: StanceModel):  # type: ignore[no-untyped-def]
    from datasets import Dataset

    feats = encode_examples(model, PAIRS)
    return Dataset.from_dict({k: [f[k] for f in feats] for k in feats[0]})


def test_teacher_probabilities_are_the_teachers_calibrated_scores_of_the_inputs(
    tiny_model_dir: Path, tiny_model: StanceModel, tmp_path: Path
) -> None:
    ds = _dataset(tiny_model)
    probs = teacher_probabilities(tiny_model_dir, ds, student=tiny_model, cache_dir=tmp_path)
    assert probs.shape == (3, 6)
    np.testing.assert_allclose(probs[:, :3].sum(1), 1, atol=1e-5)
    np.testing.assert_allclose(probs[:, 3:].sum(1), 1, atol=1e-5)
    direct = tiny_model.predict(PAIRS)  # pairs in one window: the same inputs
    np.testing.assert_allclose(probs[:, :3], direct.stance, atol=1e-5)
    np.testing.assert_allclose(probs[:, 3:], direct.sentiment, atol=1e-5)


def test_teacher_probabilities_are_cached_per_teacher_and_inputs(
    tiny_model_dir: Path, tiny_model: StanceModel, tmp_path: Path
) -> None:
    ds = _dataset(tiny_model)
    first = teacher_probabilities(tiny_model_dir, ds, student=tiny_model, cache_dir=tmp_path)
    np.save(tmp_path / "teacher.npy", first * 0 + 0.5)  # mark the cache
    again = teacher_probabilities(tiny_model_dir, ds, student=tiny_model, cache_dir=tmp_path)
    assert np.all(again == 0.5)  # read from the cache, not scored again
    other = teacher_probabilities(
        tiny_model_dir, ds.select([0, 1]), student=tiny_model, cache_dir=tmp_path
    )
    np.testing.assert_allclose(other, first[:2], atol=1e-6)  # other inputs: scored again
    assert json.loads((tmp_path / "teacher.json").read_text())["key"]


def test_a_teacher_with_another_template_is_refused(
    tiny_model_dir: Path, tiny_model: StanceModel, tmp_path: Path
) -> None:
    tmpl = replace(tiny_model.config.template, author="the writer")
    student = StanceModel(
        tiny_model.model, tiny_model.tokenizer, replace(tiny_model.config, template=tmpl)
    )
    with pytest.raises(DistillError, match="input template"):
        teacher_probabilities(
            tiny_model_dir, _dataset(tiny_model), student=student, cache_dir=tmp_path
        )


def test_the_teacher_column_must_have_one_row_per_input(tiny_model: StanceModel) -> None:
    ds = _dataset(tiny_model)
    with pytest.raises(DistillError, match="2 rows for 3 inputs"):
        add_teacher_column(ds, np.zeros((2, 6)))
    assert add_teacher_column(ds, np.full((3, 6), 0.25))["teacher"][0] == [0.25] * 6
