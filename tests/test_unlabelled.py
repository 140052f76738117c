"""Unlabelled training pairs from the pipeline (recipe format "pipeline"): what is built,
which documents are read, how the loss learns them, and what recipes may use them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from stancekit.errors import RecipeError
from stancekit.training.config import RecipeConfig
from stancekit.training.specs import DatasetSpec
from stancekit.training.trainer import masked_two_head_loss
from stancekit.training.unlabelled import pipeline_examples

DOCS: list[dict[str, Any]] = [
    {
        "id": "story_1_a",
        "text": "Armenian Prime Minister Nikol Pashinian said the CSTO failed Armenia.",
        "spans": [{"start": 0, "end": 10, "target": "ignored", "stance": "favor"}],
    },
    {
        "id": "story_2_a",
        "text": "Stanislav Zas defended the CSTO proposals in Yerevan.",
        "spans": [],
    },
    {"id": "story_3_a", "text": "Nothing named here at all.", "spans": []},
]


def _write(path: Path, docs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(d) + "\n" for d in docs), encoding="utf-8")
    return path


def test_pipeline_pairs_are_unlabelled_and_point_at_their_names(tmp_path: Path) -> None:
    exs = pipeline_examples(_write(tmp_path / "t.jsonl", DOCS), source="news")
    assert exs and {e.source for e in exs} == {"news"}
    assert all(e.stance is None and e.sentiment is None for e in exs)
    assert {e.doc_id for e in exs} == {"story_1_a", "story_2_a"}  # no actor, no pair
    assert "ignored" not in {e.pair.target for e in exs}  # spans are not read
    assert ("Nikol Pashinian", "CSTO") in {(e.pair.holder, e.pair.target) for e in exs}
    for e in exs:
        p = e.pair
        assert p.target_span is not None
        s, t = p.target_span
        assert p.sentence[s:t]  # a real stretch of the sentence
        if p.holder is not None and p.holder_span is not None:
            assert p.sentence[p.holder_span[0] : p.holder_span[1]] in p.holder + " Pashinian"


def test_keep_and_limit_choose_the_documents_read(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", DOCS)
    kept = pipeline_examples(path, source="n", keep=lambda i: i != "story_1_a")
    assert {e.doc_id for e in kept} == {"story_2_a"}
    assert {e.doc_id for e in pipeline_examples(path, source="n", limit=1)} == {"story_1_a"}


def test_a_recipes_held_out_documents_are_not_read(tmp_path: Path) -> None:
    from stancekit.training.sets import load_training_sets

    docs = [
        {"id": f"story_{i}_x", "text": f"Zas{i} praised the CSTO.", "spans": []} for i in range(40)
    ]
    _write(tmp_path / "t.jsonl", docs)
    spec = dict(file="t.jsonl", holdout_fraction=0.3, holdout_key=r"^story_(\d+)")
    labelled = DatasetSpec("lab", **spec)  # type: ignore[arg-type]
    labelled_docs = [
        {**d, "spans": [{"start": 0, "end": len(d["text"]), "target": "CSTO", "stance": "favor"}]}
        for d in docs
    ]
    _write(tmp_path / "t.jsonl", labelled_docs)
    cfg = RecipeConfig(
        datasets=(labelled, DatasetSpec("raw", format="pipeline", **spec)),  # type: ignore[arg-type]
        design="packed",
        distill_from="teacher",
        augment_role_holders=0.0,
        augment_reported_speech=0.0,
        work_dir=str(tmp_path / "w"),
    )
    rows, held, _ = load_training_sets(cfg, tmp_path)
    raw_docs = {e.doc_id for e, _ in rows if e.source == "raw"}
    lab_docs = {e.doc_id for e, _ in rows if e.source == "lab"}
    held_docs = {e.doc_id for e in held["lab_heldout"]}
    assert held_docs and raw_docs == lab_docs  # every training text, and only those
    assert not raw_docs & held_docs
    assert "raw_heldout" not in held
    assert all(e.stance is None for e, _ in rows if e.source == "raw")


def test_unlabelled_rows_learn_the_teacher_alone() -> None:
    torch.manual_seed(0)
    logits = torch.randn(3, 6)
    teacher = torch.softmax(torch.randn(3, 6).view(3, 2, 3), -1).view(3, 6)
    st = torch.tensor([0, -100, -100])
    se = torch.tensor([-100, -100, 2])
    only = torch.tensor([False, True, False])
    base = masked_two_head_loss(logits, st, se, teacher=teacher, alpha=0.5)
    with_only = masked_two_head_loss(logits, st, se, teacher=teacher, alpha=0.5, teacher_only=only)
    # row 1 joins both heads' means, with the teacher as its whole target
    logp_st = torch.log_softmax(logits[:, :3], -1)
    logp_se = torch.log_softmax(logits[:, 3:], -1)
    t0 = 0.5 * torch.nn.functional.one_hot(torch.tensor(0), 3) + 0.5 * teacher[0, :3]
    t2 = 0.5 * torch.nn.functional.one_hot(torch.tensor(2), 3) + 0.5 * teacher[2, 3:]
    stance = (-(t0 * logp_st[0]).sum() - (teacher[1, :3] * logp_st[1]).sum()) / 2
    sentiment = (-(t2 * logp_se[2]).sum() - (teacher[1, 3:] * logp_se[1]).sum()) / 2
    torch.testing.assert_close(with_only, stance + sentiment)
    assert not torch.isclose(base, with_only)
    # without a teacher, a row with no label adds nothing
    plain = masked_two_head_loss(logits, st, se)
    torch.testing.assert_close(masked_two_head_loss(logits, st, se, teacher_only=only), plain)


def test_a_labelled_rows_loss_is_unchanged_by_the_mask() -> None:
    logits = torch.randn(2, 6)
    st, se = torch.tensor([1, 2]), torch.tensor([0, -100])
    teacher = torch.full((2, 6), 1 / 3)
    none = torch.tensor([False, False])
    torch.testing.assert_close(
        masked_two_head_loss(logits, st, se, teacher=teacher, alpha=0.3, teacher_only=none),
        masked_two_head_loss(logits, st, se, teacher=teacher, alpha=0.3),
    )


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        ({"design": "pair", "distill_from": "t"}, "need design='packed' and distill_from"),
        ({"design": "packed"}, "distill_from=None"),
    ],
)
def test_unlabelled_sets_need_a_packed_student_and_a_teacher(
    extra: dict[str, Any], match: str
) -> None:
    with pytest.raises(RecipeError, match=match):
        RecipeConfig(datasets=(DatasetSpec("raw", "t.jsonl", format="pipeline"),), **extra)


def test_unlabelled_sets_hold_out_documents_only() -> None:
    with pytest.raises(RecipeError, match="holdout_group='target' must be 'doc'"):
        DatasetSpec("raw", "t.jsonl", format="pipeline", holdout_group="target")


def test_a_pair_the_teacher_did_not_score_learns_its_label_alone() -> None:
    torch.manual_seed(1)
    logits = torch.randn(2, 6)
    st, se = torch.tensor([1, 2]), torch.tensor([0, -100])
    teacher = torch.softmax(torch.randn(2, 6).view(2, 2, 3), -1).view(2, 6)
    teacher[1] = float("nan")
    got = masked_two_head_loss(logits, st, se, teacher=teacher, alpha=0.4)
    logp_st = torch.log_softmax(logits[:, :3], -1)
    logp_se = torch.log_softmax(logits[:, 3:], -1)
    t0 = 0.6 * torch.nn.functional.one_hot(torch.tensor(1), 3) + 0.4 * teacher[0, :3]
    stance = (-(t0 * logp_st[0]).sum() - logp_st[1, 2]) / 2
    s0 = 0.6 * torch.nn.functional.one_hot(torch.tensor(0), 3) + 0.4 * teacher[0, 3:]
    torch.testing.assert_close(got, stance - (s0 * logp_se[0]).sum())
    # an unscored unlabelled row adds nothing
    only = torch.tensor([False, True])
    st2, se2 = torch.tensor([1, -100]), torch.tensor([0, -100])
    torch.testing.assert_close(
        masked_two_head_loss(logits, st2, se2, teacher=teacher, alpha=0.4, teacher_only=only),
        masked_two_head_loss(logits[:1], st2[:1], se2[:1], teacher=teacher[:1], alpha=0.4),
    )


@pytest.mark.parametrize("design", ["pair", "packed"])
def test_distill_false_needs_a_teacher_in_every_design(design: str) -> None:
    spec = DatasetSpec("lab", "t.jsonl", distill=False)
    with pytest.raises(RecipeError, match=r"distill=False, which only a recipe with distill_from"):
        RecipeConfig(datasets=(spec,), design=design)
    cfg = RecipeConfig(datasets=(spec,), design=design, distill_from="t")
    assert not cfg.datasets[0].distill


def test_an_unlabelled_set_cannot_skip_its_teacher() -> None:
    with pytest.raises(RecipeError, match="distill=False would leave them nothing to learn"):
        DatasetSpec("raw", "t.jsonl", format="pipeline", distill=False)
