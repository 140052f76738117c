"""The recipe's two-head loss (stancekit.training.trainer.masked_two_head_loss)."""

from __future__ import annotations

import pytest
import torch

from stancekit.training.trainer import masked_two_head_loss

LOGITS = torch.tensor(
    [[2.0, -1.0, 0.5, 0.1, 0.3, -0.2], [0.0, 1.5, -0.5, 1.0, -1.0, 0.0]], requires_grad=True
)
STANCE = torch.tensor([0, -100])
SENTIMENT = torch.tensor([-100, 2])


def _plain() -> torch.Tensor:
    ce = torch.nn.functional.cross_entropy
    return ce(LOGITS[:1, :3], STANCE[:1]) + ce(LOGITS[1:, 3:], SENTIMENT[1:])


def test_the_loss_is_the_cross_entropy_of_each_head_over_its_labelled_rows() -> None:
    assert masked_two_head_loss(LOGITS, STANCE, SENTIMENT).item() == pytest.approx(
        _plain().item(), rel=1e-6
    )


@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_a_teacher_that_agrees_with_the_labels_leaves_the_loss_unchanged(alpha: float) -> None:
    teacher = torch.zeros(2, 6)
    teacher[0, 0] = teacher[1, 5] = 1.0  # the gold labels, one-hot
    teacher[0, 3:] = teacher[1, :3] = 1 / 3  # heads without a label: ignored
    got = masked_two_head_loss(LOGITS, STANCE, SENTIMENT, teacher=teacher, alpha=alpha)
    assert got.item() == pytest.approx(_plain().item(), rel=1e-6)


def test_the_teacher_share_moves_the_target_toward_the_teachers_probabilities() -> None:
    teacher = torch.full((2, 6), 1 / 3)
    teacher[0, :3] = torch.tensor([0.0, 1.0, 0.0])  # the teacher says "against" for row 0
    losses = [
        masked_two_head_loss(LOGITS, STANCE, SENTIMENT, teacher=teacher, alpha=a).item()
        for a in (0.0, 0.5, 1.0)
    ]
    st = torch.log_softmax(LOGITS.detach()[:, :3], dim=-1)  # each head its own softmax
    se = torch.log_softmax(LOGITS.detach()[:, 3:], dim=-1)
    # alpha=1: the stance row is trained on the teacher's label only, the sentiment row on
    # the uniform teacher: cross-entropy against those targets
    full = -st[0, 1] - se[1].mean()
    assert losses[2] == pytest.approx(full.item(), rel=1e-6)
    assert losses[1] == pytest.approx((losses[0] + losses[2]) / 2, rel=1e-6)  # linear in alpha


def test_the_distilled_loss_has_gradients_toward_the_teacher() -> None:
    logits = torch.zeros(1, 6, requires_grad=True)
    teacher = torch.tensor([[0.2, 0.8, 0.0, 1 / 3, 1 / 3, 1 / 3]])
    loss = masked_two_head_loss(
        logits, torch.tensor([0]), torch.tensor([-100]), teacher=teacher, alpha=0.5
    )
    loss.backward()  # type: ignore[no-untyped-call]
    assert logits.grad is not None
    g = logits.grad[0]
    # target (0.6, 0.4, 0) against softmax (1/3, 1/3, 1/3): raise favor and against, lower none
    assert g[0] < 0 and g[1] < 0 and g[2] > 0
    assert torch.all(g[3:] == 0)


def test_each_head_takes_its_own_teacher_share() -> None:
    teacher = torch.full((2, 6), 1 / 3)
    ce = torch.nn.functional.cross_entropy
    # stance on its label alone, sentiment on the teacher alone (learning without forgetting)
    soft = -(teacher[1, 3:] * torch.log_softmax(LOGITS[1, 3:], dim=-1)).sum()
    want = ce(LOGITS[:1, :3], STANCE[:1]) + soft
    got = masked_two_head_loss(LOGITS, STANCE, SENTIMENT, teacher=teacher, alpha=(0.0, 1.0))
    assert got.item() == pytest.approx(want.item(), rel=1e-6)
    pair = masked_two_head_loss(LOGITS, STANCE, SENTIMENT, teacher=teacher, alpha=(0.5, 0.5))
    one = masked_two_head_loss(LOGITS, STANCE, SENTIMENT, teacher=teacher, alpha=0.5)
    assert pair.item() == pytest.approx(one.item(), rel=1e-6)
