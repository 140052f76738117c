"""The parts of a recipe (:mod:`stancekit.training.specs`): each refuses a bad field on
construction, naming the set, the field, the value and what it must be."""

from __future__ import annotations

import pytest

from stancekit.errors import RecipeError
from stancekit.training.config import RecipeConfig
from stancekit.training.specs import AdapterSpec, DatasetSpec, EvalSpec, names_test_split


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("cap", 0, r"dataset 'd': cap=0 must be a positive int"),
        ("repeat", True, r"dataset 'd': repeat=True must be a positive int"),
        ("weight", -1.0, r"dataset 'd': weight=-1.0 must be > 0"),
        ("holdout_fraction", 1.0, r"dataset 'd': holdout_fraction=1.0 must be in \[0, 1\)"),
        ("holdout_group", "sentence", r"holdout_group='sentence' must be 'doc' or 'target'"),
        ("holdout_key", "(", r"holdout_key='\(' is not a regular expression"),
    ],
)
def test_a_dataset_spec_refuses_a_bad_field_naming_the_set_and_the_value(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(RecipeError, match=message):
        DatasetSpec("d", "d.jsonl", **{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("pooling", "mean", r"adapter: pooling='mean' must be one of"),
        ("frozen_layers", -1, r"adapter: frozen_layers=-1 must be a non-negative int"),
        ("lora_r", 0, r"adapter: lora_r=0 must be a positive int"),
        ("lora_dropout", 1.0, r"adapter: lora_dropout=1.0 must be in \[0, 1\)"),
        ("head_learning_rate", 0.0, r"adapter: head_learning_rate=0.0 must be > 0 or null"),
    ],
)
def test_an_adapter_spec_refuses_a_bad_field_naming_it_and_the_value(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(RecipeError, match=message):
        AdapterSpec(**{field: value})  # type: ignore[arg-type]


def test_a_recipe_error_is_a_stancekit_error_and_a_value_error() -> None:
    from stancekit.errors import StancekitError

    with pytest.raises(StancekitError):
        AdapterSpec(lora_r=0)
    with pytest.raises(ValueError):
        EvalSpec("e", "e.jsonl", cap=0)


@pytest.mark.parametrize("file", ["snli/test.tsv", "vast_test.jsonl", "newsmtsc-devtest.jsonl"])
def test_paths_that_name_a_test_split_are_recognised(file: str) -> None:
    assert names_test_split(file)


@pytest.mark.parametrize("file", ["dsa_valid.jsonl", "contest_train.jsonl", "attested.jsonl"])
def test_files_that_only_contain_the_letters_test_are_not_taken_for_test_splits(
    file: str,
) -> None:
    RecipeConfig.from_dict({"datasets": [{"name": "d", "file": file}]})
