from __future__ import annotations

import json
from pathlib import Path

import pytest

from stancekit.errors import RecipeError
from stancekit.training.config import RecipeConfig


def _card(
    datasets: list[dict[str, object]],
    training: dict[str, object],
    **recipe: object,
) -> str:
    from stancekit.training.card import model_card
    from stancekit.training.config import RecipeConfig

    cfg = RecipeConfig.from_dict({"datasets": datasets, **recipe})
    metrics = {
        "weights_dtype": "float16",
        "temperature_stance": 1.0,
        "temperature_sentiment": 1.0,
        "bootstrap": {"samples": 10},
        "ece_bins": 15,
        "calibration_sets": {"stance": "dsa_valid", "sentiment": "newsmtsc_heldout"},
        "training": training,
        "sets": {},
    }
    return model_card(cfg, metrics)


_NEWS: dict[str, object] = {
    "name": "newsmtsc",
    "file": "newsmtsc_train.jsonl",
    "holdout_fraction": 0.1,
    "holdout_key": "^story_(\\d+)",
}
_SNLI: dict[str, object] = {"name": "snli", "file": "snli/train.tsv", "format": "nli_tsv"}


def test_card_says_whether_nli_data_was_mixed_in_and_how_it_is_read() -> None:
    without = _card([_NEWS], {})
    assert "No NLI data was used." in without
    with_nli = _card([_NEWS, _SNLI], {})
    assert "NLI pairs (snli)" in with_nli and "entailment = favor" in with_nli
    assert "No NLI data" not in with_nli


def test_card_names_the_holdout_grouping_key() -> None:
    assert "the group is the id's match of `^story_(\\d+)`" in _card([_NEWS], {})


def test_card_lists_averaged_weights_only_when_there_were_several() -> None:
    assert "element-wise mean" not in _card([_NEWS], {"averaged_weights_of": ["step 9"]})
    card = _card([_NEWS], {"averaged_weights_of": ["checkpoint-10", "step 20 (in memory)"]})
    assert "mean of 2 weight sets of this one run: checkpoint-10, step 20 (in memory)" in card


def test_card_describes_a_soup_of_train_seeds() -> None:
    runs = [{"train_seed": 13, "global_step": 40}, {"train_seed": 29, "global_step": 40}]
    card = _card(
        [_NEWS],
        {"soup_of_train_seeds": [13, 29], "runs": runs, "averaged_weights_of": ["step 40"]},
    )
    assert "element-wise mean of 2 runs (a uniform model soup, `train_seeds`)" in card
    assert "train seeds 13, 29 set the data order and dropout" in card
    assert "weight sets of" not in card  # no checkpoint averaging within the runs


def test_card_names_the_teacher_and_its_share_of_a_distilled_model() -> None:
    teacher = {"teacher": "/work/runs/teacher-0.3.0", "alpha": 0.5}
    card = _card([_NEWS], {"distilled_from": teacher})
    assert "0.5 x its label + 0.5 x the calibrated probabilities" in card
    assert "`teacher-0.3.0`" in card
    assert "Distilled" not in _card([_NEWS], {})
    assert "teacher alone" not in card


def test_card_says_unlabelled_pipeline_sets_learned_from_the_teacher_alone() -> None:
    teacher = {"teacher": "m", "alpha": 0.5, "unlabelled_sets": ["dsa_pipeline"]}
    card = _card([_NEWS], {"distilled_from": teacher})
    assert "unlabelled sets (dsa_pipeline: the pairs stancekit's own pipeline builds" in card
    assert "learned from the teacher alone" in card


def test_card_names_the_starting_model_and_each_heads_teacher_share() -> None:
    info = {
        "initialized_from": {"model": "/x/default-model.json", "weights_sha256": "5a3ad5160240ab"},
        "distilled_from": {"teacher": "/x/m", "alpha": 0.5, "alpha_sentiment": 1.0},
    }
    card = _card([_NEWS], info)
    assert "`default-model.json` (`init_from`; weights SHA-256 5a3ad5160240…)" in card
    assert "the stance head learned from 0.5 x its label + 0.5 x, the sentiment head" in card
    assert "from 0 x its label + 1 x, the calibrated probabilities" in card
    assert "init_from" not in _card([_NEWS], {})


def test_card_gives_the_training_time_when_it_is_known() -> None:
    assert "on 2 CPU cores, 54 min of training." in _card([_NEWS], {"train_seconds_this_run": 3245})
    assert "min of training" not in _card([_NEWS], {})


def test_card_counts_distinct_pairs_and_passes_when_sets_are_repeated() -> None:
    repeated = [{**_NEWS, "repeat": 2}, {"name": "dsa", "file": "dsa_train.jsonl", "repeat": 3}]
    info = {
        "train_set_counts": {"newsmtsc": 100, "dsa": 200},
        "train_set_size": 800,  # the rows of one epoch, copies included
        "trained_examples_seen": 800,
    }
    card = _card(repeated, info, epochs=1.0)
    assert "| 100; 10% of docs held out; 2 copies per epoch |" in card
    assert "| 200; 3 copies per epoch |" in card
    assert "300 distinct)" in card
    assert "for 2.7 epochs over the training mix" in card
    plain = _card([_NEWS], {**info, "train_set_counts": {"newsmtsc": 100}})
    assert "800 distinct)" in plain and "copies per epoch" not in plain


_NOTES = """<!-- card notes for stancekit-minilm {version} -->
<!-- for the file's editors only -->

### Measured by hand

Harness F1 0.5.

## Known limits

- Misses irony
  in headlines.
"""


def test_card_notes_for_this_version_go_before_the_known_limits(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text(_NOTES.format(version="0.1.0"))
    card = _card([_NEWS], {}, card_notes=str(notes))
    assert "for the file's editors" not in card
    assert card.index("### Measured by hand") < card.index("## Known limits")
    limits = card[card.index("## Known limits") :].splitlines()
    assert limits[2] == "- Misses irony in headlines."  # first bullet, continuation joined
    assert card.count("## Known limits") == 1


def test_card_notes_of_another_version_are_left_out(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text(_NOTES.format(version="0.0.9"))
    card = _card([_NEWS], {}, card_notes=str(notes))
    assert "Measured by hand" not in card and "Misses irony" not in card


def test_card_notes_without_the_header_line_are_refused(tmp_path: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("### Measured by hand\n")
    with pytest.raises(RecipeError, match=r"card_notes=.*must start with the line"):
        _card([_NEWS], {}, card_notes=str(notes))


def test_recipe_reads_card_notes_relative_to_its_config_file(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    path = tmp_path / "cfg" / "recipe.json"
    path.write_text(json.dumps({"datasets": [_NEWS], "card_notes": "notes.md"}))
    cfg = RecipeConfig.from_json(path)
    assert cfg.card_notes == str(tmp_path / "cfg" / "notes.md")


@pytest.mark.parametrize("recipe", ["fast-packed.json", "mpnet-model.json"])
def test_shipped_card_is_what_the_recipe_writes_from_its_metrics_and_notes(recipe: str) -> None:
    root = Path(__file__).resolve().parents[1]
    from stancekit.training.card import model_card

    cfg = RecipeConfig.from_json(root / "configs" / recipe)
    folder = root / "models" / cfg.name
    if not (folder / "metrics.json").exists():
        pytest.skip(f"{cfg.name} is not shipped")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert model_card(cfg, metrics) == (folder / "README.md").read_text(encoding="utf-8")
