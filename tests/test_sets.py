"""The recipe's training sets: capped, augmented and repeated per dataset."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from stancekit.errors import RecipeError
from stancekit.training.config import RecipeConfig
from stancekit.training.sets import load_dev_sets, load_heldout_sets, load_training_sets
from stancekit.training.specs import DatasetSpec


def _doc(i: int, holder: str | None, target: str, **label: str) -> dict[str, Any]:
    text = f"{holder or 'The paper'} wrote about {target} on day {i}."
    t = text.index(target)
    span: dict[str, Any] = {"start": 0, "end": len(text), "holder": holder, "target": target}
    span.update(label)
    span["target_mention"] = [t, t + len(target)]
    if holder:
        h = text.index(holder)
        span["holder_mention"] = [h, h + len(holder)]
    return {"id": f"d{i}", "text": text, "spans": [span]}


def _data(tmp_path: Path) -> Path:
    (tmp_path / "stance.jsonl").write_text(
        "".join(json.dumps(_doc(i, "Alvarez", "Brenner", stance="favor")) + "\n" for i in range(4))
    )
    (tmp_path / "sentiment.jsonl").write_text(
        "".join(json.dumps(_doc(i, None, "Harlow", sentiment="neutral")) + "\n" for i in range(3))
    )
    return tmp_path


def _config(stance_repeat: int, sentiment_repeat: int) -> RecipeConfig:
    return RecipeConfig(
        datasets=(
            DatasetSpec(name="st", file="stance.jsonl", repeat=stance_repeat),
            DatasetSpec(name="se", file="sentiment.jsonl", repeat=sentiment_repeat, weight=0.5),
        ),
        augment_role_holders=0.0,
        augment_reported_speech=0.0,
    )


def test_repeat_puts_that_many_copies_of_each_set_in_the_training_rows(tmp_path: Path) -> None:
    rows, _, counts = load_training_sets(_config(3, 2), _data(tmp_path))
    by_source = Counter(e.source for e, _ in rows)
    assert by_source == {"st": 12, "se": 6}
    assert counts == {"st": 4, "se": 3}  # distinct examples, not copies
    assert {w for e, w in rows if e.source == "se"} == {0.5}
    ids = Counter(e.doc_id for e, _ in rows if e.source == "st")
    assert set(ids.values()) == {3}


def test_repeat_one_leaves_the_rows_as_read(tmp_path: Path) -> None:
    rows, _, _ = load_training_sets(_config(1, 1), _data(tmp_path))
    assert Counter(e.source for e, _ in rows) == {"st": 4, "se": 3}


def test_repeat_copies_a_sets_augmentations_with_it(tmp_path: Path) -> None:
    cfg = RecipeConfig(
        datasets=(DatasetSpec(name="st", file="stance.jsonl", repeat=2),),
        augment_role_holders=1.0,
        augment_reported_speech=0.0,
    )
    once = RecipeConfig(
        datasets=(DatasetSpec(name="st", file="stance.jsonl"),),
        augment_role_holders=1.0,
        augment_reported_speech=0.0,
    )
    twice = Counter(e.source for e, _ in load_training_sets(cfg, _data(tmp_path))[0])
    single = Counter(e.source for e, _ in load_training_sets(once, _data(tmp_path))[0])
    assert twice == {k: 2 * v for k, v in single.items()}


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_repeat_must_be_a_positive_int(bad: Any) -> None:
    with pytest.raises(RecipeError, match=rf"dataset 'st': repeat={bad!r}"):
        DatasetSpec(name="st", file="stance.jsonl", repeat=bad)


def test_heldout_sets_are_the_slices_load_training_sets_holds_out(tmp_path: Path) -> None:
    cfg = RecipeConfig(
        datasets=(
            DatasetSpec(name="st", file="stance.jsonl", holdout_fraction=0.5, repeat=2),
            DatasetSpec(name="se", file="sentiment.jsonl"),
        ),
        augment_role_holders=1.0,
        augment_reported_speech=0.0,
    )
    _, held, _ = load_training_sets(cfg, _data(tmp_path))
    assert set(held) == {"st_heldout"} and held["st_heldout"]
    assert load_heldout_sets(cfg, tmp_path) == held


def _nli_data(tmp_path: Path, n: int = 40) -> Path:
    rows = ["premise\thypothesis\tlabel"] + [
        f"Premise number {i} is here.\tHypothesis {i}.\tentailment" for i in range(n)
    ]
    (tmp_path / "nli.tsv").write_text("\n".join(rows) + "\n")
    return tmp_path


def _nli_config(dev_cap: int | None = None) -> RecipeConfig:
    return RecipeConfig.from_dict(
        {
            "datasets": [{"name": "nli", "file": "nli.tsv", "format": "nli_tsv", "cap": 15}],
            "dev": [
                {
                    "name": "nli_unused",
                    "file": "nli.tsv",
                    "format": "nli_tsv",
                    "unused_of": "nli",
                    "cap": dev_cap,
                }
            ],
            "augment_role_holders": 0.0,
            "augment_reported_speech": 0.0,
        }
    )


def test_an_unused_of_dev_set_holds_exactly_the_rows_training_did_not_draw(
    tmp_path: Path,
) -> None:
    data = _nli_data(tmp_path)
    cfg = _nli_config()
    rows, _, _ = load_training_sets(cfg, data)
    dev = load_dev_sets(cfg, data)["nli_unused"]
    trained = {e.pair.sentence for e, _ in rows}
    unused = {e.pair.sentence for e in dev}
    assert len(trained) == 15 and len(unused) == 25
    assert not trained & unused
    assert {e.source for e in dev} == {"nli_unused"}


def test_an_unused_of_dev_set_is_capped_within_the_unused_rows(tmp_path: Path) -> None:
    data = _nli_data(tmp_path)
    cfg = _nli_config(dev_cap=5)
    rows, _, _ = load_training_sets(cfg, data)
    dev = load_dev_sets(cfg, data)["nli_unused"]
    assert len(dev) == 5
    assert not {e.pair.sentence for e, _ in rows} & {e.pair.sentence for e in dev}


@pytest.mark.parametrize(
    "dev",
    [
        {"name": "x", "file": "other.tsv", "format": "nli_tsv", "unused_of": "nli"},
        {"name": "x", "file": "nli.tsv", "format": "nli_tsv", "unused_of": "missing"},
    ],
)
def test_unused_of_must_name_a_capped_training_set_of_the_same_file(dev: dict[str, Any]) -> None:
    cfg = {
        "datasets": [{"name": "nli", "file": "nli.tsv", "format": "nli_tsv", "cap": 15}],
        "dev": [dev],
    }
    with pytest.raises(RecipeError, match="unused_of"):
        RecipeConfig.from_dict(cfg)
