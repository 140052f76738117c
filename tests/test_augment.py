"""The recipe's augmentations keep mention offsets exact and labels unchanged."""

from __future__ import annotations

import pytest

from stancekit.errors import RecipeError
from stancekit.scoring.model import PairInput
from stancekit.training.augment import (
    ROLE_NOUNS,
    class_weights,
    reported_speech,
    role_holders,
    speaker_names,
)
from stancekit.training.config import RecipeConfig
from stancekit.training.data import Example


def ex(sentence: str, holder: str | None, target: str, stance: int | None = 1) -> Example:
    hs = None if holder is None else (sentence.index(holder), sentence.index(holder) + len(holder))
    t0 = sentence.index(target)
    return Example(
        PairInput(sentence, holder, target, hs, (t0, t0 + len(target))), stance, None, "s", "d"
    )


def everyone(items: list[tuple[str, tuple[int, int]]]) -> list[bool]:
    return [True] * len(items)


def at(sentence: str, span: tuple[int, int] | None) -> str:
    """The text of ``span`` in ``sentence`` (the span must be there)."""
    assert span is not None
    return sentence[span[0] : span[1]]


def test_role_holders_replace_the_mention_and_shift_the_target() -> None:
    src = ex("Lee Kim condemned Azerbaijan on Monday.", "Lee Kim", "Azerbaijan")
    (out,) = role_holders([src], 1.0, seed=0, is_person=everyone)
    p = out.pair
    assert p.holder == "Lee Kim"  # the first segment keeps the name
    word = at(p.sentence, p.holder_span)
    assert word.lower() in (*ROLE_NOUNS, "he", "she") and word[0].isupper()
    assert at(p.sentence, p.target_span) == "Azerbaijan"
    assert out.stance == src.stance and out.source == "s+role"


def test_role_holders_skip_non_persons_and_possessive_pronouns() -> None:
    src = ex("Yesterday Lee Kim's aide condemned Azerbaijan.", "Lee Kim", "Azerbaijan")
    assert role_holders([src], 1.0, seed=0, is_person=lambda items: [False] * len(items)) == []
    for seed in range(20):
        (out,) = role_holders([src], 1.0, seed=seed, is_person=everyone)
        word = at(out.pair.sentence, out.pair.holder_span)
        assert word in ROLE_NOUNS  # never "he's aide"


def test_reported_speech_makes_the_speaker_the_holder() -> None:
    src = ex("Sanctions on Iran have failed.", None, "Iran", stance=1)
    outs = [reported_speech([src], 1.0, names=["Ana Diaz"], seed=s)[0] for s in range(12)]
    assert {o.pair.sentence.startswith("“") for o in outs} == {True, False}  # both forms
    for o in outs:
        p = o.pair
        assert p.holder == at(p.sentence, p.holder_span)
        assert at(p.sentence, p.target_span) == "Iran"
        assert o.stance == 1 and o.source == "s+speech"


def test_reported_speech_needs_names() -> None:
    with pytest.raises(ValueError, match="names is empty"):
        reported_speech([], 1.0, names=[], seed=0)


def test_speaker_names_keep_name_shaped_holders() -> None:
    exs = [
        ex("Ana Diaz met Iran.", "Ana Diaz", "Iran"),
        ex("the group met Iran.", "the group", "Iran"),
    ]
    assert speaker_names(exs) == ["Ana Diaz"]


def test_class_weights_balance_by_power() -> None:
    labels = [0] * 10 + [1] * 30 + [None]
    assert class_weights(labels, 3, 0.0) == [1.0, 1.0, 1.0]
    w = class_weights(labels, 3, 1.0)
    assert w[0] * 10 == pytest.approx(w[1] * 30) and w[2] == 1.0
    with pytest.raises(ValueError, match="power=-1"):
        class_weights(labels, 3, -1)


def test_recipe_rejects_out_of_range_augmentation() -> None:
    with pytest.raises(RecipeError, match=r"augment_role_holders=1\.5"):
        RecipeConfig(datasets=(), augment_role_holders=1.5)
