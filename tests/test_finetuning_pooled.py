"""Fine-tuning an adapter model (LoRA + marker-pooling head over a pinned base): the
training copy starts exactly where the loaded model is, training moves only the adapter
and head, and the saved folder is an adapter folder that predicts like the trained model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import TINY_BASE
from test_finetuning import FAST, PROBE, PROBE_TARGETS, make_docs, probe_at_save

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_adapter_dir(tmp_path_factory: pytest.TempPathFactory, tiny_base: Path) -> Path:
    """An adapter model folder over the tiny pinned base: LoRA (r=4) on layers 1-2 with
    random, non-zero weights, and a marker-pooling head."""
    import torch
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
    from transformers import AutoTokenizer

    from stancekit.scoring.bases import base_weights_sha256, resolve_base
    from stancekit.scoring.model import ModelConfig, StanceModel
    from stancekit.scoring.pairmodel import MarkerPairClassifier, PairHead, load_base_encoder
    from stancekit.training.adapter import lora_target_regex

    torch.manual_seed(3)
    encoder = load_base_encoder(TINY_BASE)
    lcfg = LoraConfig(r=4, lora_alpha=8, target_modules=lora_target_regex(1, 3), bias="none")
    peft_encoder = get_peft_model(encoder, lcfg)
    with torch.no_grad():
        for n, p in peft_encoder.named_parameters():
            if "lora_B" in n:
                p.normal_(0.0, 0.5)  # PEFT starts B at zero: make the adapter matter
    weights = {k: v.clone() for k, v in get_peft_model_state_dict(peft_encoder).items()}
    acfg = json.loads(json.dumps(peft_encoder.peft_config["default"].to_dict(), default=list))
    model = MarkerPairClassifier(peft_encoder.merge_and_unload(), PairHead(16, 6))
    model.adapter_config, model.adapter_weights = acfg, weights
    adapter = {
        "base": TINY_BASE,
        "base_version": "0.0.1",
        "base_weights_sha256": base_weights_sha256(TINY_BASE),
        "pooling": "markers",
    }
    cfg = ModelConfig(name="tiny-adapter", version="0.0.1", max_length=64, adapter=adapter)
    tok = AutoTokenizer.from_pretrained(resolve_base(TINY_BASE), local_files_only=True)
    out = tmp_path_factory.mktemp("adapter") / "tiny-adapter"
    StanceModel(model.eval(), tok, cfg, device="cpu").save(out)
    return out


def _pairs() -> list:  # type: ignore[type-arg]
    from stancekit.scoring.model import PairInput

    return [
        PairInput("Alice praised Boris.", "Alice", "Boris", (0, 5), (14, 19)),
        PairInput("Boris condemned Chen at length.", "Boris", "Chen", (0, 5), (16, 20)),
    ]


def test_the_training_copy_starts_where_the_loaded_adapter_model_is(
    tiny_adapter_dir: Path,
) -> None:
    from stancekit.finetuning.pooled import trainable_copy
    from stancekit.scoring.model import StanceModel

    sm = StanceModel.load(tiny_adapter_dir, device="cpu")
    copy = trainable_copy(sm)
    copy.model.eval()
    np.testing.assert_allclose(
        copy.predict(_pairs()).stance, sm.predict(_pairs()).stance, atol=1e-5
    )
    trainable = {n for n, p in copy.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n or n.startswith("head.") for n in trainable)
    assert any(n.startswith("head.") for n in trainable)


def test_a_model_without_an_adapter_is_refused(tiny_model_dir: Path) -> None:
    from stancekit.finetuning.pooled import trainable_copy
    from stancekit.scoring.model import StanceModel

    with pytest.raises(ValueError, match="is not an adapter model"):
        trainable_copy(StanceModel.load(tiny_model_dir, device="cpu"))


def test_finetune_trains_an_adapter_model_and_saves_an_adapter_folder(
    tmp_path: Path, tiny_adapter_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from safetensors.torch import load_file

    from stancekit.analyzer import StanceAnalyzer
    from stancekit.finetuning import finetune
    from stancekit.scoring.model import StanceModel
    from stancekit.spans import write_spans

    train = tmp_path / "train.jsonl"
    write_spans(train, make_docs(30))
    before = probe_at_save(monkeypatch)
    out = tmp_path / "tuned"
    args = {**FAST, "learning_rate": 1e-2}
    result = finetune(train, base=tiny_adapter_dir, out=out, quiet=True, **args)
    assert result.metrics["stance"] is not None
    names = {p.name for p in out.iterdir()}
    assert {"adapter_model.safetensors", "head.safetensors", "stancekit.json"} <= names
    assert "model.safetensors" not in names  # the base stays pinned, not copied
    cfg = json.loads((out / "stancekit.json").read_text())
    assert cfg["adapter"]["base"] == TINY_BASE
    old = load_file(str(tiny_adapter_dir / "adapter_model.safetensors"))
    new = load_file(str(out / "adapter_model.safetensors"))
    assert old.keys() == new.keys()
    assert any(not np.allclose(old[k].float(), new[k].float(), atol=1e-4) for k in old)
    # the saved folder predicts as the trained model did just before saving
    loaded = StanceModel.load(out, device="cpu")
    assert loaded.pooled
    after = StanceAnalyzer(model=loaded, targets=PROBE_TARGETS).analyze(PROBE, id="probe")
    got = [dict(j.stance_probs) for j in after.judgements]
    assert len(got) == len(before["stance"]) > 0
    for a, b in zip(before["stance"], got, strict=True):
        np.testing.assert_allclose([a[k] for k in a], [b[k] for k in a], atol=1e-4)
