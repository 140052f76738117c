"""Checks of the committed default model (models/stancekit-minilm): it loads, agrees with
plain transformers, and reads the seed article the way a reader does."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stancekit.scoring.model import CONFIG_NAME, PairInput, StanceModel, default_model_path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (default_model_path() / CONFIG_NAME).exists(), reason="default model not built"
    ),
]

PAIRS = [
    PairInput("Zas praised the CSTO for its help.", "Zas", "CSTO", (0, 3), (16, 20)),
    PairInput("Khachatrian condemned Azerbaijan.", "Khachatrian", "Azerbaijan", (0, 11), (22, 32)),
    PairInput("The summit was held in Yerevan.", None, "CSTO"),
]


@pytest.fixture(scope="module")
def model() -> StanceModel:
    return StanceModel.load(default_model_path(), device="cpu")


def test_plain_transformers_gives_the_same_probabilities(model: StanceModel) -> None:
    if model.packed:
        pytest.skip("a packed model has no plain-transformers form (its card shows stancekit)")
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    path = default_model_path()
    cfg = json.loads((path / CONFIG_NAME).read_text())
    hf = AutoModelForSequenceClassification.from_pretrained(path).float().eval()
    tok = AutoTokenizer.from_pretrained(path)
    texts = [model.config.template.format(p) for p in PAIRS]
    enc = tok([a for a, _ in texts], [b for _, b in texts], padding=True, return_tensors="pt")
    with torch.inference_mode():
        logits = hf(**enc).logits.numpy()
    st = torch.softmax(torch.tensor(logits[:, :3]) / cfg["temperature_stance"], -1).numpy()
    se = torch.softmax(torch.tensor(logits[:, 3:]) / cfg["temperature_sentiment"], -1).numpy()
    ours = model.predict(PAIRS)
    np.testing.assert_allclose(ours.stance, st, atol=1e-4)
    np.testing.assert_allclose(ours.sentiment, se, atol=1e-4)


SHORT = (
    "Nikol Pashinian said the CSTO failed Armenia, that Azerbaijan attacked it, and that "
    "France, Russia and Belarus said little."
)
LONG = (
    "Nikol Pashinian said on Monday that the CSTO had failed Armenia, that Azerbaijan had "
    "attacked Armenian territory, and that France, Russia and Belarus "
    + "had said little about it, " * 14
    + "while the CSTO kept silent."
)


@pytest.mark.parametrize("n_targets", [1, 2, 5, "windowed"])
def test_one_pass_gives_each_pair_what_it_gets_scored_alone(
    model: StanceModel, n_targets: int | str
) -> None:
    if not model.packed:
        pytest.skip("the shipped default scores each pair alone already")
    names = ["CSTO", "Azerbaijan", "France", "Russia", "Belarus"]
    text = LONG if n_targets == "windowed" else SHORT
    names = names if n_targets == "windowed" else names[: int(n_targets)]
    holder = (0, len("Nikol Pashinian"))
    pairs = [
        PairInput(text, "Nikol Pashinian", t, holder, (text.index(t), text.index(t) + len(t)))
        for t in names
    ]
    together = model.predict(pairs)
    assert together.windowed.all() == (n_targets == "windowed")
    for i, p in enumerate(pairs):
        alone = model.predict([p])
        np.testing.assert_allclose(together.stance[i], alone.stance[0], atol=1e-4)
        np.testing.assert_allclose(together.sentiment[i], alone.sentiment[0], atol=1e-4)


def test_clear_cases_get_the_obvious_stance(model: StanceModel) -> None:
    scores = model.predict(PAIRS)
    favor, against = 0, 1
    assert scores.stance[0, favor] > scores.stance[0, against]
    assert scores.stance[1, against] > scores.stance[1, favor]


SEED_EXPECTED = [
    ("Armen Khachatrian", "CSTO", "against"),
    ("Armen Khachatrian", "Azerbaijan", "against"),
    ("Nikol Pashinian", "Azerbaijan", "against"),
    ("Stanislav Zas", "CSTO", "favor"),
]


@pytest.mark.xfail(
    strict=True,
    reason="issue 4 target not reached: with the evidence-sum summary the default model "
    "(0.4.0, as 0.3.0 and 1.0) gets 3 of 4; Zas -> CSTO has 0.52 expected favor sentences, "
    "under 0.75 (see its model card); strict, so this test fails once the summary holds and "
    "the marker must go",
)
def test_seed_summary_reads_like_the_article() -> None:
    from pathlib import Path

    from stancekit import StanceAnalyzer

    seed = Path(__file__).resolve().parents[1] / "seeds" / "csto-armenia-2022-11-28.txt"
    rows = StanceAnalyzer().analyze(seed.read_text(encoding="utf-8")).summary().rows
    got = {(r.holder, r.target): r.stance for r in rows}
    wrong = {(h, t): got.get((h, t)) for h, t, want in SEED_EXPECTED if got.get((h, t)) != want}
    assert not wrong, f"seed summary differs from the article: {wrong}; all rows: {got}"
